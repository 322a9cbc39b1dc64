import { type EntityManager, executePrepared, outputColumnsSql, preparedStatement } from '@huddle/db';
import { rowsToPage } from '@huddle/db/zod';
import type { DecisionsActor } from '../actor.ts';
import { decisionSearchVectorSql } from '../entities/decision.ts';
import type { DecisionsResources } from '../resources.ts';
import { SEARCH_CANDIDATES, type SearchInput, type SearchPage, type SearchResult } from '../schemas.ts';
import { embedTexts } from '../similarity/embedder.ts';
import { requireProjectRole } from './access.ts';
import { decisionSummaryColumns } from './outputs.ts';
import {
  memberProjectIds,
  nearestDecisionsQuery,
  nearestDecisionsStatement,
  prepareNearestNeighbourScan,
} from './similarity.ts';

/** Reciprocal rank fusion's constant: a result's score is the sum over the rankings of 1 / (k + rank). */
const RRF_K = 60;

const decisionDocument = decisionSearchVectorSql('d');

/**
 * The statement behind `searchDecisions`, over live decisions of the project ids `$2`: the best full-text
 * matches of the query `$5` (`websearch_to_tsquery`, ranked by `ts_rank_cd`, through idx_decisions_search)
 * and the nearest in meaning to the vector `$1` (`nearestDecisionsStatement`, through the HNSW index, with
 * its parameters `$1`–`$4`), SEARCH_CANDIDATES of each, fused by reciprocal rank and read a page at a time,
 * best first: `$6` the page size and one, `$7`–`$8` the cursor's score and id (null: first page).
 */
const fusedSearchStatement = preparedStatement<SearchResult>(
  'decisions.search',
  `with matched as (
     select d.id, row_number() over (order by ts_rank_cd(${decisionDocument}, q.query, 32) desc, d.id) as rank
     from decisions.decisions d, websearch_to_tsquery('english', $5) q(query)
     where d.deleted_at is null and d.project_id = any($2::int[]) and ${decisionDocument} @@ q.query
     order by rank limit ${SEARCH_CANDIDATES}),
   nearest as (select n.id, row_number() over (order by n.distance, n.id) as rank
               from (${nearestDecisionsStatement.sql}) n),
   fused as (
     select id, sum(1.0::float8 / (${RRF_K} + rank)) as score,
            min(rank) filter (where source = 'text') as text_rank,
            min(rank) filter (where source = 'meaning') as meaning_rank
     from (select id, rank, 'text' as source from matched
           union all select id, rank, 'meaning' as source from nearest) ranked
     group by id)
   select ${outputColumnsSql<SearchResult>({
     ...decisionSummaryColumns('d'),
     statement: 'd.statement',
     score: 'f.score',
     textRank: 'f.text_rank::int',
     meaningRank: 'f.meaning_rank::int',
   })}
   from fused f join decisions.decisions d on d.id = f.id
   where $7::float8 is null or f.score < $7 or (f.score = $7 and f.id > $8::int)
   order by f.score desc, f.id limit $6`,
);

/** `searchDecisions`' statement with its parameters, exported so the bench runs exactly what the service does. */
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
  return {
    sql: fusedSearchStatement.sql,
    params: [...nearest.params, options.text, options.limit + 1, ...(options.after ?? [null, null])],
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
  const { params } = searchDecisionsStatement({ text, vector, projectIds, limit, after: cursor });
  const rows = await executePrepared(em, fusedSearchStatement, params);
  return rowsToPage(rows, limit, (result) => [result.score, result.id]);
}
