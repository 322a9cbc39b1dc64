import { executePrepared, runJob, seededRandom } from '@huddle/db';
import { useTestDatabase } from '@huddle/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DecisionsActor } from '../src/actor.ts';
import { decisionsModule } from '../src/module.ts';
import { decisionsOperations } from '../src/operations.ts';
import { sampleDecisionText } from '../src/seeders/corpus.ts';
import { nearestDecisionsQuery, prepareNearestNeighbourScan } from '../src/services/similarity.ts';
import { hashEmbedding } from '../src/similarity/embedder.ts';
import { actorOf, asActor, call, UNUSED_PASSWORD_HASH, useSqlClient } from './helpers.ts';

/**
 * Similarity at scale: 10,000 decisions over ten projects, embedded by the reembed job, searched through the
 * HNSW index and compared with an exact search (a sequential scan of the same query).
 */
const test = useTestDatabase([decisionsModule]);
const postgres = useSqlClient(test);
const DECISIONS = 10_000;
const QUERIES = 40;
const K = 10;
/** Project 0…7 share most rows; `small` has 1% of them; the actor is not a member of `hidden`. */
const projects = { regular: [] as number[], small: 0, hidden: 0 };
let actor: DecisionsActor;

function projectOf(index: number): number {
  if (index % 100 === 0) return projects.small;
  if (index % 10 === 1) return projects.hidden;
  return projects.regular[index % projects.regular.length]!;
}
const isDeleted = (index: number) => index % 97 === 5;
const visibleProjects = () => [...projects.regular, projects.small];

beforeAll(async () => {
  const sql = postgres.client;
  const user = await sql.query<{ id: number }>(
    `insert into decisions.users (email, name, password_hash) values ('searcher@sim.test', 'Searcher', $1) returning id`,
    [UNUSED_PASSWORD_HASH],
  );
  const userId = user.rows[0]!.id;
  actor = actorOf({ id: userId });
  const created = await sql.query<{ id: number }>(
    `insert into decisions.projects (name, created_by) select 'Sim ' || n, $1 from generate_series(1, 10) n returning id`,
    [userId],
  );
  const ids = created.rows.map((row) => row.id);
  projects.regular = ids.slice(0, 8);
  projects.small = ids[8]!;
  projects.hidden = ids[9]!;
  await sql.query(
    `insert into decisions.project_members (project_id, user_id, role) select unnest($1::int[]), $2, 'viewer'`,
    [[...projects.regular, projects.small], userId],
  );
  // The migration's HNSW index, built once over the loaded rows instead of row by row as the re-embedding
  // writes them (the same definition, read back from the catalog): about 25 s of the server's CPU less.
  const [hnsw] = (
    await sql.query<{ definition: string }>(
      `select pg_get_indexdef('decisions.idx_decisions_embedding_hnsw'::regclass) as definition`,
    )
  ).rows;
  await sql.query('drop index decisions.idx_decisions_embedding_hnsw');
  const random = seededRandom(11);
  const rows = Array.from({ length: DECISIONS }, (_, index) => ({
    project_id: projectOf(index),
    ...sampleDecisionText(random),
    deleted: isDeleted(index),
  }));
  for (let start = 0; start < rows.length; start += 2_500) {
    await sql.query(
      `insert into decisions.decisions (project_id, title, statement, confidence, deleted_at)
       select project_id, title, statement, 0.8, case when deleted then now() end
       from jsonb_to_recordset($1::jsonb) as r(project_id int, title text, statement text, deleted boolean)`,
      [JSON.stringify(rows.slice(start, start + 2_500))],
    );
  }
  const job = await runJob(test.db, 'decisions.reembed');
  expect(job).toMatchObject({ status: 'ran', rows: DECISIONS });
  await sql.query(hnsw!.definition);
  for (const table of ['users', 'projects', 'project_members', 'decisions'])
    await sql.query(`analyze decisions.${table}`);
}, 300_000);

/** The exact top k for a scope: the same query with index scans off, so PostgreSQL reads every row. */
async function exactSearch(vector: number[], projectIds: number[]) {
  const nearest = nearestDecisionsQuery({ vector, k: K, excludeId: null, projectIds });
  await postgres.client.query('begin');
  try {
    await postgres.client.query('set local enable_indexscan = off');
    const plan = await postgres.client.query(`explain (format json) ${nearest.sql}`, nearest.params);
    expect(JSON.stringify(plan.rows)).not.toContain('idx_decisions_embedding_hnsw');
    const { rows } = await postgres.client.query<{ id: number; distance: number }>(
      nearest.sql,
      nearest.params,
    );
    return rows;
  } finally {
    await postgres.client.query('commit');
  }
}

/**
 * recall@k of the service against exact search: the share of the service's results that are among the true
 * k nearest (ties at the k-th distance count as true neighbours).
 */
async function recall(scope: { projectId: number } | undefined): Promise<number> {
  const random = seededRandom(4242);
  let found = 0;
  for (let query = 0; query < QUERIES; query++) {
    const text = sampleDecisionText(random).title;
    const approximate = await call(test.db, actor, decisionsOperations.similar, {
      text,
      k: K,
      ...(scope && { projectId: scope.projectId }),
    });
    const exact = await exactSearch(hashEmbedding(text), scope ? [scope.projectId] : visibleProjects());
    expect(approximate).toHaveLength(K);
    const threshold = exact[K - 1]!.distance + 1e-9;
    found += approximate.filter((row) => row.distance <= threshold).length;
  }
  return found / (QUERIES * K);
}

describe('similarity through the HNSW index', () => {
  it('has recall@10 ≥ 0.95 against exact search, unfiltered', async () => {
    const value = await recall(undefined);
    console.info(`recall@${K} unfiltered over ${DECISIONS} decisions: ${value.toFixed(3)}`);
    expect(value).toBeGreaterThanOrEqual(0.95);
  });

  it('has recall@10 ≥ 0.95 against exact search, filtered by project', async () => {
    const value = await recall({ projectId: projects.regular[3]! });
    console.info(`recall@${K} filtered by project over ${DECISIONS} decisions: ${value.toFixed(3)}`);
    expect(value).toBeGreaterThanOrEqual(0.95);
  });

  it('uses the HNSW index, with and without a project filter', async () => {
    for (const projectIds of [visibleProjects(), [projects.regular[0]!]]) {
      const plan = await asActor(test.db, actor, async (em) => {
        await prepareNearestNeighbourScan(em, K);
        const nearest = nearestDecisionsQuery({
          vector: hashEmbedding('Adopt Redis'),
          k: K,
          excludeId: null,
          projectIds,
        });
        // The service's statement as it runs it, with its `$n` parameters (unnamed: only its plan is read).
        return executePrepared(
          em,
          { name: 'explain', sql: `explain (format json) ${nearest.sql}` },
          nearest.params,
        );
      });
      expect(JSON.stringify(plan)).toContain('"Index Name":"idx_decisions_embedding_hnsw"');
    }
  });

  it('still returns k results from a project holding 1% of the rows (iterative index scan)', async () => {
    const results = await call(test.db, actor, decisionsOperations.similar, {
      text: 'Adopt Redis for the EU region',
      k: K,
      projectId: projects.small,
    });
    expect(results).toHaveLength(K);
    expect(new Set(results.map((row) => row.projectId))).toEqual(new Set([projects.small]));
    const distances = results.map((row) => row.distance);
    expect(distances).toEqual(distances.toSorted((a, b) => a - b));
  });

  it('keeps scanning the HNSW index past a selective filter with iterative scans (pgvector 0.8)', async () => {
    const vector = `[${hashEmbedding('Adopt Redis for the EU region').join(',')}]`;
    const count = async (mode: 'off' | 'relaxed_order') => {
      await postgres.client.query('begin');
      try {
        await postgres.client.query(
          `select set_config('hnsw.iterative_scan', $1, true), set_config('hnsw.ef_search', '10', true)`,
          [mode],
        );
        const sql = `select id from decisions.decisions d where d.title like 'Merge%' order by d.embedding <=> $1::vector limit 10`;
        const plan = await postgres.client.query(`explain (format json) ${sql}`, [vector]);
        expect(JSON.stringify(plan.rows)).toContain('"Index Name":"idx_decisions_embedding_hnsw"');
        return (await postgres.client.query(sql, [vector])).rowCount;
      } finally {
        await postgres.client.query('commit');
      }
    };
    // One title in twenty starts with "Merge": ten candidates hold about one, and without iterative scans
    // the index stops there.
    expect(await count('off')).toBeLessThan(K);
    expect(await count('relaxed_order')).toBe(K);
  });

  it('never returns deleted decisions or decisions of projects the caller is not a member of', async () => {
    const { rows } = await postgres.client.query<{ id: number }>(
      'select id from decisions.decisions where deleted_at is not null or project_id = $1',
      [projects.hidden],
    );
    const invisible = new Set(rows.map((row) => row.id));
    const random = seededRandom(7);
    for (let query = 0; query < 10; query++) {
      const results = await call(test.db, actor, decisionsOperations.similar, {
        text: sampleDecisionText(random).statement,
        k: 50,
      });
      expect(results).toHaveLength(50);
      expect(results.filter((row) => invisible.has(row.id))).toEqual([]);
    }
  });

  it('finds the nearest decisions to a decision, without the decision itself', async () => {
    const { rows } = await postgres.client.query<{ id: number; title: string }>(
      'select id, title from decisions.decisions where project_id = $1 and deleted_at is null order by id limit 1',
      [projects.regular[0]],
    );
    const [origin] = rows;
    const results = await call(test.db, actor, decisionsOperations.similar, { decisionId: origin!.id, k: 5 });
    expect(results.map((row) => row.id)).not.toContain(origin!.id);
    expect(results).toHaveLength(5);
    // Wording overlap ranks first: the nearest shares the title's words.
    const words = (text: string) => new Set(text.toLowerCase().split(/\W+/));
    const shared = [...words(results[0]!.title)].filter((word) => words(origin!.title).has(word));
    expect(shared.length).toBeGreaterThanOrEqual(2);
  });
});
