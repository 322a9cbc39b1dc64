import { actingIn, useTestDatabase } from '@huddle/testing';
import { beforeAll } from 'vitest';
import type { PlannerActor } from '../src/actor.ts';
import { plannerModule } from '../src/module.ts';

export { expectHuddleError, settleAll, useSqlClient } from '@huddle/testing';

/** Without resources of its own, a test's planner may read under no repository root. */
export const { asActor, inRequest, call, callStepped } = actingIn(plannerModule, { roots: [] });

export const OPERATOR: PlannerActor = { module: 'planner', operator: 'ops.ann', isAdmin: false };

/**
 * The test file's migrated database (`useTestDatabase`) with the test operator in planner.operators: a
 * planner request is refused for an operator without a row.
 */
export function usePlannerDatabase(): ReturnType<typeof useTestDatabase> {
  const test = useTestDatabase([plannerModule]);
  beforeAll(() =>
    inRequest(test.db, (em) =>
      em.execute('insert into planner.operators (name) values (?)', [OPERATOR.operator]),
    ),
  );
  return test;
}
