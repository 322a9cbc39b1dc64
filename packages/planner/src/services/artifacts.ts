import { type EntityManager, InvalidInputError } from '@huddle/db';
import type { PlannerActor } from '../actor.ts';
import { PlannerArtifact } from '../entities/artifact.ts';
import type { AddArtifactInput, Artifact, ArtifactIdInput, ReplaceArtifactInput } from '../schemas.ts';
import { findArtifact, lockDraft } from './lookups.ts';
import { toArtifact } from './outputs.ts';

/**
 * A draft version's artifacts: content validated per type (`artifactInputSchema`); active and later versions
 * are read-only (a ConflictError says so).
 */

export async function addArtifact(
  em: EntityManager,
  _actor: PlannerActor,
  input: AddArtifactInput,
): Promise<Artifact> {
  const { planId, artifact } = input;
  const plan = await lockDraft(em, planId, 'have artifacts added');
  const created = em.create(PlannerArtifact, {
    plan,
    artifactType: artifact.type,
    content: artifact.content,
  });
  await em.flush();
  return toArtifact(created);
}

/** Replaces an artifact's content; its type stays what it is. */
export async function replaceArtifact(
  em: EntityManager,
  _actor: PlannerActor,
  input: ReplaceArtifactInput,
): Promise<Artifact> {
  const { artifactId, artifact } = input;
  const existing = await findArtifact(em, artifactId);
  await lockDraft(em, existing.plan.id, 'have artifacts replaced', 'artifactId');
  if (existing.artifactType !== artifact.type) {
    throw new InvalidInputError(
      `artifact.type: artifact ${artifactId} is a ${existing.artifactType}; remove it and add a ${artifact.type} instead`,
      { field: 'artifact.type' },
    );
  }
  existing.content = artifact.content;
  await em.flush();
  return toArtifact(existing);
}

/** Removes an artifact from a draft and returns it as it was. */
export async function removeArtifact(
  em: EntityManager,
  _actor: PlannerActor,
  input: ArtifactIdInput,
): Promise<Artifact> {
  const { artifactId } = input;
  const existing = await findArtifact(em, artifactId);
  await lockDraft(em, existing.plan.id, 'have artifacts removed', 'artifactId');
  const removed = toArtifact(existing);
  em.remove(existing);
  await em.flush();
  return removed;
}
