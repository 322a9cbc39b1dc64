import { isoTimestampSql, type OutputColumns, outputObjectSql } from '@huddle/db';
import type { PlannerArtifact } from '../entities/artifact.ts';
import type { PlannerChatSession } from '../entities/chat-session.ts';
import type { PlannerPlan } from '../entities/plan.ts';
import type { PlannerRepository } from '../entities/repository.ts';
import type { Artifact, ChatSession, PlanDetail, PlanVersion, Repository } from '../schemas.ts';

/**
 * Entities → the plain, serialisable shapes of schemas.ts that writes return; and, for reads, the same shapes
 * rendered by the database from column maps checked against the output types (`…Columns`, for
 * `outputColumnsSql` / `outputObjectSql`), so a read's rows are its answer (no entities hydrated, no mapping
 * in Node).
 */

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

/** A `Repository` of the planner.repositories row aliased `r`. */
export function repositoryColumns(r: string): OutputColumns<Repository> {
  return {
    id: `${r}.id`,
    name: `${r}.name`,
    path: `${r}.path`,
    gitUrl: `${r}.git_url`,
    defaultBranch: `${r}.default_branch`,
    createdAt: isoTimestampSql(`${r}.created_at`),
    updatedAt: isoTimestampSql(`${r}.updated_at`),
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

/** A `PlanVersion` of the planner.plans row aliased `p`. */
export function planVersionColumns(p: string): OutputColumns<PlanVersion> {
  return {
    id: `${p}.id`,
    repositoryId: `${p}.repository_id`,
    name: `${p}.name`,
    description: `${p}.description`,
    targetBranch: `${p}.target_branch`,
    version: `${p}.version`,
    status: `${p}.status`,
    createdBy: `${p}.created_by`,
    baseCommit: `${p}.base_commit`,
    createdAt: isoTimestampSql(`${p}.created_at`),
    updatedAt: isoTimestampSql(`${p}.updated_at`),
  };
}

/**
 * An `Artifact` of the planner.plan_artifacts row aliased `a`. The content is read as stored: it was validated
 * against its type's schema when it was written (addArtifact, replaceArtifact).
 */
export function artifactColumns(a: string): OutputColumns<Artifact> {
  return {
    id: `${a}.id`,
    planId: `${a}.plan_id`,
    type: `${a}.artifact_type`,
    content: `${a}.content`,
    createdAt: isoTimestampSql(`${a}.created_at`),
  };
}

/** A `ChatSession` of the planner.chat_sessions row aliased `c`. */
export function chatSessionColumns(c: string): OutputColumns<ChatSession> {
  return {
    id: `${c}.id`,
    planId: `${c}.plan_id`,
    status: `${c}.status`,
    messageCount: `jsonb_array_length(${c}.messages)`,
    createdAt: isoTimestampSql(`${c}.created_at`),
    updatedAt: isoTimestampSql(`${c}.updated_at`),
  };
}

/**
 * A `PlanDetail` of the planner.plans row aliased `p`: its artifacts by type (the enum's order is
 * `ARTIFACT_TYPES`), then in the order they were written.
 */
export function planDetailColumns(p: string): OutputColumns<PlanDetail> {
  return {
    ...planVersionColumns(p),
    artifacts: `coalesce((select json_agg(${outputObjectSql(artifactColumns('a'))}
        order by a.artifact_type, a.created_at, a.id)
      from planner.plan_artifacts a where a.plan_id = ${p}.id), '[]')`,
  };
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
