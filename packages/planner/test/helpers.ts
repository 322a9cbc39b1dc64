import { type Database, type EntityManager, HuddleError, runAsActor } from '@huddle/db';
import pg from 'pg';
import { afterAll, beforeAll, expect } from 'vitest';
import type { PlannerActor } from '../src/actor.ts';
import { plannerModule } from '../src/module.ts';

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

/** Awaits `promise`, expects it to fail with a HuddleError of `type`, and returns that error. */
export async function expectHuddleError<E extends HuddleError>(
  promise: Promise<unknown>,
  type: abstract new (...args: never[]) => E,
): Promise<E> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(type);
  if (!(error instanceof type)) throw new Error(`expected a ${type.name}, got ${String(error)}`);
  return error;
}

/**
 * A plain `pg` client on the file's test database, open for the file's tests: to read what the database
 * holds, and to write what the services would refuse, without going through the ORM.
 */
export function useSqlClient(database: { readonly url: string }): { readonly client: pg.Client } {
  let client: pg.Client | undefined;
  beforeAll(async () => {
    client = new pg.Client({ connectionString: database.url });
    await client.connect();
  });
  afterAll(async () => {
    await client?.end();
  });
  return {
    get client() {
      if (!client) throw new Error('useSqlClient: the client is only available inside tests');
      return client;
    },
  };
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
