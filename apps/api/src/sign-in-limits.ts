import { createHash } from 'node:crypto';
import { ConfigurationError, type Database } from '@huddle/db';
import pg from 'pg';
import {
  type RateLimiterAbstract,
  RateLimiterMemory,
  RateLimiterPostgres,
  RateLimiterRes,
} from 'rate-limiter-flexible';
import { z } from 'zod';
import { logger } from './logger.ts';

/** How many sign-in attempts a caller gets per window: per identity (the email) and per client address. */
export interface SignInLimits {
  perIdentity: number;
  perAddress: number;
  windowSeconds: number;
}

export const DEFAULT_SIGN_IN_LIMITS: SignInLimits = { perIdentity: 10, perAddress: 30, windowSeconds: 60 };

const limitsSchema = z.object({
  HUDDLE_SIGNIN_LIMIT_PER_IDENTITY: z.coerce
    .number()
    .int()
    .positive()
    .default(DEFAULT_SIGN_IN_LIMITS.perIdentity),
  HUDDLE_SIGNIN_LIMIT_PER_ADDRESS: z.coerce
    .number()
    .int()
    .positive()
    .default(DEFAULT_SIGN_IN_LIMITS.perAddress),
  HUDDLE_SIGNIN_WINDOW_SECONDS: z.coerce
    .number()
    .int()
    .positive()
    .default(DEFAULT_SIGN_IN_LIMITS.windowSeconds),
});

export function signInLimitsFromEnv(env: NodeJS.ProcessEnv = process.env): SignInLimits {
  const parsed = limitsSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigurationError(`${issue.path.join('.')}: ${issue.message}`);
  }
  return {
    perIdentity: parsed.data.HUDDLE_SIGNIN_LIMIT_PER_IDENTITY,
    perAddress: parsed.data.HUDDLE_SIGNIN_LIMIT_PER_ADDRESS,
    windowSeconds: parsed.data.HUDDLE_SIGNIN_WINDOW_SECONDS,
  };
}

/** A sign-in refused for going over a limit; `retryAfterSeconds` says when the next attempt is counted again. */
export class SignInRateLimitedError extends Error {
  readonly limit: 'identity' | 'address';
  readonly retryAfterSeconds: number;
  constructor(limit: 'identity' | 'address', retryAfterSeconds: number) {
    super(`too many sign-in attempts for this ${limit}: retry in ${retryAfterSeconds} s`);
    this.limit = limit;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export interface SignInLimiter {
  /** Counts one sign-in attempt; throws SignInRateLimitedError when the address or the identity is over its limit. */
  attempt(address: string, identity: string | undefined): Promise<void>;
  close(): Promise<void>;
}

/** Where the counters of all API processes live on PostgreSQL, beside (never inside) the modules' schemas. */
const STORE_SCHEMA = 'huddle_api';
const STORE_TABLE = 'sign_in_attempts';

/**
 * The sign-in limiter every API process on `db` shares. On PostgreSQL the counters live in
 * `huddle_api.sign_in_attempts` (rate-limiter-flexible's RateLimiterPostgres, on a small pool of its own),
 * so a caller who spreads attempts over processes behind a load balancer meets the same limit; should that
 * store fail, each process falls back to counting in memory (the library's insurance limiter) rather than
 * refusing every sign-in. On the embedded database, one process holds the data directory (its lock), so
 * that process's memory is the store every process shares.
 */
export async function createSignInLimiter(db: Database, limits: SignInLimits): Promise<SignInLimiter> {
  const memory = (prefix: string, points: number) =>
    new RateLimiterMemory({ keyPrefix: prefix, points, duration: limits.windowSeconds });
  if (db.target.kind === 'pglite') {
    return limiterOver(
      memory('address', limits.perAddress),
      memory('identity', limits.perIdentity),
      async () => {},
    );
  }
  const pool = new pg.Pool({ connectionString: db.target.url, max: 2 });
  // An idle client whose connection drops (a database restart) is reported here; unheard, the 'error'
  // event would end the process. The pool has already discarded that client.
  pool.on('error', (error) => logger.warn({ err: error }, 'sign-in limit store: a connection was lost'));
  try {
    await pool.query(`create schema if not exists ${STORE_SCHEMA}`).catch((error: { code?: string }) => {
      // Two processes starting together: the other one created it.
      if (error.code !== '23505') throw error;
    });
    const store = async (prefix: string, points: number) => {
      const limiter = await new Promise<RateLimiterPostgres>((resolve, reject) => {
        const created: RateLimiterPostgres = new RateLimiterPostgres(
          {
            storeClient: pool,
            storeType: 'pool',
            schemaName: STORE_SCHEMA,
            tableName: STORE_TABLE,
            keyPrefix: prefix,
            points,
            duration: limits.windowSeconds,
            insuranceLimiter: memory(prefix, points),
          },
          (error?: Error) => (error ? reject(error) : resolve(created)),
        );
      });
      return limiter;
    };
    const address = await store('address', limits.perAddress);
    const identity = await store('identity', limits.perIdentity);
    return limiterOver(address, identity, () => pool.end());
  } catch (error) {
    await pool.end();
    throw error;
  }
}

function limiterOver(
  address: RateLimiterAbstract,
  identity: RateLimiterAbstract,
  close: () => Promise<void>,
): SignInLimiter {
  const consume = async (limiter: RateLimiterAbstract, kind: 'identity' | 'address', key: string) => {
    try {
      await limiter.consume(key);
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) {
        throw new SignInRateLimitedError(kind, Math.max(1, Math.ceil(rejection.msBeforeNext / 1000)));
      }
      throw rejection;
    }
  };
  return {
    async attempt(clientAddress, clientIdentity) {
      await consume(address, 'address', clientAddress);
      // Hashed: the counters never hold an email, and any identity fits the store's key column.
      if (clientIdentity !== undefined)
        await consume(identity, 'identity', createHash('sha256').update(clientIdentity).digest('hex'));
    },
    close,
  };
}
