import { type EntityManager, keysetTimestampSql } from '@huddle/db';
import { toPage } from '@huddle/db/zod';
import type { PlannerActor } from '../actor.ts';
import { PlannerArtifact, stepWordsSql } from '../entities/artifact.ts';
import { PlannerChatSession } from '../entities/chat-session.ts';
import { PlannerPlan } from '../entities/plan.ts';
import type {
  ArtifactMatchPage,
  ArtifactsWithStepInput,
  ChatSessionMatchPage,
  ChatSessionsMentioningInput,
  PlanMatchPage,
  PlansTouchingFileInput,
} from '../schemas.ts';
import { toArtifact, toChatSession, toPlanVersion } from './outputs.ts';

/**
 * Search by content: JSONB containment (`@>`), which the default `jsonb_ops` GIN indexes answer
 * (`idx_plan_artifacts_content_gin`, `idx_chat_messages_gin`), and steps by words, through the full-text
 * index `idx_plan_artifacts_steps_search`. Each search finds a page of ids, with the
 * sort key of each for the next page's cursor, in one statement through the index, then reads the rows it
 * returns through the ORM.
 */

/** A bound statement, exported so tests can EXPLAIN exactly what the services run. */
export interface SearchQuery {
  sql: string;
  params: unknown[];
  /** The page size; the statement reads one row more, which says whether another page follows. */
  limit: number;
}

type Condition = { sql: string; params: unknown[] };

const inRepository = (repositoryId: string | undefined): Condition =>
  repositoryId === undefined
    ? { sql: '', params: [] }
    : { sql: ' and p.repository_id = ?', params: [repositoryId] };

/** ` and (key columns) > (cursor)`: the rows after the cursor, in the order of those columns. */
const afterCursor = (comparison: string, cursor: readonly unknown[] | undefined): Condition =>
  cursor === undefined ? { sql: '', params: [] } : { sql: ` and ${comparison}`, params: [...cursor] };

/** Plan versions with a code change to `path` (as the changed path or as the path a rename came from). */
export function plansTouchingFileQuery({
  path,
  repositoryId,
  limit,
  cursor,
}: PlansTouchingFileInput): SearchQuery {
  const repository = inRepository(repositoryId);
  const after = afterCursor('(p.name, p.version, p.id) > (?, ?, ?::uuid)', cursor);
  return {
    sql: `select p.id, json_build_array(p.name, p.version, p.id) as key from planner.plans p where p.id in (
            select a.plan_id from planner.plan_artifacts a where a.content @> ?::jsonb or a.content @> ?::jsonb
          )${repository.sql}${after.sql} order by p.name, p.version, p.id limit ?`,
    params: [
      JSON.stringify({ changes: [{ path }] }),
      JSON.stringify({ changes: [{ previousPath: path }] }),
      ...repository.params,
      ...after.params,
      limit + 1,
    ],
    limit,
  };
}

/**
 * Artifacts (implementation steps) with a step titled `title` (containment: `idx_plan_artifacts_content_gin`),
 * or whose steps' titles and details have `words` (full-text search: `idx_plan_artifacts_steps_search`).
 */
export function artifactsWithStepQuery({
  title,
  words,
  repositoryId,
  limit,
  cursor,
}: ArtifactsWithStepInput): SearchQuery {
  const match: Condition =
    words === undefined
      ? { sql: 'a.content @> ?::jsonb', params: [JSON.stringify({ steps: [{ title }] })] }
      : {
          sql: `a.artifact_type = 'implementation_steps' and ${stepWordsSql('a.content')} @@ websearch_to_tsquery('english', ?)`,
          params: [words],
        };
  const repository = inRepository(repositoryId);
  const after = afterCursor(
    '(p.name, p.version, a.created_at, a.id) > (?, ?, ?::timestamptz, ?::uuid)',
    cursor,
  );
  return {
    sql: `select a.id, json_build_array(p.name, p.version, ${keysetTimestampSql('a.created_at')}, a.id) as key
          from planner.plan_artifacts a join planner.plans p on p.id = a.plan_id
          where ${match.sql}${repository.sql}${after.sql}
          order by p.name, p.version, a.created_at, a.id limit ?`,
    params: [...match.params, ...repository.params, ...after.params, limit + 1],
    limit,
  };
}

/**
 * Chat sessions with a message mentioning `term` (a word of its content, as `chatTerms` splits it), of
 * `role` when given: `messages @> '[{"terms": [term]}]'`. Latest changed first.
 */
export function chatSessionsMentioningQuery({
  term,
  role,
  repositoryId,
  limit,
  cursor,
}: ChatSessionsMentioningInput): SearchQuery {
  const repository = inRepository(repositoryId);
  const after = afterCursor('(c.updated_at, c.id) < (?::timestamptz, ?::uuid)', cursor);
  return {
    sql: `select c.id, json_build_array(${keysetTimestampSql('c.updated_at')}, c.id) as key
          from planner.chat_sessions c join planner.plans p on p.id = c.plan_id
          where c.messages @> ?::jsonb${repository.sql}${after.sql} order by c.updated_at desc, c.id desc limit ?`,
    params: [
      JSON.stringify([{ ...(role && { role }), terms: [term] }]),
      ...repository.params,
      ...after.params,
      limit + 1,
    ],
    limit,
  };
}

/** A page of the ids `query` finds, and the cursor of the next page. */
async function matchingIds(
  em: EntityManager,
  query: SearchQuery,
): Promise<{ ids: string[]; nextCursor: string | null }> {
  const rows: { id: string; key: unknown }[] = await em.execute(query.sql, query.params);
  const page = toPage(
    rows,
    query.limit,
    (row) => row.id,
    (row) => row.key,
  );
  return { ids: page.items, nextCursor: page.nextCursor };
}

/** In the order of `ids`. */
function inOrder<T extends { id: string }>(ids: readonly string[], items: readonly T[]): T[] {
  const byId = new Map(items.map((item) => [item.id, item]));
  return ids.flatMap((id) => byId.get(id) ?? []);
}

export async function plansTouchingFile(
  em: EntityManager,
  _actor: PlannerActor,
  input: PlansTouchingFileInput,
): Promise<PlanMatchPage> {
  const { ids, nextCursor } = await matchingIds(em, plansTouchingFileQuery(input));
  const plans = await em.find(PlannerPlan, { id: { $in: ids } });
  return { items: inOrder(ids, plans).map(toPlanVersion), nextCursor };
}

export async function artifactsWithStep(
  em: EntityManager,
  _actor: PlannerActor,
  input: ArtifactsWithStepInput,
): Promise<ArtifactMatchPage> {
  const { ids, nextCursor } = await matchingIds(em, artifactsWithStepQuery(input));
  const artifacts = await em.find(PlannerArtifact, { id: { $in: ids } }, { populate: ['plan'] });
  const items = inOrder(ids, artifacts).map((artifact) => ({
    artifact: toArtifact(artifact),
    plan: toPlanVersion(artifact.plan.$),
  }));
  return { items, nextCursor };
}

export async function chatSessionsMentioning(
  em: EntityManager,
  _actor: PlannerActor,
  input: ChatSessionsMentioningInput,
): Promise<ChatSessionMatchPage> {
  const { ids, nextCursor } = await matchingIds(em, chatSessionsMentioningQuery(input));
  const sessions = await em.find(PlannerChatSession, { id: { $in: ids } }, { populate: ['plan'] });
  const items = inOrder(ids, sessions).map((session) => ({
    ...toChatSession(session),
    plan: toPlanVersion(session.plan.$),
  }));
  return { items, nextCursor };
}
