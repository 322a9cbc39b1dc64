import {
  type EntityManager,
  isoTimestampSql,
  NotFoundError,
  newOneTimeSecret,
  oneTimeSecretHash,
  revokeSessions,
  type Transactions,
  UnauthorizedError,
} from '@huddle/db';
import type { DecisionsActor } from '../actor.ts';
import { DecisionsUser } from '../entities/user.ts';
import type {
  CreatePasswordResetInput,
  PasswordReset,
  PasswordResetByEmailInput,
  ResetPasswordInput,
  User,
} from '../schemas.ts';
import { requireDirector } from './access.ts';
import { toUser } from './outputs.ts';
import { hashPassword } from './passwords.ts';

/** How long a password reset link stays valid: it travels by hand (chat, in person) and is used at once. */
const RESET_LIFETIME = '1 hour';

const INVALID_LINK =
  'token: is not a valid password reset link (it was used, has expired or was replaced); ask a director for a new one';

/**
 * Makes the link for the live user `where` names, replacing any earlier one of theirs (a user has at most one):
 * the secret is returned this once, its hash stored.
 */
async function insertReset(
  em: EntityManager,
  where: { sql: string; param: unknown },
  createdById: number | null,
): Promise<PasswordReset | undefined> {
  const { secret, hash } = newOneTimeSecret();
  const [reset] = await em.execute<Omit<PasswordReset, 'token'>[]>(
    `insert into decisions.password_resets as r (user_id, token_hash, created_by_id, expires_at)
     select u.id, ?, ?, now() + interval '${RESET_LIFETIME}' from decisions.users u
     where ${where.sql} and u.deleted_at is null
     on conflict (user_id) do update set token_hash = excluded.token_hash,
       created_by_id = excluded.created_by_id, created_at = now(), expires_at = excluded.expires_at
     returning r.user_id as "userId", (select email from decisions.users where id = r.user_id) as email,
       ${isoTimestampSql('r.expires_at')} as "expiresAt"`,
    [hash, createdById, where.param],
  );
  return reset && { ...reset, token: secret };
}

/** A director makes a password reset link for a live user, to hand to them. */
export async function createPasswordReset(
  em: EntityManager,
  actor: DecisionsActor,
  input: CreatePasswordResetInput,
): Promise<PasswordReset> {
  const { userId } = input;
  requireDirector(actor, 'reset passwords', 'userId');
  const reset = await insertReset(em, { sql: 'u.id = ?', param: userId }, actor.userId);
  if (!reset)
    throw new NotFoundError(`userId: user ${userId} does not exist or was deleted`, { field: 'userId' });
  return reset;
}

/** The CLI's password reset link (`huddle decisions password-reset <email>`), as the owner. */
export async function createPasswordResetByEmail(
  em: EntityManager,
  input: PasswordResetByEmailInput,
): Promise<PasswordReset> {
  const { email } = input;
  const reset = await insertReset(em, { sql: 'lower(u.email) = ?', param: email }, null);
  if (!reset) throw new NotFoundError(`email: no live user has ${email}`, { field: 'email' });
  return reset;
}

/**
 * Redeems a password reset link. No transaction is open while bcrypt runs: one checks that the link is live
 * (so a made-up link costs no hash), bcrypt hashes the new password, and a second deletes the link and writes
 * the hash in one statement, only if the link is still live (used once, even by two redeeming at once).
 */
export async function resetPassword(transactions: Transactions, input: ResetPasswordInput): Promise<User> {
  const { token, newPassword } = input;
  const tokenHash = oneTimeSecretHash(token);
  const live = await transactions((em) =>
    em.execute<unknown[]>(
      `select 1 from decisions.password_resets r join decisions.users u on u.id = r.user_id and u.deleted_at is null
       where r.token_hash = ? and r.expires_at > now()`,
      [tokenHash],
    ),
  );
  if (live.length === 0) throw new UnauthorizedError(INVALID_LINK, { field: 'token' });
  const passwordHash = await hashPassword(newPassword);
  return transactions(async (em) => {
    const [changed] = await em.execute<{ id: number }[]>(
      `with redeemed as (
         delete from decisions.password_resets where token_hash = ? and expires_at > now() returning user_id)
       update decisions.users u set password_hash = ? from redeemed
       where u.id = redeemed.user_id and u.deleted_at is null returning u.id`,
      [tokenHash, passwordHash],
    );
    if (!changed) throw new UnauthorizedError(INVALID_LINK, { field: 'token' });
    // Whoever signed in with the old password (the reason for a reset, perhaps) is signed out.
    await revokeSessions(em, { module: 'decisions', subject: String(changed.id) }, 'password_reset');
    return toUser(await em.findOneOrFail(DecisionsUser, changed.id));
  });
}
