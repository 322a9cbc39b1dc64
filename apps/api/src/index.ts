export {
  createHuddleClient,
  type HuddleClient,
  type HuddleClientOptions,
  type HuddleModule,
  type HuddleTokens,
  ReadPosition,
} from './client.ts';
export type { AppRouter, RouterInputs, RouterOutputs } from './router.ts';
