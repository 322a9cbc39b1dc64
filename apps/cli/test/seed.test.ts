import path from 'node:path';
import { MAX_SEED_SCALE } from '@huddle/db';
import { createTestDatabase, type TestDatabase } from '@huddle/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contents, huddleOk, useTempDir } from './data.ts';
import { huddle } from './helpers.ts';

const dir = useTempDir('huddle-cli-seed-');
const databases: TestDatabase[] = [];
const envs: NodeJS.ProcessEnv[] = [];

beforeAll(async () => {
  for (let index = 0; index < 4; index++) {
    const database = await createTestDatabase();
    databases.push(database);
    envs.push({ DATABASE_URL: database.url });
  }
});
afterAll(() => Promise.all(databases.map((database) => database.drop())));

describe('huddle seed', () => {
  it('minimal is idempotent: a second run changes nothing', async () => {
    const [env] = envs as [NodeJS.ProcessEnv];
    await huddleOk(['seed', 'minimal'], env);
    const once = await contents(env, path.join(dir.path, 'once.huddle'));
    expect(once.some((table) => table.rows > 0)).toBe(true);
    await huddleOk(['seed', 'minimal'], env);
    expect(await contents(env, path.join(dir.path, 'twice.huddle'))).toEqual(once);
  });

  it('realistic is deterministic per --seed, reports rows and rows/s per table, and differs for another seed', async () => {
    const [, first, second] = envs as [NodeJS.ProcessEnv, NodeJS.ProcessEnv, NodeJS.ProcessEnv];
    const run = JSON.parse(
      await huddleOk(
        ['seed', 'realistic', '--module', 'poker', '--scale', '2', '--seed', '42', '--json'],
        first,
      ),
    ) as {
      tables: { table: string; rows: number; rowsPerSecond: number | null }[];
    };
    expect(run.tables.length).toBeGreaterThan(0);
    expect(run.tables.every((table) => table.rows > 0 && (table.rowsPerSecond ?? 0) > 0)).toBe(true);
    const text = await huddleOk(
      ['seed', 'realistic', '--module', 'poker', '--scale', '2', '--seed', '42'],
      second,
    );
    expect(text).toMatch(/rows\s+[\d,]+ rows\/s/);
    const firstContents = await contents(first, path.join(dir.path, 'first.huddle'));
    expect(await contents(second, path.join(dir.path, 'second.huddle'))).toEqual(firstContents);

    await huddleOk(['seed', 'realistic', '--module', 'poker', '--scale', '2', '--seed', '43'], second);
    const third = await contents(second, path.join(dir.path, 'third.huddle'));
    expect(third.map((table) => table.sha256)).not.toEqual(firstContents.map((table) => table.sha256));
  });

  it('realistic for every module again after a stopped run: finishes the modules it had not reached and says which it skipped', async () => {
    // What a run stopped after its first module leaves behind: that module's transaction committed, no other.
    const env = envs[3]!;
    await huddleOk(['seed', 'realistic', '--module', 'poker', '--seed', '7'], env);
    const rerun = await huddleOk(['seed', 'realistic', '--seed', '7'], env);
    expect(rerun).toContain(
      "poker already had this seed's realistic data (an earlier run got that far): skipped",
    );
    for (const module of ['scrum', 'decisions', 'planner'])
      expect(rerun).toMatch(new RegExp(`seeded realistic ${module} in `));
    const again = await huddle(['seed', 'realistic', '--seed', '7'], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(
      'huddle: seed: every module already has the realistic data of seed 7 at scale 1; use another seed\n',
    );
  });

  it('refuses a bad scale, and --scale with minimal, in one line', async () => {
    const [env] = envs as [NodeJS.ProcessEnv];
    const zero = await huddle(['seed', 'realistic', '--scale', '0'], env);
    expect(zero.code).toBe(1);
    expect(zero.stderr).toBe('huddle: scale: Too small: expected number to be >0\n');
    // Planned in memory, a scale like this would run the process out of memory rather than fail cleanly.
    const huge = await huddle(['seed', 'realistic', '--scale', '1e9'], env);
    expect(huge).toEqual({
      code: 1,
      stdout: '',
      stderr: `huddle: scale: Too big: expected number to be <=${MAX_SEED_SCALE}\n`,
    });
    const minimal = await huddle(['seed', 'minimal', '--seed', '3'], env);
    expect(minimal.code).toBe(1);
    expect(minimal.stderr).toBe('huddle: --scale and --seed apply to realistic seeding only\n');
  });
});
