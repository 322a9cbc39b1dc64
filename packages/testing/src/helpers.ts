import { HuddleError } from '@huddle/db';
import pg from 'pg';
import { afterAll, beforeAll, expect } from 'vitest';

/** What every module's test files share, so each package's test helpers hold only what is its own. */

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

/** Polls `check` until it passes (events arrive asynchronously, after commit); fails after `timeoutMs`. */
export async function eventually(check: () => void, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
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
