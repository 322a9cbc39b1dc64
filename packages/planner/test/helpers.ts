import {
  type ActorOperation,
  callOperation,
  type Database,
  type EntityManager,
  type InputSchema,
  inRequestScope,
  type ParsedInput,
  parseInput,
  runAsActor,
  type SteppedOperation,
} from '@huddle/db';
import { useTestDatabase } from '@huddle/testing';
import { beforeAll } from 'vitest';
import type { z } from 'zod';
import type { PlannerActor } from '../src/actor.ts';
import { plannerModule } from '../src/module.ts';
import type { RepositoryAccess } from '../src/roots.ts';

export { expectHuddleError, settleAll, useSqlClient } from '@huddle/testing';

export const OPERATOR: PlannerActor = { module: 'planner', operator: 'ops.ann', isAdmin: false };

/**
 * The test file's migrated database (`useTestDatabase`) with the test operator in planner.operators: a
 * planner request is refused for an operator without a row.
 */
export function usePlannerDatabase(): ReturnType<typeof useTestDatabase> {
  const test = useTestDatabase([plannerModule]);
  beforeAll(() =>
    inRequestScope(test.db.orm, (em) =>
      em.execute('insert into planner.operators (name) values (?)', [OPERATOR.operator]),
    ),
  );
  return test;
}

/**
 * Runs one service call as an operator (the test operator unless `operator` says otherwise) the way the API
 * does: in its own transaction, as planner's request role with only the grants its migrations give it.
 */
export function asOperator<T>(
  db: Database,
  work: (em: EntityManager, operator: PlannerActor) => Promise<T>,
  operator: PlannerActor = OPERATOR,
): Promise<T> {
  return runAsActor(db.orm, plannerModule, operator, work);
}

/**
 * Calls one of `plannerOperations` as the operator, through the edge (`callOperation`): the input parsed
 * there (trimmed, defaults filled in, refused by field), the answer checked by the output schema. Without
 * `resources`, planner may read under no root.
 */
export function callAsOperator<Input extends InputSchema | undefined, Output extends z.ZodType>(
  db: Database,
  operation: ActorOperation<'query' | 'mutation', PlannerActor, RepositoryAccess, Input, Output>,
  input: Input extends z.ZodType ? z.input<Input> : undefined,
  resources: RepositoryAccess = { roots: [] },
): Promise<z.output<Output>> {
  return callOperation(db.orm, plannerModule, operation, OPERATOR, input, resources);
}

/**
 * Calls one of planner's stepped operations (git read between short transactions) as the API does: the input
 * parsed at the edge, each step in a transaction of its own as the operator.
 */
export async function callSteppedAsOperator<Input extends z.ZodType, Output extends z.ZodType>(
  db: Database,
  operation: SteppedOperation<PlannerActor, RepositoryAccess, Input, Output>,
  input: z.input<Input>,
  resources: RepositoryAccess = { roots: [] },
): Promise<z.output<Output>> {
  const parsed = parseInput(operation.input, input) as ParsedInput<Input>;
  const transactions = <T>(work: (em: EntityManager, operator: PlannerActor) => Promise<T>) =>
    runAsActor(db.orm, plannerModule, OPERATOR, work);
  return operation.output.parse(await operation.run(transactions, parsed, resources));
}
