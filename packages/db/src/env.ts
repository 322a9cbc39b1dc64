import path from 'node:path';
import { z } from 'zod';
import { ConfigurationError } from './errors.ts';

const postgresUrl = z
  .url({ protocol: /^postgres(ql)?$/, error: 'must be a postgres:// or postgresql:// URL' })
  .describe('DATABASE_URL');

const REPLICA_URL_RULE = 'must be comma-separated postgres:// or postgresql:// URLs';

/** `a, b` → `['a', 'b']`; every entry must be a PostgreSQL URL (an empty one too is refused). */
const replicaUrls = z
  .string()
  .transform((value, context) => {
    const urls = value.split(',').map((url) => url.trim());
    if (urls.some((url) => !postgresUrl.safeParse(url).success)) {
      context.addIssue({ code: 'custom', message: REPLICA_URL_RULE });
      return z.NEVER;
    }
    return urls;
  })
  .optional();

const environmentSchema = z.object({
  DATABASE_URL: z.preprocess((value) => (value === '' ? undefined : value), postgresUrl.optional()),
  DATABASE_REPLICA_URLS: z.preprocess((value) => (value === '' ? undefined : value), replicaUrls),
  HUDDLE_DATA_DIR: z.string().min(1).default('.huddle/data'),
  HUDDLE_DB_POOL_MAX: z.coerce.number().int().min(1).max(100).default(10),
});

/**
 * Where the database lives: a PostgreSQL server (and, optionally, streaming replicas of it that serve
 * read-only requests: `replicas.ts`), or the embedded PGlite in a data directory.
 */
export type DatabaseTarget =
  | { kind: 'postgresql'; url: string; poolMax: number; replicaUrls?: readonly string[] }
  | { kind: 'pglite'; dataDir: string };

/** Parses environment variables with `schema`; a bad value throws one ConfigurationError line naming it. */
function parseEnvironment<Schema extends z.ZodType>(
  schema: Schema,
  env: NodeJS.ProcessEnv,
): z.output<Schema> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigurationError(`${issue.path.join('.')}: ${issue.message}`);
  }
  return parsed.data;
}

/** Reads the database target from the environment; a bad value throws one ConfigurationError line. */
export function databaseTargetFromEnv(env: NodeJS.ProcessEnv = process.env): DatabaseTarget {
  const { DATABASE_URL, DATABASE_REPLICA_URLS, HUDDLE_DATA_DIR, HUDDLE_DB_POOL_MAX } = parseEnvironment(
    environmentSchema,
    env,
  );
  if (!DATABASE_URL && DATABASE_REPLICA_URLS) {
    throw new ConfigurationError(
      'DATABASE_REPLICA_URLS: needs DATABASE_URL (replicas stream from a PostgreSQL primary; the embedded database has none)',
    );
  }
  return DATABASE_URL
    ? {
        kind: 'postgresql',
        url: DATABASE_URL,
        poolMax: HUDDLE_DB_POOL_MAX,
        ...(DATABASE_REPLICA_URLS && { replicaUrls: DATABASE_REPLICA_URLS }),
      }
    : { kind: 'pglite', dataDir: path.resolve(HUDDLE_DATA_DIR) };
}

const millisecondsOrOff = z.coerce.number().int().min(0).max(3_600_000);

const sessionLimitsSchema = z.object({
  HUDDLE_STATEMENT_TIMEOUT_MS: millisecondsOrOff.default(10_000),
  HUDDLE_IDLE_IN_TRANSACTION_TIMEOUT_MS: millisecondsOrOff.default(30_000),
  HUDDLE_LOCK_TIMEOUT_MS: millisecondsOrOff.default(2_000),
});

/**
 * Bounds on what one PostgreSQL session may do, in milliseconds (0 = no bound): `statementTimeoutMs`
 * cancels a statement that runs longer (StatementTimeoutError), `idleInTransactionTimeoutMs` ends a session
 * that holds a transaction open without working in it, `lockTimeoutMs` cancels a statement that waits that
 * long for a lock another transaction holds (LockTimeoutError): a request stuck behind a locked row gives
 * its connection back instead of holding it for the whole statement timeout. For request-serving processes
 * (the API); bulk work (seed, backup, restore, migrations) runs without them.
 */
export interface SessionLimits {
  statementTimeoutMs: number;
  idleInTransactionTimeoutMs: number;
  lockTimeoutMs: number;
}

/**
 * Reads the session limits from HUDDLE_STATEMENT_TIMEOUT_MS (default 10 s),
 * HUDDLE_IDLE_IN_TRANSACTION_TIMEOUT_MS (default 30 s) and HUDDLE_LOCK_TIMEOUT_MS (default 2 s); a bad value
 * throws one ConfigurationError line.
 */
export function sessionLimitsFromEnv(env: NodeJS.ProcessEnv = process.env): SessionLimits {
  const limits = parseEnvironment(sessionLimitsSchema, env);
  return {
    statementTimeoutMs: limits.HUDDLE_STATEMENT_TIMEOUT_MS,
    idleInTransactionTimeoutMs: limits.HUDDLE_IDLE_IN_TRANSACTION_TIMEOUT_MS,
    lockTimeoutMs: limits.HUDDLE_LOCK_TIMEOUT_MS,
  };
}

/** The database a message is about: the embedded one with its directory, or the server, password masked. */
export function describeTarget(target: DatabaseTarget): string {
  return target.kind === 'postgresql'
    ? `PostgreSQL at ${redactUrl(target.url)}`
    : `the embedded database in ${target.dataDir}`;
}

/** A URL with its password masked, for messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<unparseable url>';
  }
}
