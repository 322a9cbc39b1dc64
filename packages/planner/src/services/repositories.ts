import fs from 'node:fs';
import path from 'node:path';
import {
  ConflictError,
  type EntityManager,
  executePrepared,
  flushAndReload,
  InvalidInputError,
  outputColumnsSql,
  preparedStatement,
} from '@huddle/db';
import { rowsToPage } from '@huddle/db/zod';
import type { PlannerActor } from '../actor.ts';
import { PlannerPlan } from '../entities/plan.ts';
import { PlannerRepository } from '../entities/repository.ts';
import {
  CommitReader,
  gitDirectory,
  readWorkTree,
  type WorkTreeFacts,
  type WorkTreeLocation,
} from '../git.ts';
import { isWithin, type RepositoryAccess, realRoots, resolveUnderRoots } from '../roots.ts';
import type {
  ListRepositoriesInput,
  RegisterRepositoryInput,
  RenameRepositoryInput,
  Repository,
  RepositoryIdInput,
  RepositoryPage,
  UnregisteredRepository,
  UnregisterRepositoryInput,
} from '../schemas.ts';
import { findRepository, repositoryNotFound } from './lookups.ts';
import { repositoryColumns, toRepository } from './outputs.ts';

const gitDirectoryOutside = (cause?: unknown) =>
  new InvalidInputError(
    'path: its git directory is not under a configured root',
    { field: 'path' },
    { cause },
  );

/**
 * The real path of a work tree under the roots and what git says about it, every file read resolving under
 * the roots: refused when it is not the top of a git work tree, when its `.git` or the git directory a
 * `.git` file points at is not under the roots, or when a file git reads there (config, HEAD, a ref) is a
 * link out of them.
 */
async function readWorkTreeUnderRoots(
  candidate: string,
  access: RepositoryAccess,
): Promise<{ path: string; facts: WorkTreeFacts }> {
  const location = await locateWorkTree(candidate, access);
  return { path: location.dir, facts: await readWorkTree(location) };
}

/** Where the work tree at `candidate` is read (see readWorkTreeUnderRoots for what is refused). */
async function locateWorkTree(
  candidate: string,
  access: RepositoryAccess,
): Promise<WorkTreeLocation & { roots: string[] }> {
  const dir = await resolveUnderRoots(candidate, access.roots);
  const roots = await realRoots(access.roots);
  const dotGit = await fs.promises.realpath(path.join(dir, '.git')).catch(() => undefined);
  if (dotGit && !roots.some((root) => isWithin(dotGit, root))) throw gitDirectoryOutside();
  const gitdir = await gitDirectory(dir);
  if (!gitdir) {
    throw new InvalidInputError('path: is not the top directory of a git work tree', { field: 'path' });
  }
  await resolveUnderRoots(gitdir, access.roots).catch((error: unknown) => {
    throw gitDirectoryOutside(error);
  });
  return { dir, gitdir, roots };
}

/** A registered repository that can no longer be read, named by the caller's `field`. */
function unreadable(repository: { path: string }, field: string, error: unknown): ConflictError {
  return new ConflictError(
    `${field}: ${repository.path} can no longer be read (${(error as Error).message}); unregister it or restore it`,
    { field },
    { cause: error },
  );
}

/**
 * A reader of the commits of a registered repository, confined as registration is (a ConflictError on
 * `field` when the work tree is gone or has left the roots). It touches only the filesystem, so callers
 * open it between their transactions.
 */
export async function openCommitReader(
  repository: { path: string },
  access: RepositoryAccess,
  field: string,
): Promise<CommitReader> {
  const location = await locateWorkTree(repository.path, access).catch((error: unknown) => {
    throw unreadable(repository, field, error);
  });
  return new CommitReader(location, field);
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
  resources: RepositoryAccess,
): Promise<Repository> {
  const { path: workTree, facts } = await readWorkTreeUnderRoots(input.path, resources);
  const repository = em.create(PlannerRepository, {
    path: workTree,
    name: input.name ?? facts.name,
    defaultBranch: input.defaultBranch ?? facts.defaultBranch,
    gitUrl: input.gitUrl ?? facts.gitUrl,
  });
  await em.flush();
  return toRepository(repository);
}

/**
 * `listRepositories`' statement: `$1` the page size and one, `$2`–`$3` the cursor's name and id (null: first
 * page).
 */
const repositoriesStatement = preparedStatement<Repository>(
  'planner.repositories_page',
  `select ${outputColumnsSql(repositoryColumns('r'))} from planner.repositories r
   where $2::text is null or (r.name, r.id) > ($2::text, $3::uuid)
   order by r.name, r.id limit $1`,
);

/** A page of the registered repositories, by name (then id). */
export async function listRepositories(
  em: EntityManager,
  _actor: PlannerActor,
  { limit, cursor }: ListRepositoriesInput,
): Promise<RepositoryPage> {
  const rows = await executePrepared(em, repositoriesStatement, [limit + 1, ...(cursor ?? [null, null])]);
  return rowsToPage(rows, limit, (repository) => [repository.name, repository.id]);
}

/** `getRepository`'s statement: `$1` the repository. */
const repositoryStatement = preparedStatement<Repository>(
  'planner.repository',
  `select ${outputColumnsSql(repositoryColumns('r'))} from planner.repositories r where r.id = $1`,
);

export async function getRepository(
  em: EntityManager,
  _actor: PlannerActor,
  input: RepositoryIdInput,
): Promise<Repository> {
  const { repositoryId } = input;
  const [repository] = await executePrepared(em, repositoryStatement, [repositoryId]);
  if (!repository) throw repositoryNotFound(repositoryId);
  return repository;
}

export async function renameRepository(
  em: EntityManager,
  _actor: PlannerActor,
  input: RenameRepositoryInput,
): Promise<Repository> {
  const { repositoryId, name } = input;
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
  resources: RepositoryAccess,
): Promise<Repository> {
  const { repositoryId } = input;
  const repository = await findRepository(em, repositoryId);
  const { facts } = await readWorkTreeUnderRoots(repository.path, resources).catch((error: unknown) => {
    throw unreadable(repository, 'repositoryId', error);
  });
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
  const { repositoryId } = input;
  const repository = await findRepository(em, repositoryId);
  const deletedPlanVersions = await em.count(PlannerPlan, { repository });
  await em.nativeDelete(PlannerRepository, { id: repositoryId });
  return { repositoryId, deletedPlanVersions };
}
