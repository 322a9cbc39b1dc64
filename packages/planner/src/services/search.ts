import { type EntityManager, parseInput } from '@huddle/db';
import type { PlannerActor } from '../actor.ts';
import { PlannerArtifact } from '../entities/artifact.ts';
import { PlannerChatSession } from '../entities/chat-session.ts';
import { PlannerPlan } from '../entities/plan.ts';
import {
  type ArtifactMatch,
  type ArtifactsWithStepInput,
  artifactsWithStepInputSchema,
  type ChatSessionMatch,
  type ChatSessionsMentioningInput,
  chatSessionsMentioningInputSchema,
  type PlanMatch,
  type PlansTouchingFileInput,
  plansTouchingFileInputSchema,
} from '../schemas.ts';
import { toArtifact, toChatSession, toPlanVersion } from './outputs.ts';

/**
 * Search by content: JSONB containment (`@>`), which the default `jsonb_ops` GIN indexes answer
 * (`idx_plan_artifacts_content_gin`, `idx_chat_messages_gin`). Each search finds ids with one statement
 * through the index, then reads the rows it returns through the ORM.
 */

/** A bound statement, exported so tests can EXPLAIN exactly what the services run. */
export interface SearchQuery {
  sql: string;
  params: unknown[];
}

const inRepository = (repositoryId: string | undefined) =>
  repositoryId === undefined
    ? { sql: '', params: [] }
    : { sql: ' and p.repository_id = ?', params: [repositoryId] };

/** Plan versions with a code change to `path` (as the changed path or as the path a rename came from). */
export function plansTouchingFileQuery(input: PlansTouchingFileInput): SearchQuery {
  const { path, repositoryId, limit } = parseInput(plansTouchingFileInputSchema, input);
  const repository = inRepository(repositoryId);
  return {
    sql: `select p.id from planner.plans p where p.id in (
            select a.plan_id from planner.plan_artifacts a where a.content @> ?::jsonb or a.content @> ?::jsonb
          )${repository.sql} order by p.name, p.version limit ?`,
    params: [
      JSON.stringify({ changes: [{ path }] }),
      JSON.stringify({ changes: [{ previousPath: path }] }),
      ...repository.params,
      limit,
    ],
  };
}

/** Artifacts (implementation steps) with a step titled `title`. */
export function artifactsWithStepQuery(input: ArtifactsWithStepInput): SearchQuery {
  const { title, repositoryId, limit } = parseInput(artifactsWithStepInputSchema, input);
  const repository = inRepository(repositoryId);
  return {
    sql: `select a.id from planner.plan_artifacts a join planner.plans p on p.id = a.plan_id
          where a.content @> ?::jsonb${repository.sql} order by p.name, p.version, a.created_at limit ?`,
    params: [JSON.stringify({ steps: [{ title }] }), ...repository.params, limit],
  };
}

/**
 * Chat sessions with a message mentioning `term` (a word of its content, as `chatTerms` splits it), of
 * `role` when given: `messages @> '[{"terms": [term]}]'`.
 */
export function chatSessionsMentioningQuery(input: ChatSessionsMentioningInput): SearchQuery {
  const { term, role, repositoryId, limit } = parseInput(chatSessionsMentioningInputSchema, input);
  const repository = inRepository(repositoryId);
  return {
    sql: `select c.id from planner.chat_sessions c join planner.plans p on p.id = c.plan_id
          where c.messages @> ?::jsonb${repository.sql} order by c.updated_at desc, c.id limit ?`,
    params: [JSON.stringify([{ ...(role && { role }), terms: [term] }]), ...repository.params, limit],
  };
}

async function matchingIds(em: EntityManager, query: SearchQuery): Promise<string[]> {
  const rows: { id: string }[] = await em.execute(query.sql, query.params);
  return rows.map((row) => row.id);
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
): Promise<PlanMatch[]> {
  const ids = await matchingIds(em, plansTouchingFileQuery(input));
  const plans = await em.find(PlannerPlan, { id: { $in: ids } });
  return inOrder(ids, plans).map(toPlanVersion);
}

export async function artifactsWithStep(
  em: EntityManager,
  _actor: PlannerActor,
  input: ArtifactsWithStepInput,
): Promise<ArtifactMatch[]> {
  const ids = await matchingIds(em, artifactsWithStepQuery(input));
  const artifacts = await em.find(PlannerArtifact, { id: { $in: ids } }, { populate: ['plan'] });
  return inOrder(ids, artifacts).map((artifact) => ({
    artifact: toArtifact(artifact),
    plan: toPlanVersion(artifact.plan.$),
  }));
}

export async function chatSessionsMentioning(
  em: EntityManager,
  _actor: PlannerActor,
  input: ChatSessionsMentioningInput,
): Promise<ChatSessionMatch[]> {
  const ids = await matchingIds(em, chatSessionsMentioningQuery(input));
  const sessions = await em.find(PlannerChatSession, { id: { $in: ids } }, { populate: ['plan'] });
  return inOrder(ids, sessions).map((session) => ({
    ...toChatSession(session),
    plan: toPlanVersion(session.plan.$),
  }));
}
