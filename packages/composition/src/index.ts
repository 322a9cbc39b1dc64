/** @huddle/composition: the modules the apps compose, and the tokens that address their actors. */
export { actorSpecOf, domainModules } from './modules.ts';
export {
  type BearerClaims,
  issueActorToken,
  issueSessionToken,
  issueToken,
  parseTtl,
  resolveSecret,
  TOKEN_EXPIRED_MESSAGE,
  type TokenClaims,
  type TokenSubject,
  verifyBearer,
  verifyToken,
} from './tokens.ts';
