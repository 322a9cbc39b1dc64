import { actingIn } from '@huddle/testing';
import type pg from 'pg';
import type { ScrumActor } from '../src/actor.ts';
import { scrumModule } from '../src/module.ts';
import type { UserRole } from '../src/schemas.ts';

export { eventually, expectHuddleError, useSqlClient } from '@huddle/testing';

/** GitHub sign-in is not configured unless a test gives its own resources. */
export const { asActor, inRequest, call, callStepped } = actingIn(scrumModule, { github: null });

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
