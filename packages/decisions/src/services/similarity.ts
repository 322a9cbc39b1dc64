import { type EntityManager, toVectorLiteral } from '@huddle/db';
import type { DecisionsActor } from '../actor.ts';
import type { DecisionsResources } from '../resources.ts';
import type { DecisionStatus, SimilarDecision, SimilarInput } from '../schemas.ts';
import { decisionText, type Embedder, embedTexts } from '../similarity/embedder.ts';
import { requireDecision, requireProjectRole } from './access.ts';
import { isoFromDatabase } from './outputs.ts';

/**
 * Candidates the HNSW scan keeps per step (pgvector's default is 40). Higher raises recall at some cost;
 * 100 keeps recall@10 above 0.95 on the tests' 10,000 decisions.
 */
const EF_SEARCH = 100;

interface SimilarRow {
  id: number;
  project_id: number;
  title: string;
  statement: string;
  status: DecisionStatus;
  decided_at: string;
  distance: number;
}

/**
 * Settings for this transaction's nearest-neighbour scans: with a filter (project, membership, not
 * deleted) pgvector 0.8's iterative index scan keeps reading the HNSW index until `limit` rows pass it,
 * instead of returning fewer; `relaxed_order` may return them slightly out of order, so callers sort again.
 */
export async function prepareNearestNeighbourScan(em: EntityManager, k: number): Promise<void> {
  await em.execute(
    `select set_config('hnsw.iterative_scan', 'relaxed_order', true), set_config('hnsw.ef_search', ?, true)`,
    [String(Math.max(EF_SEARCH, k))],
  );
}

/**
 * The statement behind `similarDecisions`: live decisions of `projectIds`, ordered by cosine distance to
 * `vector` (the HNSW index's order), at most `k`, sorted again by distance (iterative scans may relax the
 * order). The ids are written into the statement: they are integers read from the database, and with the
 * actual list the planner can estimate how many rows the filter keeps (a membership subquery made it
 * misjudge that and skip the index).
 */
export function nearestDecisionsQuery(options: {
  vector: readonly number[];
  k: number;
  excludeId: number | null;
  projectIds: readonly number[];
}): { sql: string; params: unknown[] } {
  const vector = toVectorLiteral(options.vector);
  const projectIds = options.projectIds.map((id) => {
    if (!Number.isSafeInteger(id)) throw new Error(`projectIds: ${id} is not an integer`);
    return id;
  });
  return {
    sql: `select * from (
       select d.id, d.project_id, d.title, d.statement, d.status, d.decided_at, d.embedding <=> ?::vector as distance
       from decisions.decisions d
       where d.deleted_at is null and d.project_id in (${projectIds.join(', ')}) and d.id <> ?
       order by d.embedding <=> ?::vector limit ?) nearest
     order by distance, id`,
    params: [vector, options.excludeId ?? 0, vector, options.k],
  };
}

/** The live projects `userId` is a member of. */
export async function memberProjectIds(em: EntityManager, userId: number): Promise<number[]> {
  const rows: { id: number }[] = await em.execute(
    `select p.id from decisions.project_members m join decisions.projects p on p.id = m.project_id
     where m.user_id = ? and p.archived_at is null`,
    [userId],
  );
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
  const nearest = nearestDecisionsQuery({ vector, k, excludeId: decisionId ?? null, projectIds });
  const rows: SimilarRow[] = await em.execute(nearest.sql, nearest.params);
  return rows.map((row) => ({
    id: row.id,
    projectId: row.project_id,
    title: row.title,
    statement: row.statement,
    status: row.status,
    decidedAt: isoFromDatabase(row.decided_at),
    distance: Number(row.distance),
  }));
}
