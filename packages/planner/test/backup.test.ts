import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  type BackupManifest,
  type Database,
  executePrepared,
  migrateUp,
  openDatabase,
  restoreBackup,
  seed,
  writeBackup,
} from '@huddle/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plannerModule } from '../src/module.ts';
import {
  chatSessionsMentioningInputSchema,
  listPlansInputSchema,
  listPlanVersionsInputSchema,
  plansTouchingFileInputSchema,
} from '../src/schemas.ts';
import { getPlanVersion, listPlans, listPlanVersions } from '../src/services/plans.ts';
import {
  chatSessionsMentioningQuery,
  plansTouchingFileQuery,
  type SearchQuery,
} from '../src/services/search.ts';
import { asActor, OPERATOR, usePlannerDatabase } from './helpers.ts';

const test = usePlannerDatabase();
let dir = '';
let roots: string | undefined;

beforeAll(async () => {
  dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'planner-backup-'));
  // On a server the minimal seeder creates its demo repository under the first planner root: this temp dir.
  roots = process.env.HUDDLE_PLANNER_ROOTS;
  process.env.HUDDLE_PLANNER_ROOTS = dir;
});
afterAll(async () => {
  if (roots === undefined) delete process.env.HUDDLE_PLANNER_ROOTS;
  else process.env.HUDDLE_PLANNER_ROOTS = roots;
  await fs.promises.rm(dir, { recursive: true, force: true });
});

/** The reads whose answers the database renders as JSON, which PGlite returns as text and `pg` parses. */
async function reads(db: Database) {
  const [plan] = await db.orm.em
    .fork()
    .execute<{ id: string; repository_id: string; name: string }[]>(
      'select id, repository_id, name from planner.plans where version = 1',
    );
  const { id: planId, repository_id: repositoryId, name } = plan!;
  return asActor(db, OPERATOR, async (em, actor) => ({
    detail: await getPlanVersion(em, actor, { planId }),
    versions: await listPlanVersions(em, actor, listPlanVersionsInputSchema.parse({ repositoryId, name })),
    plans: await listPlans(em, actor, listPlansInputSchema.parse({ repositoryId })),
  }));
}

const tablesOf = (manifest: BackupManifest) =>
  manifest.tables.map(({ name, rows, sha256 }) => ({ name, rows, sha256 }));
const SEARCHES: SearchQuery<unknown>[] = [
  plansTouchingFileQuery(plansTouchingFileInputSchema.parse({ path: 'src/checkout.ts' })),
  chatSessionsMentioningQuery(chatSessionsMentioningInputSchema.parse({ term: 'card' })),
  plansTouchingFileQuery(plansTouchingFileInputSchema.parse({ path: 'src/cards.ts' })),
];

describe('backup and restore', () => {
  it('PostgreSQL → embedded PGlite keeps every row (uuid, enum and jsonb columns) and answers searches and reads alike', async () => {
    await seed(test.db, 'minimal');
    // A second version, active, and the first archived: every enum type holds more than its default.
    await test.db.orm.em.fork().execute(
      `insert into planner.plans (repository_id, name, target_branch, version, status)
       select repository_id, name, target_branch, 2, 'active' from planner.plans;
       update planner.plans set status = 'archived' where version = 1;
       update planner.chat_sessions set status = 'completed';`,
    );
    const file = path.join(dir, 'planner.huddle');
    const original = await writeBackup(test.db, file);
    expect(original.tables.map((table) => table.name)).toEqual(
      expect.arrayContaining(['repositories', 'plans', 'plan_artifacts', 'chat_sessions']),
    );
    const searches = async (db: typeof test.db) => {
      const results = [];
      for (const query of SEARCHES)
        results.push(await executePrepared(db.orm.em.fork(), query.statement, query.params));
      return results;
    };
    const expected = await searches(test.db);
    expect(expected.map((rows) => rows.length > 0)).toEqual([true, true, true]);
    const expectedReads = await reads(test.db);
    expect(expectedReads.detail.artifacts.map((artifact) => artifact.type)).toEqual([
      'feature_plan',
      'implementation_steps',
      'code_changes',
    ]);

    const embedded = await openDatabase({
      modules: [plannerModule],
      target: { kind: 'pglite', dataDir: path.join(dir, 'embedded') },
    });
    try {
      await migrateUp(embedded);
      await restoreBackup(embedded, file);
      expect(await searches(embedded)).toEqual(expected);
      expect(await reads(embedded)).toEqual(expectedReads);
      const statuses = await embedded.orm.em
        .fork()
        .execute(`select status, count(*)::int as count from planner.plans group by status order by status`);
      expect(statuses).toEqual([
        { status: 'active', count: 1 },
        { status: 'archived', count: 1 },
      ]);
      const again = await writeBackup(embedded, path.join(dir, 'again.huddle'));
      expect(again.source.engine).toBe('pglite');
      expect(tablesOf(again)).toEqual(tablesOf(original));
    } finally {
      await embedded.close();
    }
  });
});
