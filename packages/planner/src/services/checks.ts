import { type ActorTransactions, ConflictError } from '@huddle/db';
import type { PlannerActor } from '../actor.ts';
import { diffConflict, parseFileDiff } from '../diffs.ts';
import type { CommitReader } from '../git.ts';
import type { RepositoryAccess } from '../roots.ts';
import type { ChangeAtCommit, ChangeCheck, FileChange, PlanCheck, PlanIdInput } from '../schemas.ts';
import { findRepository, readPlanDetail } from './lookups.ts';
import { openCommitReader } from './repositories.ts';

/**
 * Whether a version's code changes still apply: each diff applied to its file at the commit the version was
 * planned against and at the target branch's head. The repository is read between two transactions: none is
 * open while git objects are read and diffs applied.
 */

/** Files larger than this are not applied to (a diff is at most a megabyte; sources rarely come close). */
export const MAX_CHECKED_FILE_BYTES = 4 * 1024 * 1024;

const short = (commit: string) => commit.slice(0, 12);

function atCommit(status: ChangeAtCommit['status'], message: string): ChangeAtCommit {
  return { status, message, conflict: null };
}

/** One code change at `commit`: does its file exist (or not, for a create), and does its diff apply? */
async function checkChange(
  reader: CommitReader,
  commit: string,
  change: FileChange,
): Promise<ChangeAtCommit> {
  const parsed = parseFileDiff(change.diff);
  if ('refusal' in parsed) return atCommit('invalid_diff', `the diff ${parsed.refusal}`);
  const at = `at ${short(commit)}`;
  if (change.action === 'create' || change.action === 'rename') {
    const target = await reader.file(commit, change.path, MAX_CHECKED_FILE_BYTES);
    if (target.kind !== 'missing') return atCommit('exists', `${change.path} exists already ${at}`);
  }
  let source = '';
  if (change.action !== 'create') {
    const sourcePath = change.previousPath ?? change.path;
    const file = await reader.file(commit, sourcePath, MAX_CHECKED_FILE_BYTES);
    if (file.kind === 'missing') return atCommit('missing', `${sourcePath} does not exist ${at}`);
    if (file.kind === 'unreadable') return atCommit('unreadable', `${sourcePath} ${file.reason} ${at}`);
    source = file.content;
  }
  const conflict = diffConflict(source, parsed.patch);
  if (!conflict) return atCommit('applies', `the diff applies ${at}`);
  const found =
    conflict.found === null ? 'the file ends before it' : `the file has ${JSON.stringify(conflict.found)}`;
  return {
    status: 'conflicts',
    message: `hunk ${conflict.hunk} expects ${JSON.stringify(conflict.expected)} at line ${conflict.line} ${at}; ${found}`,
    conflict,
  };
}

/**
 * Checks every code change of a version at its base commit (when it has one) and at its target branch's
 * head (see planCheckSchema for the verdict).
 */
export async function checkPlan(
  transactions: ActorTransactions<PlannerActor>,
  input: PlanIdInput,
  resources: RepositoryAccess,
): Promise<PlanCheck> {
  const { planId } = input;
  const { plan, repository } = await transactions(async (em) => {
    const plan = await readPlanDetail(em, planId);
    return { plan, repository: await findRepository(em, plan.repositoryId) };
  });
  const reader = await openCommitReader(repository, resources, 'planId');
  const headCommit = await reader.branchCommit(plan.targetBranch);
  if (!headCommit) {
    throw new ConflictError(
      `planId: target branch "${plan.targetBranch}" does not exist in ${repository.path}; change the draft's target branch or restore the branch`,
      { field: 'planId' },
    );
  }
  const baseCommit = plan.baseCommit;
  // History rewritten (or objects pruned) since the version was planned: nothing can be checked there.
  const baseGone =
    baseCommit !== null && (await reader.resolve(baseCommit)) === undefined
      ? atCommit('missing', `commit ${short(baseCommit)} is no longer in the repository`)
      : undefined;
  const checkAtBase = (change: FileChange, atHead: ChangeAtCommit) =>
    baseCommit === null
      ? null
      : (baseGone ?? (baseCommit === headCommit ? atHead : checkChange(reader, baseCommit, change)));
  const changes: ChangeCheck[] = [];
  for (const artifact of plan.artifacts) {
    if (artifact.type !== 'code_changes') continue;
    for (const change of artifact.content.changes) {
      const atHead = await checkChange(reader, headCommit, change);
      const atBase = await checkAtBase(change, atHead);
      changes.push({
        artifactId: artifact.id,
        path: change.path,
        action: change.action,
        previousPath: change.previousPath ?? null,
        atBase,
        atHead,
      });
    }
  }
  const allApply = (pick: (check: ChangeCheck) => ChangeAtCommit | null) =>
    changes.every((check) => (pick(check) ?? check.atHead).status === 'applies');
  const verdict = allApply((check) => check.atHead)
    ? 'applies'
    : allApply((check) => check.atBase)
      ? 'stale'
      : 'conflicts';
  return { planId, targetBranch: plan.targetBranch, baseCommit, headCommit, verdict, changes };
}
