/** @huddle/composition: the modules the apps compose, and the tokens that address their actors. */
export { actorSpecOf, domainModules } from './modules.ts';
export { issueActorToken, issueToken, resolveSecret, type TokenClaims, verifyToken } from './tokens.ts';
