export { createHuddleClient, type HuddleClient, type HuddleModule, type HuddleTokens } from './client.ts';
export type { AppRouter, RouterInputs, RouterOutputs } from './router.ts';
