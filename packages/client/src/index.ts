export {
  createHuddleClient,
  type HuddleClient,
  type HuddleClientOptions,
  type HuddleCredential,
  type HuddleModule,
  type HuddleSession,
  type HuddleTokens,
  ReadPosition,
} from './client.ts';
export { isHuddleClientError } from './errors.ts';
export type { AppRouter, RouterInputs, RouterOutputs } from './router.ts';
