import type { PlannerArtifact } from '../entities/artifact.ts';
import type { PlannerChatSession } from '../entities/chat-session.ts';
import type { PlannerPlan } from '../entities/plan.ts';
import type { PlannerRepository } from '../entities/repository.ts';
import {
  ARTIFACT_TYPES,
  type Artifact,
  type ChatSession,
  type PlanDetail,
  type PlanVersion,
  type Repository,
} from '../schemas.ts';

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

const ARTIFACT_ORDER = new Map(ARTIFACT_TYPES.map((type, index) => [type, index]));

/** Artifacts by type (feature plan, steps, code changes), then in the order they were written. */
export function sortArtifacts(artifacts: readonly PlannerArtifact[]): PlannerArtifact[] {
  return [...artifacts].sort(
    (a, b) =>
      ARTIFACT_ORDER.get(a.artifactType)! - ARTIFACT_ORDER.get(b.artifactType)! ||
      a.createdAt.getTime() - b.createdAt.getTime() ||
      a.id.localeCompare(b.id),
  );
}

export function toPlanDetail(plan: PlannerPlan, artifacts: readonly PlannerArtifact[]): PlanDetail {
  return { ...toPlanVersion(plan), artifacts: sortArtifacts(artifacts).map(toArtifact) };
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
