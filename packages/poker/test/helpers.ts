import { type Database, type EntityManager, type HuddleError, inRequestScope, runAsActor } from '@huddle/db';
import pg from 'pg';
import { afterAll, beforeAll, expect } from 'vitest';
import type { PokerActor } from '../src/actor.ts';
import { pokerModule } from '../src/module.ts';
import { join } from '../src/services/users.ts';

/** Runs a call that acts for nobody yet (`join`) the way the API does: its own fork and transaction. */
export function inRequest<T>(db: Database, work: (em: EntityManager) => Promise<T>): Promise<T> {
  return inRequestScope(db.orm, work);
}

/**
 * Runs one service call as `actor` the way the API does: loaded by the module, in its own transaction, as
 * `application_user` with only the grants poker's migrations give it.
 */
export function asActor<T>(
  db: Database,
  actor: PokerActor,
  work: (em: EntityManager, actor: PokerActor) => Promise<T>,
): Promise<T> {
  return runAsActor(db.orm, pokerModule, actor, work);
}

export function actorOf(user: { id: number }): PokerActor {
  return { module: 'poker', userId: user.id };
}

let uniqueUserNumber = 0;

/** A new user with a unique email, as `join` creates them. */
export async function newUser(db: Database, name: string): Promise<{ id: number; actor: PokerActor }> {
  uniqueUserNumber += 1;
  const email = `${name.toLowerCase().replaceAll(' ', '.')}.${process.pid}.${uniqueUserNumber}@test.example`;
  const user = await inRequest(db, (em) => join(em, { name, email }, null));
  return { id: user.id, actor: actorOf(user) };
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
