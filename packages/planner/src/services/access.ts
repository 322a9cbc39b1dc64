import { type EntityManager, NotFoundError } from '@huddle/db';
import { PlannerRepository } from '../entities/repository.ts';

/** The lookups every planner service shares, with NotFoundErrors that name the caller's field. */

export function repositoryNotFound(repositoryId: string): NotFoundError {
  return new NotFoundError(`repositoryId: repository ${repositoryId} is not registered`, {
    field: 'repositoryId',
  });
}

export async function findRepository(em: EntityManager, repositoryId: string): Promise<PlannerRepository> {
  const repository = await em.findOne(PlannerRepository, repositoryId);
  if (!repository) throw repositoryNotFound(repositoryId);
  return repository;
}

/** Writes `entity`'s changes and reads it back, for what the database set (the `updated_at` trigger). */
export async function flushAndReload<Entity extends object>(
  em: EntityManager,
  entity: Entity,
): Promise<Entity> {
  await em.flush();
  const reloaded = await em.refresh(entity);
  if (!reloaded) throw new NotFoundError('the row was deleted while it was being updated');
  return reloaded;
}
