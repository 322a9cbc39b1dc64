import {
  ConflictError,
  type EntityManager,
  executePrepared,
  isoTimestampSql,
  newOneTimeSecret,
  oneTimeSecretHash,
  outputColumnsSql,
  preparedStatement,
  UnauthorizedError,
} from '@huddle/db';
import type { PokerActor } from '../actor.ts';
import { PokerUser } from '../entities/user.ts';
import type { DeviceLink, JoinInput, User } from '../schemas.ts';
import { toUser, userColumns } from './outputs.ts';

/** How long a device link stays valid: it is made to be typed in on the other device at once. */
const DEVICE_LINK_LIFETIME = '10 minutes';

/**
 * Redeems a device link of `userId`: deletes it when `code` is its code and it has not expired (single use,
 * even for two joins at once). A wrong, used, replaced or expired code is refused.
 */
async function redeemDeviceLink(
  em: EntityManager,
  userId: number,
  email: string,
  code: string,
): Promise<void> {
  const redeemed: unknown[] = await em.execute(
    'delete from poker.device_links where user_id = ? and code_hash = ? and expires_at > now() returning id',
    [userId, oneTimeSecretHash(code)],
  );
  if (redeemed.length === 0) {
    throw new UnauthorizedError(
      `deviceLink: is not a device link of ${email} (it was used, has expired or was replaced); make a new one (poker.deviceLink) on a device where you are signed in`,
      { field: 'deviceLink' },
    );
  }
}

/**
 * Sign-in with a temporary identity. Without an email, every join is a new guest. With an email nobody has,
 * a new user with that email. With an email a user already has, only that user signs in again (last_active
 * refreshed): proven by their still-valid poker token (`caller`), or on another device by a device link they
 * made (`deviceLink`); anyone else gets CONFLICT saying how: knowing an email is never enough to act as its
 * user. The caller (the API) turns the user into a token.
 */
export async function join(em: EntityManager, input: JoinInput, caller: PokerActor | null): Promise<User> {
  const { name, email, deviceLink } = input;
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
      if (deviceLink === undefined) {
        throw new ConflictError(
          `email: ${email} already has a player; to sign in as them here, make a device link (poker.deviceLink) where they are signed in and join with its code as deviceLink, or join without an email`,
          { field: 'email' },
        );
      }
      await redeemDeviceLink(em, existing.id, email, deviceLink);
    }
    existing.lastActive = new Date();
    await em.flush();
  }
  return toUser(existing);
}

/**
 * A device link for the acting player, who joined with an email: its code (shown once) signs them in on
 * another device through `poker.join`, once, within 10 minutes; a new link replaces the last.
 */
export async function createDeviceLink(em: EntityManager, actor: PokerActor): Promise<DeviceLink> {
  const { secret, hash } = newOneTimeSecret();
  const [link] = await em.execute<{ expiresAt: string }[]>(
    `insert into poker.device_links as d (user_id, code_hash, expires_at)
     select u.id, ?, now() + interval '${DEVICE_LINK_LIFETIME}' from poker.users u where u.id = ? and u.email is not null
     on conflict (user_id) do update set code_hash = excluded.code_hash, created_at = now(),
       expires_at = excluded.expires_at
     returning ${isoTimestampSql('d.expires_at')} as "expiresAt"`,
    [hash, actor.userId],
  );
  if (!link) {
    throw new ConflictError(
      'email: you joined as a guest, without an email; a device link brings back a player who joined with one',
      { field: 'email' },
    );
  }
  return { code: secret, expiresAt: link.expiresAt };
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
