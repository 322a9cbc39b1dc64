import { type ActorTransactions, ConflictError, InvalidInputError } from '@huddle/db';
import { toPage } from '@huddle/db/zod';
import type { PlannerActor } from '../actor.ts';
import type { CommitReader } from '../git.ts';
import type { RepositoryAccess } from '../roots.ts';
import {
  MAX_FILE_BYTES,
  MAX_READ_BYTES,
  type PlanContext,
  type PlanContextInput,
  type PlanDetail,
  type ReadFilesInput,
  type RepositoryFile,
  type RepositoryFiles,
} from '../schemas.ts';
import { findRepository, readPlanDetail } from './lookups.ts';
import { openCommitReader } from './repositories.ts';

/**
 * Files of a registered repository as a commit holds them, read from git objects (CommitReader: paths are
 * looked up in the commit's trees, links are not followed, object files resolve under the roots), bounded in
 * count (the input's) and bytes, with no transaction open while git is read.
 */

/** `paths` at `commit`, in order, each within MAX_FILE_BYTES and all within MAX_READ_BYTES together. */
async function readFilesAt(
  reader: CommitReader,
  commit: string,
  paths: readonly string[],
): Promise<RepositoryFile[]> {
  let budget = MAX_READ_BYTES;
  const files: RepositoryFile[] = [];
  for (const path of paths) {
    const file = await reader.file(commit, path, Math.min(MAX_FILE_BYTES, budget));
    if (file.kind === 'file') {
      budget -= Buffer.byteLength(file.content);
      files.push({ path, status: 'file', content: file.content, reason: null });
    } else {
      files.push({
        path,
        status: file.kind,
        content: null,
        reason: file.kind === 'unreadable' ? file.reason : null,
      });
    }
  }
  return files;
}

/** Reads up to MAX_FILES_PER_READ files of a repository at a branch, tag or commit. */
export async function readFiles(
  transactions: ActorTransactions<PlannerActor>,
  input: ReadFilesInput,
  resources: RepositoryAccess,
): Promise<RepositoryFiles> {
  const { repositoryId, ref, paths } = input;
  const repository = await transactions((em) => findRepository(em, repositoryId));
  const reader = await openCommitReader(repository, resources, 'repositoryId');
  const commit = await reader.resolve(ref);
  if (!commit) {
    throw new InvalidInputError(`ref: "${ref}" names no branch, tag or commit of ${repository.path}`, {
      field: 'ref',
    });
  }
  return { repositoryId, ref, commit, files: await readFilesAt(reader, commit, paths) };
}

/** The paths a version is about: its code changes' (and where renames come from) and its steps' files. */
function pathsOf(plan: PlanDetail): string[] {
  const paths = plan.artifacts.flatMap((artifact) => {
    if (artifact.type === 'code_changes') {
      return artifact.content.changes.flatMap((change) => [
        change.path,
        ...(change.previousPath ? [change.previousPath] : []),
      ]);
    }
    if (artifact.type === 'implementation_steps') return artifact.content.steps.flatMap((step) => step.files);
    return [];
  });
  return [...new Set(paths)].sort();
}

/**
 * A page of the files a version is about (pathsOf), by path, as they were at the commit it was planned
 * against (for a version without one, at its target branch's head): what the plan was written to change.
 */
export async function getPlanContext(
  transactions: ActorTransactions<PlannerActor>,
  input: PlanContextInput,
  resources: RepositoryAccess,
): Promise<PlanContext> {
  const { planId, limit, cursor } = input;
  const { plan, repository } = await transactions(async (em) => {
    const plan = await readPlanDetail(em, planId);
    return { plan, repository: await findRepository(em, plan.repositoryId) };
  });
  const reader = await openCommitReader(repository, resources, 'planId');
  const commit = plan.baseCommit ?? (await reader.branchCommit(plan.targetBranch));
  if (!commit || (await reader.resolve(commit)) === undefined) {
    throw new ConflictError(
      `planId: neither the commit version ${plan.version} was planned against nor its target branch "${plan.targetBranch}" is in ${repository.path}`,
      { field: 'planId' },
    );
  }
  const after = cursor?.[0];
  const paths = pathsOf(plan).filter((path) => after === undefined || path > after);
  const page = toPage(
    paths.slice(0, limit + 1),
    limit,
    (path) => path,
    (path) => [path],
  );
  const items = await readFilesAt(reader, commit, page.items);
  const { nextCursor } = page;
  return { planId, commit, items, nextCursor };
}
