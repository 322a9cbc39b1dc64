import { randomBytes } from 'node:crypto';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigurationError, type DatabaseTarget, type ModuleActor, UnauthorizedError } from '@huddle/db';
import { createSigner, createVerifier, TokenError } from 'fast-jwt';
import { z } from 'zod';

/** What a token says: the module it is for, and the subject the module's ActorSpec parses into its actor. */
export interface TokenClaims {
  module: string;
  subject: string;
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

/**
 * Signs a token for `claims`, expiring after `ttl` (e.g. `30m`, `12h`, `7d`). Callers have already parsed
 * the subject with the module's ActorSpec: a token never names an actor its module would refuse.
 */
export async function issueToken(
  secret: Uint8Array,
  claims: TokenClaims,
  ttl: string = DEFAULT_TTL,
): Promise<{ token: string; expiresAt: string }> {
  const parsedTtl = ttlSchema.safeParse(ttl);
  if (!parsedTtl.success) throw new ConfigurationError(`ttl: ${parsedTtl.error.issues[0]!.message}`);
  const sign = createSigner({
    key: Buffer.from(secret),
    algorithm: 'HS256',
    iss: ISSUER,
    sub: claims.subject,
    expiresIn: parsedTtl.data,
  });
  const token = sign({ mod: claims.module });
  const { exp } = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { exp: number };
  return { token, expiresAt: new Date(exp * 1000).toISOString() };
}

/** Signs a token for `actor` of the module whose ActorSpec `subject` renders it. */
export function issueActorToken<Actor extends ModuleActor>(
  secret: Uint8Array,
  spec: { subject(actor: Actor): string },
  actor: Actor,
  ttl?: string,
): Promise<{ token: string; expiresAt: string }> {
  return issueToken(secret, { module: actor.module, subject: spec.subject(actor) }, ttl);
}

type Verify = (token: string) => unknown;

/**
 * Each secret's verifier, built once. It checks the HMAC synchronously with node:crypto: WebCrypto's
 * asynchronous verify (jose's) went through libuv's thread pool and back, which cost a tenth of a read
 * request's CPU. Verified tokens are not cached: every request proves its token.
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
      cache: false,
    });
    verifiers.set(secret, verify);
  }
  return verify;
}

/**
 * Verifies a bearer token: signature, a required `iss` that is ours, a required `exp` that has not passed and
 * an `iat` not in the future. Anything wrong is an UnauthorizedError saying what, never more.
 */
export function verifyToken(secret: Uint8Array, token: string): TokenClaims {
  let payload: unknown;
  try {
    payload = verifierFor(secret)(token);
  } catch (error) {
    if (error instanceof TokenError && error.code === TokenError.codes.expired)
      throw new UnauthorizedError('authorization: token has expired');
    throw new UnauthorizedError('authorization: token is invalid');
  }
  const claims = claimsSchema.safeParse(payload);
  if (!claims.success) throw new UnauthorizedError('authorization: token is invalid');
  if (claims.data.iat > Date.now() / 1000 + CLOCK_SKEW_SECONDS) {
    throw new UnauthorizedError('authorization: token is issued in the future');
  }
  return { module: claims.data.mod, subject: claims.data.sub };
}
