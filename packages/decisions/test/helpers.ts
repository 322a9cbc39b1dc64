import { type Database, type EntityManager, type HuddleError, inRequestScope, runAsActor } from '@huddle/db';
import pg from 'pg';
import { afterAll, beforeAll, expect } from 'vitest';
import type { DecisionsActor } from '../src/actor.ts';
import { decisionsModule } from '../src/module.ts';

/** Runs a call that acts for nobody yet (sign-in, the webhook) the way the API does: own fork and transaction. */
export function inRequest<T>(db: Database, work: (em: EntityManager) => Promise<T>): Promise<T> {
  return inRequestScope(db.orm, work);
}

/**
 * Runs one service call as `actor` the way the API does: loaded by the module (live user, current role), in
 * its own transaction, as `application_user` with only the grants the decisions migrations give it.
 */
export function asActor<T>(
  db: Database,
  actor: DecisionsActor,
  work: (em: EntityManager, actor: DecisionsActor) => Promise<T>,
): Promise<T> {
  return runAsActor(db.orm, decisionsModule, actor, work);
}

/** The actor for a user id, as a token's subject gives it (the role is read by `load`). */
export function actorOf(user: { id: number }): DecisionsActor {
  return decisionsModule.actor!.parse(String(user.id));
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

/** A bcrypt-shaped placeholder for rows written with raw SQL that no one signs in with. */
export const UNUSED_PASSWORD_HASH = '$2b$10$abcdefghijklmnopqrstuu0123456789012345678901234567890';
