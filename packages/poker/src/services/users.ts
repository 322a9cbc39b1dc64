import { type EntityManager, parseInput, UnauthorizedError } from '@huddle/db';
import type { PokerActor } from '../actor.ts';
import { PokerUser } from '../entities/user.ts';
import { type JoinInput, joinInputSchema, type User } from '../schemas.ts';
import { toUser } from './outputs.ts';

/**
 * Temporary identity: finds the user with `email` (marking them active) or creates one. Without an email
 * every join creates a new user. The caller (the API) turns the returned user into a token.
 */
export async function join(em: EntityManager, input: JoinInput): Promise<User> {
  const { name, email } = parseInput(joinInputSchema, input);
  if (email === undefined) {
    const user = em.create(PokerUser, { name });
    await em.flush();
    return toUser(user);
  }
  // One statement, so two simultaneous joins with the same email find the same user instead of colliding.
  const user = await em.upsert(
    PokerUser,
    { name, email, lastActive: new Date() },
    { onConflictFields: ['email'], onConflictAction: 'merge', onConflictMergeFields: ['lastActive'] },
  );
  return toUser(user);
}

/** The acting user. */
export async function getCurrentUser(em: EntityManager, actor: PokerActor): Promise<User> {
  const { userId } = actor;
  const user = await em.findOne(PokerUser, userId);
  if (!user) throw new UnauthorizedError(`actor: user ${userId} does not exist`);
  return toUser(user);
}

/** The user with `email`, if any: for operator tools such as the API's demo banner, never a client's call. */
export async function findUserByEmail(em: EntityManager, email: string): Promise<User | null> {
  const user = await em.findOne(PokerUser, { email: email.toLowerCase() });
  return user && toUser(user);
}
