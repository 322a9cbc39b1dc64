import {
  type ActorTransactions,
  ConflictError,
  type EntityManager,
  executePrepared,
  flushAndReload,
  InvalidInputError,
  NotFoundError,
  outputObjectSql,
  preparedStatement,
} from '@huddle/db';
import { rowsToPage } from '@huddle/db/zod';
import type { PlannerActor } from '../actor.ts';
import { PlannerPlan } from '../entities/plan.ts';
import type { RepositoryAccess } from '../roots.ts';
import type {
  ActivatedPlan,
  CreatePlanInput,
  ListPlansInput,
  ListPlanVersionsInput,
  PlanDetail,
  PlanIdInput,
  PlanNameInput,
  PlanStatus,
  PlanVersion,
  PlanVersionPage,
  UpdatePlanInput,
} from '../schemas.ts';
import {
  findPlanVersion,
  findRepository,
  lockPlanName,
  lockPlanVersion,
  readPlanDetail,
  repositoryNotFound,
  requirePlanStatus,
} from './lookups.ts';
import { planDetailColumns, planVersionColumns, toPlanVersion } from './outputs.ts';
import { openCommitReader } from './repositories.ts';

/**
 * Plans and their versions. A plan is a name in a repository; each `plans` row is one version of it.
 * Lifecycle of a version: draft → active → completed → archived. Activating a draft archives the plan's
 * previously active version (it was superseded, not carried out, so it is not `completed`); a draft that is
 * abandoned can be archived directly.
 */

function planNameNotFound(repositoryId: string, name: string): NotFoundError {
  return new NotFoundError(`name: repository ${repositoryId} has no plan "${name}"`, { field: 'name' });
}

/**
 * The commit `branch` of `repository` points at now (undefined when there is no such branch), read from git
 * between transactions; a repository that can no longer be read is a ConflictError on `field`.
 */
async function branchHead(
  repository: { path: string },
  branch: string,
  resources: RepositoryAccess,
  field: string,
): Promise<string | undefined> {
  const reader = await openCommitReader(repository, resources, field);
  return reader.branchCommit(branch);
}

const noSuchBranch = (branch: string, repository: { path: string }) =>
  new InvalidInputError(
    `targetBranch: branch "${branch}" does not exist in ${repository.path}; give an existing branch`,
    { field: 'targetBranch' },
  );

/**
 * `plans.create`: `createPlan`, planned against the commit the target branch points at now, read from the
 * repository between a transaction that finds it and the one that creates the plan.
 */
export async function createPlanAtBranchHead(
  transactions: ActorTransactions<PlannerActor>,
  input: CreatePlanInput,
  resources: RepositoryAccess,
): Promise<PlanDetail> {
  const repository = await transactions((em) => findRepository(em, input.repositoryId));
  const targetBranch = input.targetBranch ?? repository.defaultBranch;
  const baseCommit = await branchHead(repository, targetBranch, resources, 'repositoryId');
  if (!baseCommit) throw noSuchBranch(targetBranch, repository);
  return transactions((em, actor) => createPlan(em, actor, { ...input, targetBranch }, baseCommit));
}

/**
 * Creates a plan: its version 1, a draft, targeting the repository's default branch unless given, planned
 * against `baseCommit` (null: unknown).
 */
export async function createPlan(
  em: EntityManager,
  actor: PlannerActor,
  input: CreatePlanInput,
  baseCommit: string | null = null,
): Promise<PlanDetail> {
  const { repositoryId, name, description, targetBranch } = input;
  const repository = await findRepository(em, repositoryId);
  if ((await em.count(PlannerPlan, { repository, name })) > 0) {
    throw new ConflictError(
      `name: repository ${repositoryId} already has a plan "${name}"; create a new version of it instead`,
      { field: 'name' },
    );
  }
  const plan = em.create(PlannerPlan, {
    repository,
    name,
    description: description ?? null,
    targetBranch: targetBranch ?? repository.defaultBranch,
    createdBy: actor.operator,
    baseCommit,
  });
  await em.flush();
  return { ...toPlanVersion(plan), artifacts: [] };
}

/** One version, of any status, with its artifacts. */
export async function getPlanVersion(
  em: EntityManager,
  _actor: PlannerActor,
  input: PlanIdInput,
): Promise<PlanDetail> {
  const { planId } = input;
  return readPlanDetail(em, planId);
}

/** `getLatestPlanVersion`'s statement: `$1` the repository, `$2` the plan's name. */
const latestPlanStatement = preparedStatement<{ detail: PlanDetail }>(
  'planner.latest_plan',
  `select ${outputObjectSql(planDetailColumns('p'))} as detail from planner.plans p
   where p.repository_id = $1 and p.name = $2 order by p.version desc limit 1`,
);

/** The latest version of a plan, with its artifacts. */
export async function getLatestPlanVersion(
  em: EntityManager,
  _actor: PlannerActor,
  input: PlanNameInput,
): Promise<PlanDetail> {
  const { repositoryId, name } = input;
  const [latest] = await executePrepared(em, latestPlanStatement, [repositoryId, name]);
  if (!latest) throw planNameNotFound(repositoryId, name);
  return latest.detail;
}

/**
 * `listPlanVersions`' statement: `$1` the repository, `$2` the plan's name, `$3` the version after which the
 * page starts (0: the first), `$4` the page size and one.
 */
const planVersionsStatement = preparedStatement<{ found: boolean; versions: PlanVersion[] }>(
  'planner.plan_versions_page',
  `select exists (select 1 from planner.plans where repository_id = $1 and name = $2) as found,
     coalesce((select json_agg(page.plan order by page.version) from (
       select ${outputObjectSql(planVersionColumns('p'))} as plan, p.version from planner.plans p
       where p.repository_id = $1 and p.name = $2 and p.version > $3 order by p.version limit $4) page), '[]') as versions`,
);

/** A page of a plan's versions, oldest first; one statement, which also tells an unknown plan. */
export async function listPlanVersions(
  em: EntityManager,
  _actor: PlannerActor,
  { repositoryId, name, limit, cursor }: ListPlanVersionsInput,
): Promise<PlanVersionPage> {
  const [row] = await executePrepared(em, planVersionsStatement, [
    repositoryId,
    name,
    cursor?.[0] ?? 0,
    limit + 1,
  ]);
  if (!row?.found) throw planNameNotFound(repositoryId, name);
  return rowsToPage(row.versions, limit, (version) => [version.version]);
}

/**
 * `listPlans`' statement: `$1` the repository, `$2` the name after which the page starts (null: the first),
 * `$3` the status to keep (null: any), `$4` the page size and one.
 */
const plansStatement = preparedStatement<{ registered: boolean; plans: PlanVersion[] }>(
  'planner.plans_page',
  `select exists (select 1 from planner.repositories where id = $1) as registered,
     coalesce((select json_agg(page.plan order by page.name) from (
       select ${outputObjectSql(planVersionColumns('p'))} as plan, p.name
       from (select distinct on (name) * from planner.plans
             where repository_id = $1 and ($2::text is null or name > $2::text) order by name, version desc) p
       where $3::planner.plan_status is null or p.status = $3::planner.plan_status
       order by p.name limit $4) page), '[]') as plans`,
);

/**
 * A page of the plans of a repository, each as its latest version (optionally only those whose latest has
 * `status`), by name; one statement, which also tells an unknown repository from one without plans.
 */
export async function listPlans(
  em: EntityManager,
  _actor: PlannerActor,
  { repositoryId, status, limit, cursor }: ListPlansInput,
): Promise<PlanVersionPage> {
  const [row] = await executePrepared(em, plansStatement, [
    repositoryId,
    cursor?.[0] ?? null,
    status ?? null,
    limit + 1,
  ]);
  if (!row?.registered) throw repositoryNotFound(repositoryId);
  return rowsToPage(row.plans, limit, (plan) => [plan.name]);
}

/**
 * `plans.update`: `updatePlanVersion`; a new target branch is planned against the commit it points at now,
 * read from the repository between two transactions.
 */
export async function updatePlanVersionAtBranchHead(
  transactions: ActorTransactions<PlannerActor>,
  input: UpdatePlanInput,
  resources: RepositoryAccess,
): Promise<PlanVersion> {
  const { planId, targetBranch } = input;
  if (targetBranch === undefined) return transactions((em, actor) => updatePlanVersion(em, actor, input));
  const repository = await transactions(async (em) =>
    findRepository(em, (await findPlanVersion(em, planId)).repository.id),
  );
  const baseCommit = await branchHead(repository, targetBranch, resources, 'planId');
  if (!baseCommit) throw noSuchBranch(targetBranch, repository);
  return transactions((em, actor) => updatePlanVersion(em, actor, input, baseCommit));
}

/**
 * Changes a draft's description or target branch; a new target branch is planned against `baseCommit`
 * (null: unknown).
 */
export async function updatePlanVersion(
  em: EntityManager,
  _actor: PlannerActor,
  input: UpdatePlanInput,
  baseCommit: string | null = null,
): Promise<PlanVersion> {
  const { planId, description, targetBranch } = input;
  const plan = await lockPlanVersion(em, planId);
  requirePlanStatus(plan, ['draft'], 'be edited');
  if (description !== undefined) plan.description = description;
  if (targetBranch !== undefined) {
    plan.targetBranch = targetBranch;
    plan.baseCommit = baseCommit;
  }
  return toPlanVersion(await flushAndReload(em, plan));
}

/** The branch a new version of the plan would target: its latest version's. */
async function latestTargetBranch(em: EntityManager, repositoryId: string, name: string): Promise<string> {
  const [latest] = await em.execute<{ target_branch: string }[]>(
    'select target_branch from planner.plans where repository_id = ? and name = ? order by version desc limit 1',
    [repositoryId, name],
  );
  return latest!.target_branch;
}

/**
 * `plans.newVersion`: `newPlanVersion`, planned against the commit the target branch points at now, read
 * from the repository between a transaction that finds the plan and the one that creates the version.
 */
export async function newPlanVersionAtBranchHead(
  transactions: ActorTransactions<PlannerActor>,
  input: PlanIdInput,
  resources: RepositoryAccess,
): Promise<PlanDetail> {
  const { repository, targetBranch } = await transactions(async (em) => {
    const plan = await findPlanVersion(em, input.planId);
    return {
      repository: await findRepository(em, plan.repository.id),
      targetBranch: await latestTargetBranch(em, plan.repository.id, plan.name),
    };
  });
  const baseCommit = await branchHead(repository, targetBranch, resources, 'planId');
  if (!baseCommit) {
    throw new ConflictError(
      `planId: target branch "${targetBranch}" does not exist in ${repository.path}; restore it, or change the latest draft's target branch`,
      { field: 'planId' },
    );
  }
  return transactions((em, actor) => newPlanVersion(em, actor, input, { targetBranch, baseCommit }));
}

/**
 * Creates version n+1 of the plan `planId` belongs to, as a draft copy of its latest version (description,
 * target branch and every artifact, content and creation time), in this one transaction; planned against
 * `planned.baseCommit` when given (which the latest version's target branch must still be
 * `planned.targetBranch`), else against the latest version's commit. Concurrent calls for one plan run one
 * after the other (`lockPlanName`), so each gets its own version.
 */
export async function newPlanVersion(
  em: EntityManager,
  actor: PlannerActor,
  input: PlanIdInput,
  planned?: { targetBranch: string; baseCommit: string },
): Promise<PlanDetail> {
  const { planId } = input;
  const plan = await findPlanVersion(em, planId);
  await lockPlanName(em, plan.repository.id, plan.name);
  if (planned && (await latestTargetBranch(em, plan.repository.id, plan.name)) !== planned.targetBranch) {
    throw new ConflictError(
      'planId: the latest version’s target branch changed while the new version was planned; try again',
      { field: 'planId' },
    );
  }
  const [created] = await em.execute<{ id: string; source_id: string }[]>(
    `with latest as (
       select * from planner.plans where repository_id = ? and name = ? order by version desc limit 1
     )
     insert into planner.plans
       (repository_id, name, description, target_branch, version, status, created_by, base_commit)
     select repository_id, name, description, target_branch, version + 1, 'draft', ?, coalesce(?, base_commit)
     from latest
     returning id, (select id from latest) as source_id`,
    [plan.repository.id, plan.name, actor.operator, planned?.baseCommit ?? null],
  );
  await em.execute(
    `insert into planner.plan_artifacts (plan_id, content, artifact_type, created_at)
     select ?, content, artifact_type, created_at from planner.plan_artifacts where plan_id = ?`,
    [created!.id, created!.source_id],
  );
  return readPlanDetail(em, created!.id);
}

/**
 * Makes a draft the plan's version in force; the previously active version, if any, is archived
 * (superseded). The partial unique index `plans_one_active_version` backs this up in the database.
 */
export async function activatePlanVersion(
  em: EntityManager,
  _actor: PlannerActor,
  input: PlanIdInput,
): Promise<ActivatedPlan> {
  const { planId } = input;
  const plan = await lockPlanVersion(em, planId);
  requirePlanStatus(plan, ['draft'], 'be activated');
  const superseded = await em.findOne(PlannerPlan, {
    repository: plan.repository,
    name: plan.name,
    status: 'active',
  });
  if (superseded) {
    superseded.status = 'archived';
    // Written before the activation, so the unique index never sees two active versions.
    await flushAndReload(em, superseded);
  }
  plan.status = 'active';
  await flushAndReload(em, plan);
  return { activated: toPlanVersion(plan), superseded: superseded ? toPlanVersion(superseded) : null };
}

/** Moves a version from one of `from` to `to`, under the plan's lock. */
async function moveVersion(
  em: EntityManager,
  input: PlanIdInput,
  from: readonly PlanStatus[],
  to: PlanStatus,
  action: string,
): Promise<PlanVersion> {
  const { planId } = input;
  const plan = await lockPlanVersion(em, planId);
  requirePlanStatus(plan, from, action);
  plan.status = to;
  return toPlanVersion(await flushAndReload(em, plan));
}

/** Marks the active version as carried out. */
export function completePlanVersion(
  em: EntityManager,
  _actor: PlannerActor,
  input: PlanIdInput,
): Promise<PlanVersion> {
  return moveVersion(em, input, ['active'], 'completed', 'be completed');
}

/** Puts a completed version, or an abandoned draft, away. */
export function archivePlanVersion(
  em: EntityManager,
  _actor: PlannerActor,
  input: PlanIdInput,
): Promise<PlanVersion> {
  return moveVersion(em, input, ['completed', 'draft'], 'archived', 'be archived');
}
