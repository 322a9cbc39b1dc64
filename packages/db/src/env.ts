import path from 'node:path';
import { z } from 'zod';
import { ConfigurationError } from './errors.ts';

const postgresUrl = z
  .url({ protocol: /^postgres(ql)?$/, error: 'must be a postgres:// or postgresql:// URL' })
  .describe('DATABASE_URL');

const environmentSchema = z.object({
  DATABASE_URL: z.preprocess((value) => (value === '' ? undefined : value), postgresUrl.optional()),
  HUDDLE_DATA_DIR: z.string().min(1).default('.huddle/data'),
  HUDDLE_DB_POOL_MAX: z.coerce.number().int().min(1).max(100).default(10),
});

/** Where the database lives: a PostgreSQL server, or the embedded PGlite in a data directory. */
export type DatabaseTarget =
  | { kind: 'postgresql'; url: string; poolMax: number }
  | { kind: 'pglite'; dataDir: string };

/** Reads the database target from the environment; a bad value throws one ConfigurationError line. */
export function databaseTargetFromEnv(env: NodeJS.ProcessEnv = process.env): DatabaseTarget {
  const parsed = environmentSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigurationError(`${issue.path.join('.')}: ${issue.message}`);
  }
  const { DATABASE_URL, HUDDLE_DATA_DIR, HUDDLE_DB_POOL_MAX } = parsed.data;
  return DATABASE_URL
    ? { kind: 'postgresql', url: DATABASE_URL, poolMax: HUDDLE_DB_POOL_MAX }
    : { kind: 'pglite', dataDir: path.resolve(HUDDLE_DATA_DIR) };
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
