import {
  ConflictError,
  type EntityManager,
  executePrepared,
  outputColumnsSql,
  preparedStatement,
  UnauthorizedError,
} from '@huddle/db';
import type { PokerActor } from '../actor.ts';
import { PokerUser } from '../entities/user.ts';
import type { JoinInput, User } from '../schemas.ts';
import { toUser, userColumns } from './outputs.ts';

/**
 * Sign-in with a temporary identity. Without an email, every join is a new guest. With an email nobody has,
 * a new user with that email. With an email a user already has, only that user — proven by their
 * still-valid poker token (`caller`) — signs in again (last_active refreshed); anyone else gets CONFLICT:
 * knowing an email is never enough to act as its user. The caller (the API) turns the user into a token.
 */
export async function join(em: EntityManager, input: JoinInput, caller: PokerActor | null): Promise<User> {
  const { name, email } = input;
  if (email === undefined) {
    const user = em.create(PokerUser, { name });
    await em.flush();
    return toUser(user);
  }
  // One statement, so two simultaneous joins with a new email cannot both create it.
  const created: { id: number }[] = await em.execute(
    'insert into poker.users (name, email) values (?, ?) on conflict (email) do nothing returning id',
    [name, email],
  );
  const existing = await em.findOneOrFail(PokerUser, { email });
  if (created.length === 0) {
    if (caller?.userId !== existing.id) {
      throw new ConflictError(
        `email: ${email} belongs to another user; sign in with that user's token, or join without an email`,
        { field: 'email' },
      );
    }
    existing.lastActive = new Date();
    await em.flush();
  }
  return toUser(existing);
}

const currentUserStatement = preparedStatement<User>(
  'poker.current_user',
  `select ${outputColumnsSql(userColumns('u'))} from poker.users u where u.id = $1`,
);

/** The acting user. */
export async function getCurrentUser(em: EntityManager, actor: PokerActor): Promise<User> {
  const { userId } = actor;
  const [user] = await executePrepared(em, currentUserStatement, [userId]);
  if (!user) throw new UnauthorizedError(`actor: user ${userId} does not exist`);
  return user;
}

/** The user with `email`, if any: for operator tools such as the API's demo banner, never a client's call. */
export async function findUserByEmail(em: EntityManager, email: string): Promise<User | null> {
  const user = await em.findOne(PokerUser, { email: email.toLowerCase() });
  return user && toUser(user);
}
