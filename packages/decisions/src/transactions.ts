import type { EntityManager } from '@huddle/db';
import type { DecisionsActor } from './actor.ts';

/**
 * A service that does slow work between its reads and its writes (bcrypt, extraction) takes one of these
 * rather than an EntityManager: each call runs `work` in a short transaction of its own, so no pool
 * connection, transaction or row lock is held while the slow work runs.
 */

/** A transaction for nobody in particular (the webhook): the API's `inRequestScope`. */
export type InTransaction = <T>(work: (em: EntityManager) => Promise<T>) => Promise<T>;

/**
 * A transaction for the acting user (the API's `runAsActor`): each one loads the actor afresh, so a user
 * deleted or demoted meanwhile is refused in the next one.
 */
export type InActorTransaction = <T>(
  work: (em: EntityManager, actor: DecisionsActor) => Promise<T>,
) => Promise<T>;
