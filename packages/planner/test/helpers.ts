import { type Database, type EntityManager, runAsActor } from '@huddle/db';
import type { PlannerActor } from '../src/actor.ts';
import { plannerModule } from '../src/module.ts';

export { expectHuddleError, settleAll, useSqlClient } from '@huddle/testing';

export const OPERATOR: PlannerActor = { module: 'planner', operator: 'ops.ann' };

/**
 * Runs one service call as `actor` the way the API does: in its own transaction, as `application_user` with
 * only the grants planner's migrations give it.
 */
export function asActor<T>(
  db: Database,
  work: (em: EntityManager, actor: PlannerActor) => Promise<T>,
  actor: PlannerActor = OPERATOR,
): Promise<T> {
  return runAsActor(db.orm, plannerModule, actor, work);
}
