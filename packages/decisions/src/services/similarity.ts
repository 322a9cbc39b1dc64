import {
  type EntityManager,
  executePrepared,
  outputColumnsSql,
  preparedStatement,
  toVectorLiteral,
} from '@huddle/db';
import type { DecisionsActor } from '../actor.ts';
import type { DecisionsResources } from '../resources.ts';
import type { SimilarDecision, SimilarInput } from '../schemas.ts';
import { decisionText, type Embedder, embedTexts } from '../similarity/embedder.ts';
import { requireDecision, requireProjectRole } from './access.ts';
import { decisionSummaryColumns } from './outputs.ts';

/**
 * Candidates the HNSW scan keeps per step (pgvector's default is 40). Higher raises recall at some cost;
 * 100 keeps recall@10 above 0.95 on the tests' 10,000 decisions.
 */
const EF_SEARCH = 100;

/** `prepareNearestNeighbourScan`'s statement: `$1` the candidates kept per step. */
const nearestNeighbourScanStatement = preparedStatement<never>(
  'decisions.nearest_scan',
  `select set_config('hnsw.iterative_scan', 'relaxed_order', true), set_config('hnsw.ef_search', $1, true),
     set_config('plan_cache_mode', 'force_custom_plan', true)`,
);

/**
 * Settings for this transaction's nearest-neighbour scans: with a filter (project, membership, not
 * deleted) pgvector 0.8's iterative index scan keeps reading the HNSW index until `limit` rows pass it,
 * instead of returning fewer; `relaxed_order` may return them slightly out of order, so callers sort again.
 * The prepared scans are planned for their actual project ids every time (`force_custom_plan`): with the
 * actual list the planner can estimate how many rows the filter keeps (a generic plan, like a membership
 * subquery, made it misjudge that and skip the index).
 */
export async function prepareNearestNeighbourScan(em: EntityManager, k: number): Promise<void> {
  await executePrepared(em, nearestNeighbourScanStatement, [String(Math.max(EF_SEARCH, k))]);
}

/**
 * The statement behind `similarDecisions`: live decisions of the project ids `$2`, ordered by cosine distance
 * to the vector `$1` (the HNSW index's order) but the decision `$3` (0: none), at most `$4`, sorted again by
 * distance (iterative scans may relax the order). Its rows are `SimilarDecision`s.
 */
export const nearestDecisionsStatement = preparedStatement<SimilarDecision>(
  'decisions.nearest',
  `select * from (
     select ${outputColumnsSql<SimilarDecision>({
       ...decisionSummaryColumns('d'),
       statement: 'd.statement',
       distance: 'd.embedding <=> $1::vector',
     })}
     from decisions.decisions d
     where d.deleted_at is null and d.project_id = any($2::int[]) and d.id <> $3
     order by d.embedding <=> $1::vector limit $4) nearest
   order by distance, id`,
);

/** `nearestDecisionsStatement` with its parameters (`$1`–`$4`). */
export function nearestDecisionsQuery(options: {
  vector: readonly number[];
  k: number;
  excludeId: number | null;
  projectIds: readonly number[];
}): { sql: string; params: unknown[] } {
  return {
    sql: nearestDecisionsStatement.sql,
    params: [toVectorLiteral(options.vector), [...options.projectIds], options.excludeId ?? 0, options.k],
  };
}

/** `memberProjectIds`' statement: `$1` the user. */
const memberProjectIdsStatement = preparedStatement<{ id: number }>(
  'decisions.member_project_ids',
  `select p.id from decisions.project_members m join decisions.projects p on p.id = m.project_id
   where m.user_id = $1 and p.archived_at is null`,
);

/** The live projects `userId` is a member of. */
export async function memberProjectIds(em: EntityManager, userId: number): Promise<number[]> {
  const rows = await executePrepared(em, memberProjectIdsStatement, [userId]);
  return rows.map((row) => row.id);
}

/**
 * The query vector for a decision the actor may read: its stored embedding when `embedder` made it,
 * otherwise its title and statement embedded now (the stored one may be missing or another model's).
 */
async function decisionVector(
  em: EntityManager,
  actor: DecisionsActor,
  decisionId: number,
  embedder: Embedder,
): Promise<number[]> {
  const { decision } = await requireDecision(em, actor, decisionId, 'viewer');
  await em.populate(decision, ['embedding']);
  if (decision.embedding && decision.embeddingModel === embedder.name) return decision.embedding;
  return (await embedTexts(embedder, [decisionText(decision)])).vectors[0]!;
}

/**
 * The k decisions closest in meaning to a decision or a text, by cosine distance through the HNSW index:
 * never deleted ones, only in projects the actor is a member of (live ones, or the one named by
 * `projectId`, archived or not); a decision asked about is not its own neighbour.
 */
export async function similarDecisions(
  em: EntityManager,
  actor: DecisionsActor,
  input: SimilarInput,
  { embedder }: DecisionsResources,
): Promise<SimilarDecision[]> {
  const { decisionId, text, projectId, k } = input;
  if (projectId !== undefined) await requireProjectRole(em, actor, projectId, 'viewer');
  const vector =
    decisionId !== undefined
      ? await decisionVector(em, actor, decisionId, embedder)
      : (await embedTexts(embedder, [text!])).vectors[0]!;
  const projectIds = projectId !== undefined ? [projectId] : await memberProjectIds(em, actor.userId);
  if (projectIds.length === 0) return [];
  await prepareNearestNeighbourScan(em, k);
  const { params } = nearestDecisionsQuery({ vector, k, excludeId: decisionId ?? null, projectIds });
  return executePrepared(em, nearestDecisionsStatement, params);
}
