import { isoTimestampSql } from '@huddle/db';
import type { PlannerArtifact } from '../entities/artifact.ts';
import type { PlannerChatSession } from '../entities/chat-session.ts';
import type { PlannerPlan } from '../entities/plan.ts';
import type { PlannerRepository } from '../entities/repository.ts';
import type { Artifact, ChatSession, PlanVersion, Repository } from '../schemas.ts';

/** Entities → the plain, serialisable shapes of schemas.ts that services return. */

export function toRepository(repository: PlannerRepository): Repository {
  return {
    id: repository.id,
    name: repository.name,
    path: repository.path,
    gitUrl: repository.gitUrl ?? null,
    defaultBranch: repository.defaultBranch,
    createdAt: repository.createdAt.toISOString(),
    updatedAt: repository.updatedAt.toISOString(),
  };
}

export function toPlanVersion(plan: PlannerPlan): PlanVersion {
  return {
    id: plan.id,
    repositoryId: plan.repository.id,
    name: plan.name,
    description: plan.description ?? null,
    targetBranch: plan.targetBranch,
    version: plan.version,
    status: plan.status,
    createdBy: plan.createdBy ?? null,
    baseCommit: plan.baseCommit ?? null,
    createdAt: plan.createdAt.toISOString(),
    updatedAt: plan.updatedAt.toISOString(),
  };
}

export function toArtifact(artifact: PlannerArtifact): Artifact {
  // The content was validated against its type's schema when it was written (addArtifact, replaceArtifact).
  return {
    id: artifact.id,
    planId: artifact.plan.id,
    type: artifact.artifactType,
    content: artifact.content,
    createdAt: artifact.createdAt.toISOString(),
  } as Artifact;
}

/**
 * The same shapes rendered as JSON by the database, for reads that return rows as they are (no entities
 * hydrated, no mapping in Node). `plan` is the alias of a `planner.plans` row in the statement.
 */
function planVersionFieldsSql(plan: string): string {
  return `'id', ${plan}.id, 'repositoryId', ${plan}.repository_id, 'name', ${plan}.name,
    'description', ${plan}.description, 'targetBranch', ${plan}.target_branch, 'version', ${plan}.version,
    'status', ${plan}.status, 'createdBy', ${plan}.created_by, 'baseCommit', ${plan}.base_commit,
    'createdAt', ${isoTimestampSql(`${plan}.created_at`)}, 'updatedAt', ${isoTimestampSql(`${plan}.updated_at`)}`;
}

/** `toPlanVersion` of the row `plan`, as a `json` value. */
export function planVersionJsonSql(plan: string): string {
  return `json_build_object(${planVersionFieldsSql(plan)})`;
}

/**
 * A `PlanDetail` of the row `plan`, as a `json` value: its artifacts by type (the enum's order is
 * `ARTIFACT_TYPES`), then in the order they were written. The content is embedded as stored: it was validated
 * against its type's schema when it was written (addArtifact, replaceArtifact).
 */
export function planDetailJsonSql(plan: string): string {
  return `json_build_object(${planVersionFieldsSql(plan)},
    'artifacts', coalesce((select json_agg(json_build_object(
        'id', a.id, 'planId', a.plan_id, 'type', a.artifact_type, 'content', a.content,
        'createdAt', ${isoTimestampSql('a.created_at')})
      order by a.artifact_type, a.created_at, a.id)
      from planner.plan_artifacts a where a.plan_id = ${plan}.id), '[]'))`;
}

export function toChatSession(session: PlannerChatSession): ChatSession {
  return {
    id: session.id,
    planId: session.plan.id,
    status: session.status,
    messageCount: session.messageCount ?? 0,
    createdAt: session.createdAt.toISOString(),
    updatedAt: session.updatedAt.toISOString(),
  };
}
