import { type Database, type EntityManager, inRequestScope, runAsActor } from '@huddle/db';
import type { PokerActor } from '../src/actor.ts';
import { pokerModule } from '../src/module.ts';
import { join } from '../src/services/users.ts';

export { eventually, expectHuddleError, settleAll, useSqlClient } from '@huddle/testing';

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
