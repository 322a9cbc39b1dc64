export {
  createHuddleClient,
  type HuddleClient,
  type HuddleClientOptions,
  type HuddleModule,
  type HuddleTokens,
  isHuddleClientError,
  ReadPosition,
} from '@huddle/client';
export type { AppRouter, RouterInputs, RouterOutputs } from './router.ts';
