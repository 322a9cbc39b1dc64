import { type Database, type EntityManager, HuddleError, runAsActor } from '@huddle/db';
import type { PlannerActor } from '../src/actor.ts';
import { plannerModule } from '../src/module.ts';

export { expectHuddleError, useSqlClient } from '@huddle/db/testing';

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

/** Runs every task at once and sorts the outcomes; anything thrown that is not a HuddleError fails the test. */
export async function settleAll<T>(
  tasks: (() => Promise<T>)[],
): Promise<{ results: T[]; errors: HuddleError[] }> {
  const outcomes = await Promise.allSettled(tasks.map((task) => task()));
  const results: T[] = [];
  const errors: HuddleError[] = [];
  for (const outcome of outcomes) {
    if (outcome.status === 'fulfilled') results.push(outcome.value);
    else if (outcome.reason instanceof HuddleError) errors.push(outcome.reason);
    else throw outcome.reason;
  }
  return { results, errors };
}
