export { issueToken, resolveSecret, type TokenActor, verifyToken } from './auth.ts';
export { createHuddleClient, type HuddleClient } from './client.ts';
export { domainModules } from './modules.ts';
export type { AppRouter, RouterInputs, RouterOutputs } from './router.ts';
