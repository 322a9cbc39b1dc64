import { existsSync } from 'node:fs';
import { mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import { domainModules } from '@huddle/composition';
import { findModule, platformModule, redactUrl } from '@huddle/db';
import {
  createOwnedTestDatabase,
  createTestDatabase,
  databaseUrl,
  type TestDatabase,
  withClient,
} from '@huddle/testing';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { contents, huddleOk, useTempDir } from './data.ts';
import { huddle, huddleProcess } from './helpers.ts';

const dir = useTempDir('huddle-cli-operator-');
const databases: TestDatabase[] = [];
afterAll(() => Promise.all(databases.map((database) => database.drop())));

async function database(options: { migrated?: boolean } = {}): Promise<TestDatabase> {
  const created = await createTestDatabase(options);
  databases.push(created);
  return created;
}

/** The schemas of `name` beyond PostgreSQL's own, and whether it has the vector extension, as the superuser. */
async function whatExists(name: string): Promise<{ schemas: string[]; vector: boolean }> {
  return withClient(databaseUrl(inject('huddle').serverUrl, name), async (client) => {
    const schemas = await client.query<{ name: string }>(
      "select nspname as name from pg_namespace where nspname not like 'pg\\_%' and nspname not in ('information_schema', 'public') order by 1",
    );
    const vector = await client.query("select 1 from pg_extension where extname = 'vector'");
    return { schemas: schemas.rows.map((row) => row.name), vector: vector.rowCount === 1 };
  });
}

describe('a command on an embedded database that does not exist', () => {
  it('fails with one line saying how to create it, and creates nothing: no directory, no file', async () => {
    const missing = path.join(dir.path, 'missing', 'data');
    const empty = path.join(dir.path, 'empty');
    await mkdir(empty);
    const refusal = (dataDir: string) => ({
      code: 1,
      stdout: '',
      stderr: `huddle: no embedded database in ${dataDir}: run \`huddle migrate up\` to create it, or set HUDDLE_DATA_DIR (or DATABASE_URL) to the database to use\n`,
    });
    const env = (dataDir: string) => ({ HUDDLE_DATA_DIR: dataDir, DATABASE_URL: '' });
    const tokenIssue = ['token', 'issue', '--module', 'scrum', '--user', '2'];
    // The processes an operator runs; the other read commands go through the same code in-process.
    expect(await huddleProcess(tokenIssue, env(missing))).toEqual(refusal(missing));
    expect(await huddleProcess(tokenIssue, env(empty))).toEqual(refusal(empty));
    for (const args of [
      ['backup', path.join(dir.path, 'never.huddle')],
      ['migrate', 'status'],
      ['seed', 'realistic', '--module', 'poker'],
    ]) {
      expect(await huddle(args, env(missing)), args.join(' ')).toEqual(refusal(missing));
    }
    expect(existsSync(path.join(dir.path, 'missing'))).toBe(false);
    expect(await readdir(empty)).toEqual([]);
    expect(existsSync(path.join(dir.path, 'never.huddle'))).toBe(false);
  });
});

describe('a command on a database that is not migrated, or is behind', () => {
  it('names the database, the modules and the command to run, in one line', async () => {
    const empty = await database({ migrated: false });
    const notMigrated = await huddleProcess(['token', 'issue', '--module', 'poker', '--user', '1'], {
      DATABASE_URL: empty.url,
    });
    const pending = [platformModule, findModule(domainModules, 'poker')].reduce(
      (count, module) => count + module.migrations.length,
      0,
    );
    expect(notMigrated).toEqual({
      code: 1,
      stdout: '',
      stderr: `huddle: PostgreSQL at ${redactUrl(empty.url)} is not migrated (${pending} pending migrations of huddle, poker): run \`huddle migrate up\`\n`,
    });
    expect(await whatExists(empty.name)).toEqual({ schemas: [], vector: false });

    const migrated = await database();
    await huddleOk(['migrate', 'down', '--module', 'poker'], { DATABASE_URL: migrated.url });
    const behind = await huddleProcess(['seed', 'minimal', '--module', 'poker'], {
      DATABASE_URL: migrated.url,
    });
    expect(behind).toEqual({
      code: 1,
      stdout: '',
      stderr: `huddle: PostgreSQL at ${redactUrl(migrated.url)} is behind (1 pending migrations of poker): run \`huddle migrate up\`\n`,
    });
  });
});

describe('huddle restore into a new database', () => {
  it('migrates it first, then restores; a dry run says so and changes nothing', async () => {
    const source = await database();
    const env = { DATABASE_URL: source.url };
    await huddleOk(['seed', 'minimal', '--module', 'poker'], env);
    const file = path.join(dir.path, 'poker.huddle');
    const sourceContents = await contents(env, file);

    const dryRunTarget = await database({ migrated: false });
    const dryRun = await huddleProcess(['restore', file, '--dry-run'], { DATABASE_URL: dryRunTarget.url });
    expect(dryRun).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'huddle: the target is not migrated, so there is nothing to check it against: a restore without --dry-run migrates it first\n',
    });
    expect(await whatExists(dryRunTarget.name)).toEqual({ schemas: [], vector: false });

    const target = await database({ migrated: false });
    const restored = await huddleProcess(['restore', file], { DATABASE_URL: target.url });
    expect(restored.code).toBe(0);
    expect(restored.stderr).toBe('');
    expect(restored.stdout).toMatch(/^migrated the new target, then restored \d+ rows into \d+ tables from /);
    expect(await contents({ DATABASE_URL: target.url }, path.join(dir.path, 'target.huddle'))).toEqual(
      sourceContents,
    );
  });
});

describe('huddle migrate up by an owner who may not create the vector extension', () => {
  it('names the SQL an administrator must run, where, and creates nothing; after it, the migration runs', async () => {
    const owned = await createOwnedTestDatabase({ vector: false });
    databases.push(owned);
    const refused = await huddleProcess(['migrate', 'up'], { DATABASE_URL: owned.url });
    expect(refused).toEqual({
      code: 1,
      stdout: '',
      stderr: `huddle: the vector extension is not installed in database "${owned.name}" and ${owned.owner} may not create it: as a superuser, run \`CREATE EXTENSION vector;\` in database "${owned.name}", then \`huddle migrate up\` again\n`,
    });
    expect(await whatExists(owned.name)).toEqual({ schemas: [], vector: false });

    await withClient(databaseUrl(inject('huddle').serverUrl, owned.name), (client) =>
      client.query('CREATE EXTENSION vector;'),
    );
    const migrated = await huddleProcess(['migrate', 'up'], { DATABASE_URL: owned.url });
    expect(migrated.code).toBe(0);
    expect((await whatExists(owned.name)).schemas).toContain('huddle');
  });
});
