import { type Database, type EntityManager, inRequestScope, runAsActor } from '@huddle/db';
import type { DecisionsActor } from '../src/actor.ts';
import { decisionsModule } from '../src/module.ts';
import type { InActorTransaction, InTransaction } from '../src/transactions.ts';

export { expectHuddleError, useSqlClient } from '@huddle/testing';

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

/** The transactions a service doing slow work (the webhook) opens, the way the API gives them. */
export function requestTransactions(db: Database): InTransaction {
  return (work) => inRequestScope(db.orm, work);
}

/** The transactions a service doing slow work (bcrypt, extraction) opens for `actor`, as the API gives them. */
export function actorTransactions(db: Database, actor: DecisionsActor): InActorTransaction {
  return (work) => runAsActor(db.orm, decisionsModule, actor, work);
}

/** The actor for a user id, as a token's subject gives it (the role is read by `load`). */
export function actorOf(user: { id: number }): DecisionsActor {
  return decisionsModule.actor!.parse(String(user.id));
}

/** A bcrypt-shaped placeholder for rows written with raw SQL that no one signs in with. */
export const UNUSED_PASSWORD_HASH = '$2b$10$abcdefghijklmnopqrstuu0123456789012345678901234567890';
