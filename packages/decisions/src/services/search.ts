import type { EntityManager } from '@huddle/db';
import { toPage } from '@huddle/db/zod';
import type { DecisionsActor } from '../actor.ts';
import { decisionSearchVectorSql } from '../entities/decision.ts';
import type { DecisionsResources } from '../resources.ts';
import { SEARCH_CANDIDATES, type SearchInput, type SearchPage, type SearchResult } from '../schemas.ts';
import { embedTexts } from '../similarity/embedder.ts';
import { requireProjectRole } from './access.ts';
import { isoFromDatabase } from './outputs.ts';
import { memberProjectIds, nearestDecisionsQuery, prepareNearestNeighbourScan } from './similarity.ts';

/** Reciprocal rank fusion's constant: a result's score is the sum over the rankings of 1 / (k + rank). */
const RRF_K = 60;

interface SearchRow {
  id: number;
  project_id: number;
  title: string;
  statement: string;
  status: SearchResult['status'];
  decided_at: string;
  score: number;
  text_rank: string | null;
  meaning_rank: string | null;
}

/**
 * The statement behind `searchDecisions`, over live decisions of `projectIds` (integers read from the
 * database, written into the statement as `similar` does): the best full-text matches of the query
 * (`websearch_to_tsquery`, ranked by `ts_rank_cd`, through idx_decisions_search) and the nearest in meaning
 * (`nearestDecisionsQuery`, through the HNSW index), SEARCH_CANDIDATES of each, fused by reciprocal rank
 * and read a page at a time, best first.
 */
export function searchDecisionsStatement(options: {
  text: string;
  vector: readonly number[];
  projectIds: readonly number[];
  limit: number;
  after: readonly [number, number] | undefined;
}): { sql: string; params: unknown[] } {
  const nearest = nearestDecisionsQuery({
    vector: options.vector,
    k: SEARCH_CANDIDATES,
    excludeId: null,
    projectIds: options.projectIds,
  });
  const document = decisionSearchVectorSql('d');
  return {
    sql: `with matched as (
         select d.id, row_number() over (order by ts_rank_cd(${document}, q.query, 32) desc, d.id) as rank
         from decisions.decisions d, websearch_to_tsquery('english', ?) q(query)
         where d.deleted_at is null and d.project_id in (${options.projectIds.join(', ')}) and ${document} @@ q.query
         order by rank limit ${SEARCH_CANDIDATES}),
       nearest as (select n.id, row_number() over (order by n.distance, n.id) as rank from (${nearest.sql}) n),
       fused as (
         select id, sum(1.0::float8 / (${RRF_K} + rank)) as score,
                min(rank) filter (where source = 'text') as text_rank,
                min(rank) filter (where source = 'meaning') as meaning_rank
         from (select id, rank, 'text' as source from matched
               union all select id, rank, 'meaning' as source from nearest) ranked
         group by id)
       select d.id, d.project_id, d.title, d.statement, d.status, d.decided_at, f.score, f.text_rank, f.meaning_rank
       from fused f join decisions.decisions d on d.id = f.id
       ${options.after ? 'where f.score < ? or (f.score = ? and f.id > ?)' : ''}
       order by f.score desc, f.id limit ?`,
    params: [
      options.text,
      ...nearest.params,
      ...(options.after ? [options.after[0], options.after[0], options.after[1]] : []),
      options.limit + 1,
    ],
  };
}

/**
 * Decisions matching a text by their words (full-text search over title, statement and rationale) and by
 * meaning (the embedder's similarity), in one ranking (reciprocal rank fusion), a page at a time: never
 * deleted ones, only in projects the actor is a member of (live ones, or the one named by `projectId`,
 * archived or not), as `similar` filters them.
 */
export async function searchDecisions(
  em: EntityManager,
  actor: DecisionsActor,
  input: SearchInput,
  { embedder }: DecisionsResources,
): Promise<SearchPage> {
  const { text, projectId, limit, cursor } = input;
  if (projectId !== undefined) await requireProjectRole(em, actor, projectId, 'viewer');
  const projectIds = projectId !== undefined ? [projectId] : await memberProjectIds(em, actor.userId);
  if (projectIds.length === 0) return { items: [], nextCursor: null };
  const vector = (await embedTexts(embedder, [text])).vectors[0]!;
  await prepareNearestNeighbourScan(em, SEARCH_CANDIDATES);
  const query = searchDecisionsStatement({ text, vector, projectIds, limit, after: cursor });
  const rows: SearchRow[] = await em.execute(query.sql, query.params);
  return toPage(
    rows,
    limit,
    (row): SearchResult => ({
      id: row.id,
      projectId: row.project_id,
      title: row.title,
      statement: row.statement,
      status: row.status,
      decidedAt: isoFromDatabase(row.decided_at),
      score: Number(row.score),
      textRank: row.text_rank === null ? null : Number(row.text_rank),
      meaningRank: row.meaning_rank === null ? null : Number(row.meaning_rank),
    }),
    (row) => [Number(row.score), row.id],
  );
}
