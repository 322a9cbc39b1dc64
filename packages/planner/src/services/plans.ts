import { ConflictError, type EntityManager, flushAndReload, NotFoundError } from '@huddle/db';
import { toPage } from '@huddle/db/zod';
import type { PlannerActor } from '../actor.ts';
import { PlannerPlan } from '../entities/plan.ts';
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
import { planDetailJsonSql, planVersionJsonSql, toPlanVersion } from './outputs.ts';

/**
 * Plans and their versions. A plan is a name in a repository; each `plans` row is one version of it.
 * Lifecycle of a version: draft → active → completed → archived. Activating a draft archives the plan's
 * previously active version (it was superseded, not carried out, so it is not `completed`); a draft that is
 * abandoned can be archived directly.
 */

function planNameNotFound(repositoryId: string, name: string): NotFoundError {
  return new NotFoundError(`name: repository ${repositoryId} has no plan "${name}"`, { field: 'name' });
}

/** Creates a plan: its version 1, a draft, targeting the repository's default branch unless given. */
export async function createPlan(
  em: EntityManager,
  actor: PlannerActor,
  input: CreatePlanInput,
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

/** The latest version of a plan, with its artifacts. */
export async function getLatestPlanVersion(
  em: EntityManager,
  _actor: PlannerActor,
  input: PlanNameInput,
): Promise<PlanDetail> {
  const { repositoryId, name } = input;
  const [latest] = await em.execute<{ detail: PlanDetail }[]>(
    `select ${planDetailJsonSql('p')} as detail from planner.plans p
     where p.repository_id = ? and p.name = ? order by p.version desc limit 1`,
    [repositoryId, name],
  );
  if (!latest) throw planNameNotFound(repositoryId, name);
  return latest.detail;
}

/** A page of a plan's versions, oldest first; one statement, which also tells an unknown plan. */
export async function listPlanVersions(
  em: EntityManager,
  _actor: PlannerActor,
  { repositoryId, name, limit, cursor }: ListPlanVersionsInput,
): Promise<PlanVersionPage> {
  const [row] = await em.execute<{ found: boolean; versions: PlanVersion[] }[]>(
    `select exists (select 1 from planner.plans where repository_id = ? and name = ?) as found,
       coalesce((select json_agg(page.plan order by page.version) from (
         select ${planVersionJsonSql('p')} as plan, p.version from planner.plans p
         where p.repository_id = ? and p.name = ? and p.version > ? order by p.version limit ?) page), '[]') as versions`,
    [repositoryId, name, repositoryId, name, cursor?.[0] ?? 0, limit + 1],
  );
  if (!row?.found) throw planNameNotFound(repositoryId, name);
  return toPage(
    row.versions,
    limit,
    (version) => version,
    (version) => [version.version],
  );
}

/**
 * A page of the plans of a repository, each as its latest version (optionally only those whose latest has
 * `status`), by name; one statement, which also tells an unknown repository from one without plans.
 */
export async function listPlans(
  em: EntityManager,
  _actor: PlannerActor,
  { repositoryId, status, limit, cursor }: ListPlansInput,
): Promise<PlanVersionPage> {
  const after = cursor?.[0] ?? null;
  const [row] = await em.execute<{ registered: boolean; plans: PlanVersion[] }[]>(
    `select exists (select 1 from planner.repositories where id = ?) as registered,
       coalesce((select json_agg(page.plan order by page.name) from (
         select ${planVersionJsonSql('p')} as plan, p.name
         from (select distinct on (name) * from planner.plans
               where repository_id = ? and (?::text is null or name > ?) order by name, version desc) p
         where ?::planner.plan_status is null or p.status = ?::planner.plan_status
         order by p.name limit ?) page), '[]') as plans`,
    [repositoryId, repositoryId, after, after, status ?? null, status ?? null, limit + 1],
  );
  if (!row?.registered) throw repositoryNotFound(repositoryId);
  return toPage(
    row.plans,
    limit,
    (plan) => plan,
    (plan) => [plan.name],
  );
}

/** Changes a draft's description or target branch. */
export async function updatePlanVersion(
  em: EntityManager,
  _actor: PlannerActor,
  input: UpdatePlanInput,
): Promise<PlanVersion> {
  const { planId, description, targetBranch } = input;
  const plan = await lockPlanVersion(em, planId);
  requirePlanStatus(plan, ['draft'], 'be edited');
  if (description !== undefined) plan.description = description;
  if (targetBranch !== undefined) plan.targetBranch = targetBranch;
  return toPlanVersion(await flushAndReload(em, plan));
}

/**
 * Creates version n+1 of the plan `planId` belongs to, as a draft copy of its latest version (description,
 * target branch and every artifact, content and creation time), in this one transaction. Concurrent calls
 * for one plan run one after the other (`lockPlanName`), so each gets its own version.
 */
export async function newPlanVersion(
  em: EntityManager,
  actor: PlannerActor,
  input: PlanIdInput,
): Promise<PlanDetail> {
  const { planId } = input;
  const plan = await findPlanVersion(em, planId);
  await lockPlanName(em, plan.repository.id, plan.name);
  const [created] = await em.execute<{ id: string; source_id: string }[]>(
    `with latest as (
       select * from planner.plans where repository_id = ? and name = ? order by version desc limit 1
     )
     insert into planner.plans (repository_id, name, description, target_branch, version, status, created_by)
     select repository_id, name, description, target_branch, version + 1, 'draft', ? from latest
     returning id, (select id from latest) as source_id`,
    [plan.repository.id, plan.name, actor.operator],
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
