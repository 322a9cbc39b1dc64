import type { PlannerRepository } from '../entities/repository.ts';
import type { Repository } from '../schemas.ts';

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
