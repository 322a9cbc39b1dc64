import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { BackupManifest } from '@huddle/db';
import { createTestDatabase, type TestDatabase, withClient } from '@huddle/testing';
import { afterAll, beforeAll } from 'vitest';
import { huddle } from './helpers.ts';

/** A manifest table entry without its column list, as `huddle backup --json` prints it. */
export type TableContents = Pick<BackupManifest['tables'][number], 'schema' | 'name' | 'rows' | 'sha256'>;

/**
 * A migrated database for the test file, dropped after it: `env` (filled in from `beforeAll` on) points the
 * CLI at it with a token secret, `query` reads it as the superuser.
 */
export function useCliDatabase(): {
  readonly env: NodeJS.ProcessEnv;
  query(sql: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
} {
  let database: TestDatabase | undefined;
  const env: NodeJS.ProcessEnv = {};
  beforeAll(async () => {
    database = await createTestDatabase();
    Object.assign(env, {
      DATABASE_URL: database.url,
      HUDDLE_SECRET: 'a-secret-of-at-least-thirty-two-characters!',
    });
  });
  afterAll(() => database?.drop());
  return {
    env,
    query: (sql, params = []) =>
      withClient(env.DATABASE_URL!, async (client) => (await client.query(sql, params)).rows),
  };
}

/** A temp directory for the test file, removed after it. */
export function useTempDir(prefix: string): { readonly path: string } {
  let dir: string | undefined;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), prefix));
  });
  afterAll(() => (dir ? rm(dir, { recursive: true, force: true }) : undefined));
  return {
    get path() {
      if (!dir) throw new Error('useTempDir: only available inside tests');
      return dir;
    },
  };
}

/** Runs huddle and fails with its stderr when it exits non-zero. */
export async function huddleOk(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  const result = await huddle(args, env);
  if (result.code !== 0) throw new Error(`huddle ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
  return result.stdout;
}

/** Every table's rows and checksum, as a backup of the database reports them. */
export async function contents(env: NodeJS.ProcessEnv, file: string): Promise<TableContents[]> {
  const { manifest } = JSON.parse(await huddleOk(['backup', file, '--json'], env)) as {
    manifest: BackupManifest;
  };
  return manifest.tables.map(({ schema, name, rows, sha256 }) => ({ schema, name, rows, sha256 }));
}
