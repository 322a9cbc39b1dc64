import { spawn } from 'node:child_process';
import { cp, lstat, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createTestDatabase, type TestDatabase } from '@huddle/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contents, huddleOk, type TableContents, useTempDir } from './data.ts';
import { huddle, MAIN } from './helpers.ts';

const dir = useTempDir('huddle-cli-backup-');
const databases: TestDatabase[] = [];

async function database(): Promise<{ url: string; env: NodeJS.ProcessEnv }> {
  const created = await createTestDatabase();
  databases.push(created);
  return { url: created.url, env: { DATABASE_URL: created.url } };
}

async function query<Row>(url: string, sql: string): Promise<Row[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows as Row[];
  } finally {
    await client.end();
  }
}

/** A question only the data can answer: how each story's votes spread over the cards. */
const VOTE_SPREAD = `
  select s.title, v.points, count(*)::int as votes from poker.votes v join poker.stories s on s.id = v.story_id
  group by 1, 2 order by 1, 2`;

let source: { url: string; env: NodeJS.ProcessEnv };
let file: string;
let sourceContents: TableContents[];

beforeAll(async () => {
  source = await database();
  await huddleOk(['seed', 'minimal'], source.env);
  // Poker's realistic data is enough to round-trip every kind of row at volume; the other modules' seeders
  // are exercised at a small scale by the embedded ↔ server test below.
  await huddleOk(['seed', 'realistic', '--module', 'poker', '--scale', '40', '--seed', '9'], source.env);
  file = path.join(dir.path, 'source.huddle');
  sourceContents = await contents(source.env, file);
});
afterAll(() => Promise.all(databases.map((created) => created.drop())));

describe('huddle backup and restore', () => {
  it('round-trips a realistic seed: same counts, checksums and query results', async () => {
    const target = await database();
    const restored = JSON.parse(await huddleOk(['restore', file, '--json'], target.env)) as {
      replaced: boolean;
    };
    expect(restored.replaced).toBe(false);
    expect(await contents(target.env, path.join(dir.path, 'target.huddle'))).toEqual(sourceContents);
    expect(await query(target.url, VOTE_SPREAD)).toEqual(await query(source.url, VOTE_SPREAD));
    expect(sourceContents.find((table) => table.name === 'votes')!.rows).toBeGreaterThan(20_000);
  });

  it('refuses a truncated file with one line, leaving the target untouched', async () => {
    const target = await database();
    await huddleOk(['seed', 'minimal'], target.env);
    const before = await contents(target.env, path.join(dir.path, 'before.huddle'));
    const data = await readFile(file);
    const truncated = path.join(dir.path, 'truncated.huddle');
    await writeFile(truncated, data.subarray(0, data.length - 100));
    const result = await huddle(['restore', truncated, '--force'], target.env);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `huddle: backup ${truncated} is not usable: it is truncated (the compressed data ends early)\n`,
    );
    expect(await contents(target.env, path.join(dir.path, 'after.huddle'))).toEqual(before);
  });

  // Two processes (a restore, killed once it has begun) and a seeded source: 13 s under the full pnpm test.
  it('a restore killed mid-way (SIGKILL) leaves the target exactly as it was', async () => {
    const target = await database();
    await huddleOk(['seed', 'minimal'], target.env);
    const before = await contents(target.env, path.join(dir.path, 'before-kill.huddle'));
    const child = spawn(process.execPath, [MAIN, 'restore', file, '--force'], {
      env: { ...process.env, ...target.env },
      stdio: 'ignore',
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on('exit', (_code, signal) => resolve(signal)),
    );
    // Kill it once rows are going in: the old rows are truncated and new ones copied in, uncommitted.
    const inserting = `select count(*)::int as n from pg_stat_activity
      where datname = current_database() and pid <> pg_backend_pid() and query like 'copy "poker".% from stdin'`;
    for (let attempt = 0; ; attempt++) {
      const [row] = await query<{ n: number }>(target.url, inserting);
      if (row!.n > 0) break;
      if (attempt > 2000) throw new Error('the restore never started inserting');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    const others = `select count(*)::int as n from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`;
    await expect
      .poll(async () => (await query<{ n: number }>(target.url, others))[0]!.n, { timeout: 10_000 })
      .toBe(0);
    expect(await contents(target.env, path.join(dir.path, 'after-kill.huddle'))).toEqual(before);
  }, 45_000);

  // PGlite's initdb and reopens: 13–15 s under the full `pnpm test` on 2 cores.
  it('moves between the embedded database and a server in both directions', async () => {
    const embedded = { HUDDLE_DATA_DIR: path.join(dir.path, 'embedded'), DATABASE_URL: '' };
    await huddleOk(['migrate', 'up'], embedded);
    // A copy of the migrated, empty directory is the target on the way back: one initdb instead of two.
    const back = { HUDDLE_DATA_DIR: path.join(dir.path, 'embedded-back'), DATABASE_URL: '' };
    await cp(embedded.HUDDLE_DATA_DIR, back.HUDDLE_DATA_DIR, { recursive: true });
    // Every module's sample rows (uuid, enum, jsonb, vector columns), and poker's realistic data for volume:
    // each module's realistic seeder is tested in its own package.
    await huddleOk(['seed', 'minimal'], embedded);
    await huddleOk(['seed', 'realistic', '--module', 'poker', '--scale', '2', '--seed', '5'], embedded);
    const fromEmbedded = path.join(dir.path, 'embedded.huddle');
    const embeddedContents = await contents(embedded, fromEmbedded);

    const server = await database();
    await huddleOk(['restore', fromEmbedded], server.env);
    const fromServer = path.join(dir.path, 'from-server.huddle');
    expect(await contents(server.env, fromServer)).toEqual(embeddedContents);

    await huddleOk(['restore', fromServer], back);
    expect(await contents(back, path.join(dir.path, 'back.huddle'))).toEqual(embeddedContents);
  }, 60_000);

  it('a failed write (a full device) exits 1 with one line, and leaves the device in place', async () => {
    // Through a symlink, so that a writer that renames over the target replaces the link, not /dev/full.
    const full = path.join(dir.path, 'full');
    await symlink('/dev/full', full);
    const result = await huddle(['backup', full], source.env);
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr: `huddle: cannot write the backup to ${full}: ENOSPC: no space left on device, write\n`,
    });
    expect((await lstat(full)).isSymbolicLink()).toBe(true);
    expect((await stat(full)).isCharacterDevice()).toBe(true);
    expect(await readdir(dir.path)).not.toContain('full.partial');
  });

  it('replaces an existing regular file only once the backup is complete', async () => {
    const existing = path.join(dir.path, 'existing.huddle');
    await writeFile(existing, 'an older backup');
    await huddleOk(['backup', existing], source.env);
    expect((await readFile(existing)).subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    expect(await readdir(dir.path)).not.toContain('existing.huddle.partial');
  });
});
