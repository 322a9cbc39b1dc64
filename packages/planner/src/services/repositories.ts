import { ConflictError, type EntityManager, InvalidInputError, parseInput } from '@huddle/db';
import type { PlannerActor } from '../actor.ts';
import { PlannerPlan } from '../entities/plan.ts';
import { PlannerRepository } from '../entities/repository.ts';
import { gitDirectory, readWorkTree } from '../git.ts';
import { resolveUnderRoots } from '../roots.ts';
import {
  type RegisterRepositoryInput,
  type RenameRepositoryInput,
  type Repository,
  type RepositoryIdInput,
  registerRepositoryInputSchema,
  renameRepositoryInputSchema,
  repositoryIdInputSchema,
  type UnregisteredRepository,
  type UnregisterRepositoryInput,
  unregisterRepositoryInputSchema,
} from '../schemas.ts';
import { findRepository, flushAndReload } from './access.ts';
import { toRepository } from './outputs.ts';

/** Where the server may read repositories: the configured roots (see `plannerRootsFromEnv`). */
export interface RepositoryAccess {
  roots: readonly string[];
}

/**
 * The real path of a work tree under the roots; refused when it is not the top of a git work tree, or when
 * its git directory (where a `.git` file or symlink points) is not under the roots either.
 */
async function resolveWorkTree(candidate: string, access: RepositoryAccess): Promise<string> {
  const real = await resolveUnderRoots(candidate, access.roots);
  const gitDir = await gitDirectory(real);
  if (!gitDir) {
    throw new InvalidInputError('path: is not the top directory of a git work tree', { field: 'path' });
  }
  await resolveUnderRoots(gitDir, access.roots).catch((error: unknown) => {
    throw new InvalidInputError(
      'path: its git directory is not under a configured root',
      { field: 'path' },
      { cause: error },
    );
  });
  return real;
}

/**
 * Registers the git work tree at `path` (resolved: symlinks and `..`, so one work tree has one row); name,
 * default branch and remote URL come from the repository unless given. A path already registered, under any
 * spelling, is a ConflictError.
 */
export async function registerRepository(
  em: EntityManager,
  _actor: PlannerActor,
  input: RegisterRepositoryInput,
  access: RepositoryAccess,
): Promise<Repository> {
  const parsed = parseInput(registerRepositoryInputSchema, input);
  const path = await resolveWorkTree(parsed.path, access);
  const facts = await readWorkTree(path);
  const repository = em.create(PlannerRepository, {
    path,
    name: parsed.name ?? facts.name,
    defaultBranch: parsed.defaultBranch ?? facts.defaultBranch,
    gitUrl: parsed.gitUrl ?? facts.gitUrl,
  });
  await em.flush();
  return toRepository(repository);
}

/** Every registered repository, by name. */
export async function listRepositories(em: EntityManager, _actor: PlannerActor): Promise<Repository[]> {
  const repositories = await em.find(PlannerRepository, {}, { orderBy: { name: 'asc', path: 'asc' } });
  return repositories.map(toRepository);
}

export async function getRepository(
  em: EntityManager,
  _actor: PlannerActor,
  input: RepositoryIdInput,
): Promise<Repository> {
  const { repositoryId } = parseInput(repositoryIdInputSchema, input);
  return toRepository(await findRepository(em, repositoryId));
}

export async function renameRepository(
  em: EntityManager,
  _actor: PlannerActor,
  input: RenameRepositoryInput,
): Promise<Repository> {
  const { repositoryId, name } = parseInput(renameRepositoryInputSchema, input);
  const repository = await findRepository(em, repositoryId);
  repository.name = name;
  return toRepository(await flushAndReload(em, repository));
}

/**
 * Reads default branch and remote URL from the repository again (its name is the caller's and stays). The
 * path must still be a git work tree under the roots: a ConflictError says when it no longer is.
 */
export async function refreshRepository(
  em: EntityManager,
  _actor: PlannerActor,
  input: RepositoryIdInput,
  access: RepositoryAccess,
): Promise<Repository> {
  const { repositoryId } = parseInput(repositoryIdInputSchema, input);
  const repository = await findRepository(em, repositoryId);
  const path = await resolveWorkTree(repository.path, access).catch((error: unknown) => {
    throw new ConflictError(
      `repositoryId: ${repository.path} can no longer be read (${(error as Error).message}); unregister it or restore it`,
      { field: 'repositoryId' },
      { cause: error },
    );
  });
  const facts = await readWorkTree(path);
  repository.defaultBranch = facts.defaultBranch;
  repository.gitUrl = facts.gitUrl;
  return toRepository(await flushAndReload(em, repository));
}

/**
 * Unregisters a repository and deletes all its plans (every version, artifact and chat session: the
 * database cascades); the caller confirms with `confirm: true`. The work tree itself is not touched.
 */
export async function unregisterRepository(
  em: EntityManager,
  _actor: PlannerActor,
  input: UnregisterRepositoryInput,
): Promise<UnregisteredRepository> {
  const { repositoryId } = parseInput(unregisterRepositoryInputSchema, input);
  const repository = await findRepository(em, repositoryId);
  const deletedPlanVersions = await em.count(PlannerPlan, { repository });
  await em.nativeDelete(PlannerRepository, { id: repositoryId });
  return { repositoryId, deletedPlanVersions };
}
