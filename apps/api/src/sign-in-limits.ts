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

/**
 * How many sign-in attempts a caller gets. A stranger guessing one account's password meets
 * `perIdentityAndAddress` first; one address trying many accounts meets `perAddress`; guesses for one account
 * spread over many addresses meet `perIdentity`, a slower budget over a longer window that the account's
 * usual addresses (where it signed in before) do not count against, so strangers cannot lock its owner out.
 */
export interface SignInLimits {
  /** Attempts from one address, for any identities, per `windowSeconds`. */
  perAddress: number;
  /** Attempts for one identity (the email) from one address, per `windowSeconds`. */
  perIdentityAndAddress: number;
  /** Attempts for one identity from all addresses it never signed in from, per `identityWindowSeconds`. */
  perIdentity: number;
  windowSeconds: number;
  identityWindowSeconds: number;
}

export const DEFAULT_SIGN_IN_LIMITS: SignInLimits = {
  perAddress: 30,
  perIdentityAndAddress: 10,
  perIdentity: 100,
  windowSeconds: 60,
  identityWindowSeconds: 3600,
};

/** How long an address where an identity signed in stays its usual address: 90 days. */
const USUAL_ADDRESS_SECONDS = 90 * 24 * 3600;
/**
 * The longest a memory counter can last: it expires by a Node timer, and a longer one (90 days) overflows
 * into 1 ms — every usual address forgotten at once. Memory ends with the process anyway.
 */
const LONGEST_MEMORY_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

const limitsSchema = z.object({
  HUDDLE_SIGNIN_LIMIT_PER_IDENTITY_AND_ADDRESS: z.coerce
    .number()
    .int()
    .positive()
    .default(DEFAULT_SIGN_IN_LIMITS.perIdentityAndAddress),
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
  HUDDLE_SIGNIN_IDENTITY_WINDOW_SECONDS: z.coerce
    .number()
    .int()
    .positive()
    .default(DEFAULT_SIGN_IN_LIMITS.identityWindowSeconds),
});

export function signInLimitsFromEnv(env: NodeJS.ProcessEnv = process.env): SignInLimits {
  const parsed = limitsSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigurationError(`${issue.path.join('.')}: ${issue.message}`);
  }
  return {
    perAddress: parsed.data.HUDDLE_SIGNIN_LIMIT_PER_ADDRESS,
    perIdentityAndAddress: parsed.data.HUDDLE_SIGNIN_LIMIT_PER_IDENTITY_AND_ADDRESS,
    perIdentity: parsed.data.HUDDLE_SIGNIN_LIMIT_PER_IDENTITY,
    windowSeconds: parsed.data.HUDDLE_SIGNIN_WINDOW_SECONDS,
    identityWindowSeconds: parsed.data.HUDDLE_SIGNIN_IDENTITY_WINDOW_SECONDS,
  };
}

export type SignInLimit = 'address' | 'identity and address' | 'identity';

const LIMITED: Record<SignInLimit, string> = {
  address: 'from this address',
  'identity and address': 'for this account from this address',
  identity: 'for this account from addresses it never signed in from',
};

/** A sign-in refused for going over a limit; `retryAfterSeconds` says when the next attempt is counted again. */
export class SignInRateLimitedError extends Error {
  readonly limit: SignInLimit;
  readonly retryAfterSeconds: number;
  constructor(limit: SignInLimit, retryAfterSeconds: number) {
    super(`too many sign-in attempts ${LIMITED[limit]}: retry in ${retryAfterSeconds} s`);
    this.limit = limit;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export interface SignInLimiter {
  /** Counts one sign-in attempt; throws SignInRateLimitedError when it is over one of the limits. */
  attempt(address: string, identity: string | undefined): Promise<void>;
  /** Remembers `address` as one of `identity`'s usual addresses (it signed in from there). */
  succeeded(address: string, identity: string): Promise<void>;
  close(): Promise<void>;
}

/** The counters a limiter keeps, each a rate limiter over the shared store. */
interface SignInCounters {
  address: RateLimiterAbstract;
  identityAndAddress: RateLimiterAbstract;
  identity: RateLimiterAbstract;
  /** Marks: a key present is an identity's usual address. */
  usual: RateLimiterAbstract;
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
  const budgets: Record<keyof SignInCounters, { points: number; duration: number }> = {
    address: { points: limits.perAddress, duration: limits.windowSeconds },
    identityAndAddress: { points: limits.perIdentityAndAddress, duration: limits.windowSeconds },
    identity: { points: limits.perIdentity, duration: limits.identityWindowSeconds },
    usual: { points: 1, duration: USUAL_ADDRESS_SECONDS },
  };
  const memory = (prefix: keyof SignInCounters) =>
    new RateLimiterMemory({
      keyPrefix: prefix,
      points: budgets[prefix].points,
      duration: Math.min(budgets[prefix].duration, LONGEST_MEMORY_SECONDS),
    });
  if (db.target.kind === 'pglite')
    return limiterOver(await countersOf(memory), async () => {}, LONGEST_MEMORY_SECONDS);
  const pool = new pg.Pool({ connectionString: db.target.url, max: 2 });
  // An idle client whose connection drops (a database restart) is reported here; unheard, the 'error'
  // event would end the process. The pool has already discarded that client.
  pool.on('error', (error) => logger.warn({ err: error }, 'sign-in limit store: a connection was lost'));
  try {
    await pool.query(`create schema if not exists ${STORE_SCHEMA}`).catch((error: { code?: string }) => {
      // Two processes starting together: the other one created it.
      if (error.code !== '23505') throw error;
    });
    const store = async (prefix: keyof SignInCounters) => {
      const limiter = await new Promise<RateLimiterPostgres>((resolve, reject) => {
        const created: RateLimiterPostgres = new RateLimiterPostgres(
          {
            storeClient: pool,
            storeType: 'pool',
            schemaName: STORE_SCHEMA,
            tableName: STORE_TABLE,
            keyPrefix: prefix,
            ...budgets[prefix],
            insuranceLimiter: memory(prefix),
          },
          (error?: Error) => (error ? reject(error) : resolve(created)),
        );
      });
      return limiter;
    };
    return limiterOver(await countersOf(store), () => pool.end(), USUAL_ADDRESS_SECONDS);
  } catch (error) {
    await pool.end();
    throw error;
  }
}

async function countersOf(
  make: (prefix: keyof SignInCounters) => RateLimiterAbstract | Promise<RateLimiterAbstract>,
): Promise<SignInCounters> {
  return {
    address: await make('address'),
    identityAndAddress: await make('identityAndAddress'),
    identity: await make('identity'),
    usual: await make('usual'),
  };
}

/** Hashed: the counters never hold an email or an address, and any key fits the store's key column. */
function keyOf(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\n')).digest('hex');
}

/** The limiter over `counters`; a usual address is remembered for `usualSeconds`. */
function limiterOver(
  counters: SignInCounters,
  close: () => Promise<void>,
  usualSeconds: number,
): SignInLimiter {
  const consume = async (limiter: RateLimiterAbstract, limit: SignInLimit, key: string) => {
    try {
      await limiter.consume(key);
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) {
        throw new SignInRateLimitedError(limit, Math.max(1, Math.ceil(rejection.msBeforeNext / 1000)));
      }
      throw rejection;
    }
  };
  return {
    async attempt(address, identity) {
      await consume(counters.address, 'address', address);
      if (identity === undefined) return;
      await consume(counters.identityAndAddress, 'identity and address', keyOf(identity, address));
      // The account's usual addresses never spend its shared budget: strangers cannot lock its owner out.
      if ((await counters.usual.get(keyOf(identity, address))) !== null) return;
      await consume(counters.identity, 'identity', keyOf(identity));
    },
    async succeeded(address, identity) {
      await counters.usual.set(keyOf(identity, address), 1, usualSeconds);
    },
    close,
  };
}
