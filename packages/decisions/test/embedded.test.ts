import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  type Database,
  migrateUp,
  migrationCheck,
  openDatabase,
  runJob,
  seed,
  seededRandom,
} from '@huddle/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decisionsModule } from '../src/module.ts';
import { decisionsOperations } from '../src/operations.ts';
import { sampleDecisionText } from '../src/seeders/corpus.ts';
import { signIn } from '../src/services/users.ts';
import { hashEmbedding } from '../src/similarity/embedder.ts';
import { actorOf, call, inRequest } from './helpers.ts';

/**
 * The embedded database (`pnpm start` without DATABASE_URL): PGlite, which is PostgreSQL 18 with its own
 * pgvector build. The module's migrations, seed, sign-in and similarity — iterative index scans included —
 * must work there as on the PostgreSQL server.
 */
let dataDir: string;
let db: Database;
const DECISIONS = 400;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'decisions-embedded-'));
  db = await openDatabase({ modules: [decisionsModule], target: { kind: 'pglite', dataDir } });
  await migrateUp(db);
  await seed(db, 'minimal');
  const random = seededRandom(3);
  const rows = Array.from({ length: DECISIONS }, () => sampleDecisionText(random));
  await db.orm.em.fork().execute(
    `insert into decisions.decisions (project_id, title, statement, confidence)
     select p.id, r.title, r.statement, 0.5 from jsonb_to_recordset(?::jsonb) as r(title text, statement text)
     join decisions.projects p on p.name = 'Test Project Alpha'`,
    [JSON.stringify(rows)],
  );
  expect(await runJob(db, 'decisions.reembed')).toMatchObject({ status: 'ran', rows: DECISIONS });
}, 120_000);

afterAll(async () => {
  await db?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('decisions on the embedded database (PGlite)', () => {
  it('migrates with no drift and signs the minimal seed’s director in', async () => {
    expect((await migrationCheck(db)).map(({ module, ok, drift }) => ({ module, ok, drift }))).toEqual([
      { module: 'huddle', ok: true, drift: [] },
      { module: 'decisions', ok: true, drift: [] },
    ]);
    const user = await inRequest(db, (em) => signIn(em, { email: 'test@example.com', password: 'password' }));
    expect(user.role).toBe('director');
  });

  it('keeps a selective filtered HNSW scan at k results with iterative scans (PGlite’s pgvector)', async () => {
    const vector = `[${hashEmbedding('Adopt Redis for the EU region').join(',')}]`;
    const count = (mode: 'off' | 'relaxed_order') =>
      db.orm.em.fork().transactional(async (em) => {
        // 400 rows are few enough for a sequential scan; the index path is what this checks.
        await em.execute(
          `select set_config('hnsw.iterative_scan', ?, true), set_config('hnsw.ef_search', '10', true),
                  set_config('enable_seqscan', 'off', true)`,
          [mode],
        );
        const sql = `select id from decisions.decisions d where d.title like 'Merge%' order by d.embedding <=> ?::vector limit 10`;
        const plan = await em.execute(`explain (format json) ${sql}`, [vector]);
        expect(JSON.stringify(plan)).toContain('idx_decisions_embedding_hnsw');
        return (await em.execute(sql, [vector])).length;
      });
    expect(await count('off')).toBeLessThan(10);
    expect(await count('relaxed_order')).toBe(10);
  });

  it('answers similarity as the seed’s director, through the request scope', async () => {
    const user = await inRequest(db, (em) => signIn(em, { email: 'test@example.com', password: 'password' }));
    const results = await call(db, actorOf(user), decisionsOperations.similar, {
      text: 'Adopt Redis for the EU region',
      k: 10,
    });
    expect(results).toHaveLength(10);
    expect(results[0]!.title).toMatch(/Redis|EU region|Adopt/);
  });

  it('serves the hot reads, rendered as JSON by the database, as the ORM’s writes answer', async () => {
    const user = await inRequest(db, (em) => signIn(em, { email: 'test@example.com', password: 'password' }));
    const director = actorOf(user);
    const { projects, decisions } = decisionsOperations;
    const {
      items: [alpha, beta],
    } = await call(db, director, projects.mine, undefined);
    expect([alpha!.name, beta!.name]).toEqual(['Test Project Alpha', 'Test Project Beta']);
    const archived = await call(db, director, projects.archive, { projectId: beta!.id });
    expect((await call(db, director, projects.mine, { includeArchived: true })).items).toEqual([
      alpha,
      archived,
    ]);
    expect(await call(db, director, projects.get, { projectId: beta!.id })).toEqual(archived);
    const {
      items: [latest],
    } = await call(db, director, decisions.list, { projectId: alpha!.id, limit: 1 });
    const accepted = await call(db, director, decisions.transition, {
      decisionId: latest!.id,
      status: 'accepted',
    });
    expect(
      (await call(db, director, decisions.list, { projectId: alpha!.id, status: 'accepted' })).items,
    ).toEqual([accepted]);
    expect(await call(db, director, decisions.get, { decisionId: accepted.id })).toEqual({
      ...accepted,
      relationships: [],
    });
  });
});
