import {
  type ActorOperation,
  callOperation,
  type Database,
  type EntityManager,
  type InputSchema,
  runAsActor,
} from '@huddle/db';
import type pg from 'pg';
import type { z } from 'zod';
import type { ScrumActor } from '../src/actor.ts';
import { type ScrumResources, scrumModule } from '../src/module.ts';
import type { UserRole } from '../src/schemas.ts';

export { eventually, expectHuddleError, useSqlClient } from '@huddle/testing';

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

/**
 * Calls `operation` as `actor` at the edge, as the API does (`callOperation`): the input parsed there (bad
 * input is an InvalidInputError naming the field; defaults filled in), the service in one request transaction
 * as `actor`, its answer parsed by the output schema. GitHub sign-in is not configured.
 */
export function callAs<Input extends InputSchema | undefined, Output extends z.ZodType>(
  db: Database,
  actor: ScrumActor,
  operation: ActorOperation<'query' | 'mutation', ScrumActor, ScrumResources, Input, Output>,
  input: Input extends z.ZodType ? z.input<Input> : undefined,
): Promise<z.output<Output>> {
  return callOperation(db.orm, scrumModule, operation, actor, input, { github: null });
}

/** The actor for a user id; `load` fills in the current role, so the one given here does not matter. */
export function actorOf(userId: number, role: UserRole = 'developer'): ScrumActor {
  return { module: 'scrum', userId, role };
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
