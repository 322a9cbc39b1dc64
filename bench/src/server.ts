import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { ApiMetrics, metricsAccessFromEnv } from '@huddle/api/metrics';
import { type ApiServer, startApiServer } from '@huddle/api/server';
import { type Database, type DomainModule, ModuleResources, migrateUp, openDatabase } from '@huddle/db';
import { createDatabase, databaseUrl, findPostgresBinaries } from '@huddle/testing';
import { pino } from 'pino';

export const run = promisify(execFile);

/** A new database with `modules` migrated, opened. */
export async function migratedDatabase(
  serverUrl: string,
  name: string,
  modules: readonly DomainModule[],
  poolMax = 4,
): Promise<{ url: string; db: Database }> {
  await createDatabase(serverUrl, name);
  const url = databaseUrl(serverUrl, name);
  const db = await openDatabase({ modules, target: { kind: 'postgresql', url, poolMax } });
  await migrateUp(db);
  return { url, db };
}

/** pg_dump and pg_restore from the same PostgreSQL installation the throwaway server runs on. */
export async function postgresBinary(name: 'pg_dump' | 'pg_restore'): Promise<string> {
  const binDir = await findPostgresBinaries();
  if (!binDir) throw new Error(`${name} not found: set PG_BIN_DIR to PostgreSQL's bin directory`);
  return path.join(binDir, name);
}

/** Milliseconds `work` takes, with its result. */
export async function timed<T>(work: () => Promise<T>): Promise<{ result: T; milliseconds: number }> {
  const started = performance.now();
  const result = await work();
  return { result, milliseconds: performance.now() - started };
}

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
export const count = (value: number) => integer.format(value);
export const seconds = (milliseconds: number) => `${(milliseconds / 1000).toFixed(2)} s`;
export const ratio = (value: number) => `${value.toFixed(2)}×`;

/**
 * The API over `db` as the request-path benches run it: any free port, no planner roots, and the access log
 * on, as in production, into `workDir/api.log` rather than the terminal; Prometheus metrics recorded when
 * `HUDDLE_METRICS` says so (`public`: no scrape needs a token), as the API process would.
 */
export async function startBenchApi(db: Database, secret: Uint8Array, workDir: string): Promise<ApiServer> {
  const metricsAccess = metricsAccessFromEnv();
  return startApiServer({
    metrics: metricsAccess && new ApiMetrics(metricsAccess),
    db,
    secret,
    moduleResources: await ModuleResources.fromEnv(db.modules, { HUDDLE_PLANNER_ROOTS: '' }),
    port: 0,
    host: '127.0.0.1',
    logger: pino(
      { name: 'huddle-api', level: 'info' },
      pino.destination({ dest: path.join(workDir, 'api.log'), sync: false }),
    ),
  });
}
