import {
  ConflictError,
  type EntityManager,
  executePrepared,
  LockMode,
  NotFoundError,
  outputObjectSql,
  preparedStatement,
} from '@huddle/db';
import { PlannerArtifact } from '../entities/artifact.ts';
import { PlannerPlan } from '../entities/plan.ts';
import { PlannerRepository } from '../entities/repository.ts';
import type { PlanDetail, PlanStatus } from '../schemas.ts';
import { planDetailColumns } from './outputs.ts';

/**
 * The lookups and locks every planner service shares, with errors that name the caller's field.
 *
 * Locking: a plan (all versions of one name in one repository) changes its set of versions or their
 * statuses only while holding its first version's row `for no key update` (`lockPlanName`), so new versions
 * and activations of one plan run one at a time; editing a draft's artifacts holds that version's row
 * `for share`, so its status cannot change under the edit. No service takes these locks in another order.
 */

export function repositoryNotFound(repositoryId: string): NotFoundError {
  return new NotFoundError(`repositoryId: repository ${repositoryId} is not registered`, {
    field: 'repositoryId',
  });
}

export function planNotFound(planId: string, field = 'planId'): NotFoundError {
  return new NotFoundError(`${field}: plan version ${planId} does not exist`, { field });
}

export async function findRepository(em: EntityManager, repositoryId: string): Promise<PlannerRepository> {
  const repository = await em.findOne(PlannerRepository, repositoryId);
  if (!repository) throw repositoryNotFound(repositoryId);
  return repository;
}

export async function findPlanVersion(
  em: EntityManager,
  planId: string,
  field = 'planId',
): Promise<PlannerPlan> {
  const plan = await em.findOne(PlannerPlan, planId, { refresh: true });
  if (!plan) throw planNotFound(planId, field);
  return plan;
}

/** `readPlanDetail`'s statement: `$1` the plan version's id. */
const planDetailStatement = preparedStatement<{ detail: PlanDetail }>(
  'planner.plan_detail',
  `select ${outputObjectSql(planDetailColumns('p'))} as detail from planner.plans p where p.id = $1`,
);

/**
 * A version with its artifacts: one statement, the answer rendered by the database (a hot read). Both
 * drivers parse `json` (node-postgres and PGlite; the backup test reads on both).
 */
export async function readPlanDetail(
  em: EntityManager,
  planId: string,
  field = 'planId',
): Promise<PlanDetail> {
  const [row] = await executePrepared(em, planDetailStatement, [planId]);
  if (!row) throw planNotFound(planId, field);
  return row.detail;
}

/** Serialises the version and status changes of one plan (see above). */
export async function lockPlanName(em: EntityManager, repositoryId: string, name: string): Promise<void> {
  await em.execute(
    'select id from planner.plans where repository_id = ? and name = ? order by version limit 1 for no key update',
    [repositoryId, name],
  );
}

/** Loads a version with its plan locked, reading its state only once the lock is held. */
export async function lockPlanVersion(em: EntityManager, planId: string): Promise<PlannerPlan> {
  const unlocked = await findPlanVersion(em, planId);
  await lockPlanName(em, unlocked.repository.id, unlocked.name);
  return findPlanVersion(em, planId);
}

/**
 * Loads a version `for share` and requires it to be a draft: only drafts' artifacts change. `field` is what
 * the caller sent that names the version (its id, or the id of one of its artifacts).
 */
export async function lockDraft(
  em: EntityManager,
  planId: string,
  action: string,
  field = 'planId',
): Promise<PlannerPlan> {
  const plan = await em.findOne(PlannerPlan, planId, { lockMode: LockMode.PESSIMISTIC_READ, refresh: true });
  if (!plan) throw planNotFound(planId, field);
  requirePlanStatus(plan, ['draft'], action, field);
  return plan;
}

export function requirePlanStatus(
  plan: PlannerPlan,
  allowed: readonly PlanStatus[],
  action: string,
  field = 'planId',
): void {
  if (!allowed.includes(plan.status)) {
    throw new ConflictError(
      `${field}: version ${plan.version} of plan "${plan.name}" is ${plan.status}; only a ${allowed.join(' or ')} version can ${action}`,
      { field },
    );
  }
}

export async function findArtifact(em: EntityManager, artifactId: string): Promise<PlannerArtifact> {
  const artifact = await em.findOne(PlannerArtifact, artifactId, { refresh: true });
  if (!artifact) {
    throw new NotFoundError(`artifactId: artifact ${artifactId} does not exist`, { field: 'artifactId' });
  }
  return artifact;
}
