import { randomBytes } from 'node:crypto';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  ConfigurationError,
  type Database,
  type DatabaseTarget,
  findModule,
  inRequestScope,
  type ModuleActor,
  openSession,
  parseServiceKey,
  SERVICE_KEY_PREFIX,
  type SessionCredential,
  type SessionOrigin,
  UnauthorizedError,
} from '@huddle/db';
import { createSigner, createVerifier, TokenError } from 'fast-jwt';
import { z } from 'zod';

/** Who a token is for: the module, and the subject the module's ActorSpec parses into its actor. */
export interface TokenSubject {
  module: string;
  subject: string;
}

/** What a token says: who, and the session it belongs to (`huddle.sessions`), which every request checks. */
export interface TokenClaims extends TokenSubject {
  sessionId: string;
}

/**
 * A bearer credential, verified as far as it can be without the database: an access token (signature,
 * expiry) or a service key (its form). The request's first statement checks `session` against its row.
 */
export interface BearerClaims extends TokenSubject {
  session: SessionCredential;
  /** A read-only service key: queries and subscriptions only. */
  readOnly: boolean;
  /** When the access token expires (epoch milliseconds); absent for a service key (its row says). */
  expiresAt?: number;
}

const ISSUER = 'huddle';
const SECRET_FILE = 'huddle-secret';
const MIN_SECRET_LENGTH = 32;
const DEFAULT_TTL = '12h';
/** How far a signer's clock may run ahead of ours before a token "issued in the future" is refused. */
const CLOCK_SKEW_SECONDS = 30;

const claimsSchema = z.object({
  sub: z.string().min(1),
  mod: z.string().min(1),
  sid: z.uuid(),
  exp: z.number(),
  iat: z.number(),
});
const MILLISECONDS_PER_UNIT = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
/** A token's lifetime (`30m`, `12h`, `7d`) in milliseconds. */
const ttlSchema = z
  .string()
  .regex(/^[1-9]\d*\s*(s|m|h|d|w)$/, 'must be a positive duration such as 30m, 12h or 7d')
  .transform((ttl) => {
    const [, amount, unit] = ttl.match(/^(\d+)\s*(\w)$/)!;
    return Number(amount) * MILLISECONDS_PER_UNIT[unit as keyof typeof MILLISECONDS_PER_UNIT];
  })
  .describe('ttl');

/**
 * The HMAC secret tokens are signed with: HUDDLE_SECRET, or in embedded mode one generated on first use
 * and kept in the data directory so tokens survive restarts. A server deployment must set HUDDLE_SECRET.
 */
export async function resolveSecret(
  target: DatabaseTarget,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Uint8Array> {
  const fromEnv = env.HUDDLE_SECRET;
  if (fromEnv) {
    if (fromEnv.length < MIN_SECRET_LENGTH) {
      throw new ConfigurationError(`HUDDLE_SECRET: must be at least ${MIN_SECRET_LENGTH} characters`);
    }
    return new TextEncoder().encode(fromEnv);
  }
  if (target.kind === 'postgresql') {
    throw new ConfigurationError(
      'HUDDLE_SECRET: must be set when DATABASE_URL is set (tokens are signed with it)',
    );
  }
  const file = path.join(target.dataDir, SECRET_FILE);
  try {
    return new TextEncoder().encode((await readFile(file, 'utf8')).trim());
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    const secret = randomBytes(48).toString('base64url');
    // `wx` fails if another process created it meanwhile; then read theirs.
    await writeFile(file, secret, { flag: 'wx', mode: 0o600 }).catch(async () => undefined);
    await chmod(file, 0o600);
    return new TextEncoder().encode((await readFile(file, 'utf8')).trim());
  }
}

/** A lifetime such as `30m`, `12h` or `7d` in milliseconds; anything else is a ConfigurationError naming `ttl`. */
export function parseTtl(ttl: string): number {
  const parsed = ttlSchema.safeParse(ttl);
  if (!parsed.success) throw new ConfigurationError(`ttl: ${parsed.error.issues[0]!.message}`);
  return parsed.data;
}

/**
 * Signs an access token for `claims`, expiring after `ttl` (`30m`, `12h`, `7d`, or milliseconds). Callers
 * have already parsed the subject with the module's ActorSpec and opened the session the token names: a
 * token never names an actor its module would refuse.
 */
export async function issueToken(
  secret: Uint8Array,
  claims: TokenClaims,
  ttl: string | number = DEFAULT_TTL,
): Promise<{ token: string; expiresAt: string }> {
  const sign = createSigner({
    key: Buffer.from(secret),
    algorithm: 'HS256',
    iss: ISSUER,
    sub: claims.subject,
    expiresIn: typeof ttl === 'number' ? ttl : parseTtl(ttl),
  });
  const token = sign({ mod: claims.module, sid: claims.sessionId });
  const { exp } = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { exp: number };
  return { token, expiresAt: new Date(exp * 1000).toISOString() };
}

/** Signs an access token of session `sessionId` for `actor` of the module whose ActorSpec renders it. */
export function issueActorToken<Actor extends ModuleActor>(
  secret: Uint8Array,
  spec: { subject(actor: Actor): string },
  actor: Actor,
  sessionId: string,
  ttl?: string | number,
): Promise<{ token: string; expiresAt: string }> {
  return issueToken(secret, { module: actor.module, subject: spec.subject(actor), sessionId }, ttl);
}

/**
 * Opens a session without a refresh token that lasts `ttl`, and signs its one access token, as long-lived:
 * what `huddle token issue`, the embedded server's banner, benchmarks and tests hand out. It is listed and
 * revoked like any session. The subject must already be checked (`loadActor`).
 */
export async function issueSessionToken(
  db: Database,
  secret: Uint8Array,
  who: TokenSubject,
  ttl: string = DEFAULT_TTL,
  origin: SessionOrigin = {},
): Promise<{ token: string; expiresAt: string; sessionId: string }> {
  const lifetimeMs = parseTtl(ttl);
  const module = findModule(db.modules, who.module);
  const session = await inRequestScope(db.orm, (em) =>
    openSession(em, module, who.subject, { ...origin, lifetimeMs, refresh: false }),
  );
  const issued = await issueToken(secret, { ...who, sessionId: session.id }, lifetimeMs);
  return { ...issued, sessionId: session.id };
}

type Verify = (token: string) => unknown;

/**
 * How many verified tokens each verifier remembers (least recently used first out). Decoding a token and
 * checking its HMAC took about 4% of a read request's CPU in the API's profile (bench/README.md), a
 * remembered token's hash about a third of that; a token is sent again and again until it expires, and the
 * same bytes always verify the same way.
 */
const VERIFIED_TOKENS_CACHED = 10_000;

/**
 * Each secret's verifier, built once. It checks the HMAC synchronously with node:crypto: WebCrypto's
 * asynchronous verify (jose's) went through libuv's thread pool and back, which cost a tenth of a read
 * request's CPU. A verified token is remembered under a hash of its text (fast-jwt's cache) until it expires
 * (`exp`, with the clock skew) or for ten minutes at most, a refused one for the clock skew. What it proves
 * is only who signed it: whether its session is live is still checked by every request's first statement.
 */
const verifiers = new WeakMap<Uint8Array, Verify>();

function verifierFor(secret: Uint8Array): Verify {
  let verify = verifiers.get(secret);
  if (!verify) {
    verify = createVerifier({
      key: Buffer.from(secret),
      algorithms: ['HS256'],
      allowedIss: ISSUER,
      requiredClaims: ['iss', 'exp', 'iat', 'sub'],
      clockTolerance: CLOCK_SKEW_SECONDS * 1000,
      cache: VERIFIED_TOKENS_CACHED,
    });
    verifiers.set(secret, verify);
  }
  return verify;
}

/** The refusal of an expired access token; the typed client refreshes when it reads it (`TOKEN_EXPIRED_MESSAGE`). */
export const TOKEN_EXPIRED_MESSAGE =
  'authorization: token has expired; refresh it (auth.refresh) or sign in again';

/**
 * Verifies an access token: signature, a required `iss` that is ours, a required `exp` that has not passed,
 * an `iat` not in the future and the session it belongs to (`sid`). Anything wrong is an UnauthorizedError
 * saying what, never more.
 */
export function verifyToken(secret: Uint8Array, token: string): TokenClaims & { expiresAt: number } {
  let payload: unknown;
  try {
    payload = verifierFor(secret)(token);
  } catch (error) {
    if (error instanceof TokenError && error.code === TokenError.codes.expired)
      throw new UnauthorizedError(TOKEN_EXPIRED_MESSAGE);
    throw new UnauthorizedError('authorization: token is invalid');
  }
  const claims = claimsSchema.safeParse(payload);
  if (!claims.success) throw new UnauthorizedError('authorization: token is invalid');
  if (claims.data.iat > Date.now() / 1000 + CLOCK_SKEW_SECONDS) {
    throw new UnauthorizedError('authorization: token is issued in the future');
  }
  return {
    module: claims.data.mod,
    subject: claims.data.sub,
    sessionId: claims.data.sid,
    expiresAt: claims.data.exp * 1000,
  };
}

/**
 * A bearer credential's claims: a service key (`hk_…`, sessions.ts) or an access token (`verifyToken`).
 * Either names a row of `huddle.sessions`, which the request's first statement checks.
 */
export function verifyBearer(secret: Uint8Array, credential: string): BearerClaims {
  if (credential.startsWith(SERVICE_KEY_PREFIX)) {
    const key = parseServiceKey(credential);
    return {
      module: key.module,
      subject: key.subject,
      session: { id: key.id, secretHash: key.secretHash, readOnly: key.readOnly },
      readOnly: key.readOnly,
    };
  }
  const token = verifyToken(secret, credential);
  return {
    module: token.module,
    subject: token.subject,
    session: { id: token.sessionId },
    readOnly: false,
    expiresAt: token.expiresAt,
  };
}
