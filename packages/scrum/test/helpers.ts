import { type Database, type EntityManager, type HuddleError, runAsActor } from '@huddle/db';
import pg from 'pg';
import { afterAll, beforeAll, expect } from 'vitest';
import type { ScrumActor } from '../src/actor.ts';
import { scrumModule } from '../src/module.ts';
import type { UserRole } from '../src/schemas.ts';

/**
 * Runs one service call as `actor` the way the API does: loaded by the module (current role, active), in
 * its own transaction, as `application_user` with `app.user_id` / `app.user_role` set for row-level security.
 */
export function asActor<T>(
  db: Database,
  actor: ScrumActor,
  work: (em: EntityManager, actor: ScrumActor) => Promise<T>,
): Promise<T> {
  return runAsActor(db.orm, scrumModule, actor, work);
}

/** The actor for a user id; `load` fills in the current role, so the one given here does not matter. */
export function actorOf(userId: number, role: UserRole = 'developer'): ScrumActor {
  return { module: 'scrum', userId, role };
}

/**
 * A plain `pg` client on the file's test database (the harness's superuser, so row-level security does
 * not apply to it): to write fixtures and to read what the database holds.
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

let uniqueUserNumber = 0;

/** A new active user of `role` written directly (as sign-in would), with its actor. */
export async function newUser(
  client: pg.Client,
  role: UserRole,
  name: string = role,
): Promise<{ id: number; actor: ScrumActor }> {
  uniqueUserNumber += 1;
  const login = `${name}-${process.pid}-${uniqueUserNumber}`;
  const result = await client.query<{ id: number }>(
    `insert into scrum.users (github_id, username, email, role) values ($1, $1, $2, $3) returning id`,
    [`gh-${login}`, `${login}@example.test`, role],
  );
  const id = result.rows[0]!.id;
  return { id, actor: actorOf(id, role) };
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
