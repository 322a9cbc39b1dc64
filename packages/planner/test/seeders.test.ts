import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConflictError, type Database, openDatabase, seed } from '@huddle/db';
import { createTestDatabase, type TestDatabase, useTestDatabase } from '@huddle/testing';
import git from 'isomorphic-git';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gitDirectory } from '../src/git.ts';
import { plannerModule } from '../src/module.ts';
import { artifactInputSchema } from '../src/schemas.ts';
import { DEMO_PLAN_NAME } from '../src/seeders/demo.ts';
import { demoRepositoryPath } from '../src/seeders/minimal.ts';
import { REALISTIC_PER_SCALE } from '../src/seeders/realistic.ts';
import { expectHuddleError, useSqlClient } from './helpers.ts';

const test = useTestDatabase([plannerModule]);
const postgres = useSqlClient(test);
const TABLES = ['repositories', 'plans', 'plan_artifacts', 'chat_sessions'] as const;
let temp = '';

beforeAll(async () => {
  temp = await fs.promises.realpath(await fs.promises.mkdtemp(path.join(os.tmpdir(), 'planner-seed-')));
});
afterAll(async () => {
  await fs.promises.rm(temp, { recursive: true, force: true });
});

async function counts(on: pg.Client = postgres.client): Promise<Record<(typeof TABLES)[number], number>> {
  const result: Partial<Record<(typeof TABLES)[number], number>> = {};
  for (const table of TABLES) {
    const { rows } = await on.query<{ count: string }>(`select count(*) from planner.${table}`);
    result[table] = Number(rows[0]!.count);
  }
  return result as Record<(typeof TABLES)[number], number>;
}

/** Runs `work` with `variables` set in this test process's environment, restoring them after. */
async function withEnv<T>(variables: Record<string, string | undefined>, work: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(variables).map((name) => [name, process.env[name]]));
  const apply = (values: Record<string, string | undefined>) => {
    for (const [name, value] of Object.entries(values)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
  apply(variables);
  try {
    return await work();
  } finally {
    apply(saved);
  }
}

async function demoRows() {
  const { rows } = await postgres.client.query(
    `select r.path, r.name, p.name as plan, p.status::text, a.artifact_type::text, jsonb_array_length(c.messages) as messages
     from planner.repositories r join planner.plans p on p.repository_id = r.id
     join planner.plan_artifacts a on a.plan_id = p.id join planner.chat_sessions c on c.plan_id = p.id
     where p.name = $1 order by r.path, a.artifact_type`,
    [DEMO_PLAN_NAME],
  );
  return rows;
}

describe('minimal seeder', () => {
  it('creates and registers nothing when no configured root would hold its demo repository', async () => {
    const before = await counts();
    const dataDir = path.join(temp, 'data');
    await withEnv({ HUDDLE_PLANNER_ROOTS: undefined, HUDDLE_DATA_DIR: dataDir }, () =>
      seed(test.db, 'minimal'),
    );
    expect(await counts()).toEqual(before);
    expect(fs.readdirSync(temp)).toEqual([]);
  });

  it('on a server, creates its demo repository under the first configured root when the checkout is not under the roots; idempotent', async () => {
    const roots = path.join(temp, 'roots');
    const env = { HUDDLE_PLANNER_ROOTS: [roots, path.join(temp, 'other')].join(path.delimiter) };
    await withEnv(env, () => seed(test.db, 'minimal'));
    const dir = path.join(roots, 'planner-demo-repository');
    expect(await gitDirectory(dir)).toBe(path.join(dir, '.git'));
    expect(await git.log({ fs, dir })).toHaveLength(1);
    const first = { counts: await counts(), rows: await demoRows() };
    expect(first.counts).toEqual({ repositories: 1, plans: 1, plan_artifacts: 3, chat_sessions: 1 });
    expect(first.rows).toEqual(
      ['feature_plan', 'implementation_steps', 'code_changes'].map((type) => ({
        path: dir,
        name: 'planner-demo-repository',
        plan: DEMO_PLAN_NAME,
        status: 'draft',
        artifact_type: type,
        messages: 3,
      })),
    );
    await withEnv(env, () => seed(test.db, 'minimal'));
    expect({ counts: await counts(), rows: await demoRows() }).toEqual(first);
  });

  it('on the embedded database, puts its demo repository in the data directory, and only under a configured root', () => {
    const dataDir = path.join(temp, 'embedded', 'data');
    const target = { kind: 'pglite', dataDir } as const;
    expect(demoRepositoryPath(target, [path.join(temp, 'embedded')])).toBe(
      path.join(dataDir, 'planner-demo-repository'),
    );
    expect(demoRepositoryPath(target, [path.join(temp, 'roots')])).toBeUndefined();
    expect(demoRepositoryPath(target, [])).toBeUndefined();
  });

  it('registers the project’s own checkout when it lies under the configured roots', async () => {
    const checkout = await fs.promises.realpath(await git.findRoot({ fs, filepath: process.cwd() }));
    await withEnv({ HUDDLE_PLANNER_ROOTS: path.dirname(checkout) }, () => seed(test.db, 'minimal'));
    const paths = (await demoRows()).map((row) => row.path);
    expect(paths).toContain(checkout);
  });
});

/** An md5 over every row of one realistic seed (its ids are deterministic too). */
async function realisticChecksum(on: pg.Client, seedNumber: number): Promise<string> {
  const result = await on.query<{ checksum: string }>(
    `with r as (select * from planner.repositories where path like $1),
     p as (select p.* from planner.plans p join r on r.id = p.repository_id),
     lines as (
       select row(r.*)::text as line from r
       union all select row(p.*)::text from p
       union all select row(a.*)::text from planner.plan_artifacts a join p on p.id = a.plan_id
       union all select row(c.*)::text from planner.chat_sessions c join p on p.id = c.plan_id)
     select md5(string_agg(line, E'\\n' order by line)) as checksum from lines`,
    [`/srv/planner-seed/s${seedNumber}/%`],
  );
  return result.rows[0]!.checksum;
}

describe('realistic seeder', () => {
  let other: { testDatabase: TestDatabase; db: Database; client: pg.Client } | undefined;
  afterAll(async () => {
    await other?.client.end();
    await other?.db.close();
    await other?.testDatabase.drop();
  });

  it('writes scale × 5 repositories of 20 plans with versions, typed artifacts and long chats, reporting progress', async () => {
    const before = await counts();
    const progress: [string, number, number][] = [];
    await seed(test.db, 'realistic', {
      scale: 1,
      seed: 42,
      progress: (_module, table, written, total) => progress.push([table, written, total]),
    });
    const after = await counts();
    const added = Object.fromEntries(TABLES.map((table) => [table, after[table] - before[table]]));
    const plans = REALISTIC_PER_SCALE.repositories * REALISTIC_PER_SCALE.plansPerRepository;
    expect(added.repositories).toBe(REALISTIC_PER_SCALE.repositories);
    expect(added.plans).toBeGreaterThan(plans);
    expect(added.plans).toBeLessThanOrEqual(plans * 4);
    expect(added.plan_artifacts).toBe(added.plans! * 3);
    expect(added.chat_sessions).toBe(plans);
    for (const table of TABLES) {
      expect(progress.filter(([name]) => name === `planner.${table}`).at(-1)).toEqual([
        `planner.${table}`,
        added[table],
        added[table],
      ]);
    }

    const artifacts = await postgres.client.query<{ artifact_type: string; content: unknown }>(
      `select a.artifact_type::text, a.content from planner.plan_artifacts a join planner.plans p on p.id = a.plan_id
       join planner.repositories r on r.id = p.repository_id where r.path like '/srv/planner-seed/s42/%'`,
    );
    for (const row of artifacts.rows) {
      expect(artifactInputSchema.safeParse({ type: row.artifact_type, content: row.content }).success).toBe(
        true,
      );
    }
    const sizes = await postgres.client.query<{ type: string; average: number; messages: number }>(
      `select artifact_type::text as type, avg(octet_length(content::text))::int as average,
              (select avg(jsonb_array_length(messages))::int from planner.chat_sessions) as messages
       from planner.plan_artifacts group by artifact_type order by artifact_type`,
    );
    const average = Object.fromEntries(sizes.rows.map((row) => [row.type, row.average]));
    expect(average.feature_plan).toBeGreaterThan(500);
    expect(average.code_changes).toBeGreaterThan(3_000);
    expect(sizes.rows[0]!.messages).toBeGreaterThan(50);
  });

  it('is deterministic: the same seed writes the same rows into another database', async () => {
    const testDatabase = await createTestDatabase();
    const db = await openDatabase({
      modules: [plannerModule],
      target: { kind: 'postgresql', url: testDatabase.url, poolMax: 2 },
    });
    const client = new pg.Client({ connectionString: testDatabase.url });
    await client.connect();
    other = { testDatabase, db, client };
    await seed(db, 'realistic', { scale: 1, seed: 42 });
    expect(await realisticChecksum(client, 42)).toBe(await realisticChecksum(postgres.client, 42));
  });

  it('refuses to write the same seed twice, and leaves the database as it was', async () => {
    const before = await counts();
    await expectHuddleError(seed(test.db, 'realistic', { scale: 1, seed: 42 }), ConflictError);
    expect(await counts()).toEqual(before);
  });
});
