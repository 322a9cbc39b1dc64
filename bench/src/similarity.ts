import { domainModules } from '@huddle/composition';
import { seed } from '@huddle/db';
import pg from 'pg';
import { count, migratedDatabase, ratio, timed } from './server.ts';

const K = 10;
const QUERIES = 100;

export interface SimilarityFigures {
  decisions: number;
  seedMilliseconds: number;
  unfiltered: SearchFigures;
  filtered: SearchFigures;
}

interface SearchFigures {
  recall: number;
  hnswMilliseconds: number;
  exactMilliseconds: number;
}

/** The top k live decisions by cosine distance, through the HNSW index or, with index scans off, exactly. */
async function topK(client: pg.PoolClient, vector: string, projectId: number | null, exact: boolean) {
  await client.query('begin');
  try {
    await client.query(
      exact
        ? 'set local enable_indexscan = off'
        : "select set_config('hnsw.iterative_scan', 'relaxed_order', true), set_config('hnsw.ef_search', '100', true)",
    );
    const started = performance.now();
    const { rows } = await client.query<{ id: number }>(
      `select id from decisions.decisions where deleted_at is null ${projectId === null ? '' : 'and project_id = $2'}
       order by embedding <=> $1::vector limit ${K}`,
      projectId === null ? [vector] : [vector, projectId],
    );
    return { ids: rows.map((row) => row.id), milliseconds: performance.now() - started };
  } finally {
    await client.query('commit');
  }
}

async function compare(
  client: pg.PoolClient,
  queries: { vector: string; projectId: number }[],
  filtered: boolean,
) {
  let found = 0;
  let expected = 0;
  let hnswMilliseconds = 0;
  let exactMilliseconds = 0;
  for (const query of queries) {
    const projectId = filtered ? query.projectId : null;
    const exact = await topK(client, query.vector, projectId, true);
    const hnsw = await topK(client, query.vector, projectId, false);
    const truth = new Set(exact.ids);
    found += hnsw.ids.filter((id) => truth.has(id)).length;
    expected += exact.ids.length;
    hnswMilliseconds += hnsw.milliseconds;
    exactMilliseconds += exact.milliseconds;
  }
  return {
    recall: found / expected,
    hnswMilliseconds: hnswMilliseconds / queries.length,
    exactMilliseconds: exactMilliseconds / queries.length,
  };
}

/**
 * `similarDecisions`' statement shape at scale: decisions' realistic seed (embeddings included) until
 * about `decisions` rows, then top-10 by cosine distance through the HNSW index against an exact search
 * (index scans off: every row read and sorted) for the same query vectors, unfiltered and within one
 * project; recall@10 and mean time per query.
 */
export async function benchSimilarity(serverUrl: string, decisions: number): Promise<SimilarityFigures> {
  const target = await migratedDatabase(serverUrl, 'bench_similarity', domainModules);
  const pool = new pg.Pool({ connectionString: target.url, max: 1 });
  try {
    // decisions' realistic seed writes 240 decisions per unit of scale (4 projects of 60).
    const seeded = await timed(() =>
      seed(target.db, 'realistic', { module: 'decisions', scale: Math.ceil(decisions / 240) }),
    );
    const client = await pool.connect();
    try {
      await client.query('analyze decisions.decisions');
      const total = (await client.query<{ n: number }>('select count(*)::int as n from decisions.decisions'))
        .rows[0]!.n;
      const { rows: queries } = await client.query<{ vector: string; projectId: number }>(
        `select embedding::text as vector, project_id as "projectId" from decisions.decisions
         where embedding is not null order by md5(id::text) limit ${QUERIES}`,
      );
      return {
        decisions: total,
        seedMilliseconds: seeded.milliseconds,
        unfiltered: await compare(client, queries, false),
        filtered: await compare(client, queries, true),
      };
    } finally {
      client.release();
    }
  } finally {
    await pool.end();
    await target.db.close();
  }
}

export function similarityReport(figures: SimilarityFigures): string[] {
  const line = (label: string, search: SearchFigures) =>
    `  ${label.padEnd(22)} recall@${K} ${search.recall.toFixed(3)}   HNSW ${search.hnswMilliseconds.toFixed(1)} ms   exact ${search.exactMilliseconds.toFixed(1)} ms   speed-up ${ratio(search.exactMilliseconds / search.hnswMilliseconds)}`;
  return [
    `similarity: ${count(figures.decisions)} decisions (seeded with embeddings in ${(figures.seedMilliseconds / 1000).toFixed(1)} s), ${QUERIES} queries, top ${K}`,
    line('unfiltered', figures.unfiltered),
    line('within one project', figures.filtered),
  ];
}
