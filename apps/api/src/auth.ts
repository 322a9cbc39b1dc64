import { randomBytes } from 'node:crypto';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type Actor, ConfigurationError, type DatabaseTarget, UnauthorizedError } from '@huddle/db';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { z } from 'zod';

/** Who a request acts as: a user of one module, from a signed, expiring bearer token. */
export interface TokenActor extends Actor {
  module: string;
}

const ISSUER = 'huddle';
const SECRET_FILE = 'huddle-secret';
const MIN_SECRET_LENGTH = 32;
const DEFAULT_TTL = '12h';

const claimsSchema = z.object({ sub: z.string().min(1), mod: z.string().min(1) });
const ttlSchema = z
  .string()
  .regex(/^\d+\s*(s|m|h|d|w)$/, 'must be a duration such as 30m, 12h or 7d')
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

/** Signs a token for `userId` in `module`, expiring after `ttl` (e.g. `30m`, `12h`, `7d`). */
export async function issueToken(
  secret: Uint8Array,
  actor: TokenActor,
  ttl: string = DEFAULT_TTL,
): Promise<{ token: string; expiresAt: string }> {
  const parsedTtl = ttlSchema.safeParse(ttl);
  if (!parsedTtl.success) throw new ConfigurationError(`ttl: ${parsedTtl.error.issues[0]!.message}`);
  const token = await new SignJWT({ mod: actor.module })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(actor.userId)
    .setIssuer(ISSUER)
    .setIssuedAt()
    .setExpirationTime(parsedTtl.data.replace(/\s+/g, ''))
    .sign(secret);
  const { exp } = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { exp: number };
  return { token, expiresAt: new Date(exp * 1000).toISOString() };
}

/** Verifies a bearer token; an invalid or expired one is an UnauthorizedError saying which. */
export async function verifyToken(secret: Uint8Array, token: string): Promise<TokenActor> {
  try {
    const { payload } = await jwtVerify(token, secret, { issuer: ISSUER, algorithms: ['HS256'] });
    const claims = claimsSchema.parse(payload);
    return { module: claims.mod, userId: claims.sub };
  } catch (error) {
    if (error instanceof joseErrors.JWTExpired)
      throw new UnauthorizedError('authorization: token has expired');
    throw new UnauthorizedError('authorization: token is invalid');
  }
}
