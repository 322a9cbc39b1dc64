import {
  type ActorTransactions,
  ConflictError,
  type EntityManager,
  executePrepared,
  NotFoundError,
  outputColumnsSql,
  preparedStatement,
  revokeSessions,
  softDelete,
  UnauthorizedError,
} from '@huddle/db';
import { rowsToPage } from '@huddle/db/zod';
import type { DecisionsActor } from '../actor.ts';
import { DecisionsUser } from '../entities/user.ts';
import type {
  ChangePasswordInput,
  ChangeUserRoleInput,
  CreateUserInput,
  ListUsersInput,
  SignInInput,
  User,
  UserIdInput,
  UserPage,
} from '../schemas.ts';
import { requireDirector } from './access.ts';
import { toUser, userColumns } from './outputs.ts';
import { DUMMY_PASSWORD_HASH, hashPassword, verifyPassword } from './passwords.ts';

const WRONG_CREDENTIALS = 'password: wrong email or password';

/** `signIn`'s statement: `$1` the email (lower case); the live user with it, and its password's hash. */
const signInStatement = preparedStatement<User & { passwordHash: string }>(
  'decisions.sign_in',
  `select ${outputColumnsSql(userColumns('u'))}, u.password_hash as "passwordHash"
   from decisions.users u where lower(u.email) = $1 and u.deleted_at is null`,
);

/**
 * Checks an email and password; returns the user, from whom the API issues a token. A wrong password, an
 * unknown email and a soft-deleted user all get the same answer, after the same bcrypt work.
 */
export async function signIn(em: EntityManager, input: SignInInput): Promise<User> {
  const { email, password } = input;
  const [found] = await executePrepared(em, signInStatement, [email]);
  const matches = await verifyPassword(password, found?.passwordHash ?? DUMMY_PASSWORD_HASH);
  if (!found || !matches) throw new UnauthorizedError(WRONG_CREDENTIALS, { field: 'password' });
  const { passwordHash: _, ...user } = found;
  return user;
}

/** `getCurrentUser`'s statement: `$1` the actor. */
const currentUserStatement = preparedStatement<User>(
  'decisions.current_user',
  `select ${outputColumnsSql(userColumns('u'))} from decisions.users u where u.id = $1 and u.deleted_at is null`,
);

/** The acting user. */
export async function getCurrentUser(em: EntityManager, actor: DecisionsActor): Promise<User> {
  const [user] = await executePrepared(em, currentUserStatement, [actor.userId]);
  if (!user) throw new UnauthorizedError(`actor: decisions user ${actor.userId} does not exist`);
  return user;
}

/**
 * `listUsers`' statement: `$1` whether soft-deleted users count, `$2` the page size and one, `$3`–`$4` the
 * cursor's name and id (null: first page).
 */
const usersStatement = preparedStatement<User>(
  'decisions.users_page',
  `select ${outputColumnsSql(userColumns('u'))} from decisions.users u
   where ($1::boolean or u.deleted_at is null) and ($3::text is null or (u.name, u.id) > ($3::text, $4::int))
   order by u.name, u.id limit $2`,
);

/** Users by name, a page at a time; soft-deleted ones only when a director asks for them. */
export async function listUsers(
  em: EntityManager,
  actor: DecisionsActor,
  input: ListUsersInput,
): Promise<UserPage> {
  const { includeDeleted, limit, cursor } = input;
  if (includeDeleted) requireDirector(actor, 'see deleted users', 'includeDeleted');
  const rows = await executePrepared(em, usersStatement, [
    includeDeleted,
    limit + 1,
    ...(cursor ?? [null, null]),
  ]);
  return rowsToPage(rows, limit, (user) => [user.name, user.id]);
}

/** A director creates a user with an initial password; an active user with that email (any case) conflicts. */
export async function createUser(
  em: EntityManager,
  actor: DecisionsActor,
  input: CreateUserInput,
): Promise<User> {
  const { email, name, password, role } = input;
  requireDirector(actor, 'create users', 'email');
  const user = em.create(DecisionsUser, { email, name, role, passwordHash: await hashPassword(password) });
  await em.flush();
  return toUser(user);
}

async function findUser(em: EntityManager, userId: number, includeDeleted: boolean): Promise<DecisionsUser> {
  const user = await em.findOne(DecisionsUser, userId, includeDeleted ? softDelete.included : {});
  if (!user) throw new NotFoundError(`userId: user ${userId} does not exist`, { field: 'userId' });
  return user;
}

/** Refuses to leave no active director: someone must be able to manage users. */
async function requireAnotherDirector(em: EntityManager, user: DecisionsUser, action: string): Promise<void> {
  if (user.role !== 'director') return;
  // Locks every active director row, so two directors demoting each other at once cannot both succeed.
  const others: unknown[] = await em.execute(
    `select id from decisions.users where role = 'director' and deleted_at is null and id <> ? for update`,
    [user.id],
  );
  if (others.length === 0) {
    throw new ConflictError(`userId: cannot ${action} user ${user.id}: they are the last director`, {
      field: 'userId',
    });
  }
}

/**
 * Refuses to leave a project without a live owner: the projects the user owns are locked (as membership
 * changes lock them), then any of them with no other live owner is named.
 */
async function requireNotLastOwner(em: EntityManager, user: DecisionsUser): Promise<void> {
  await em.execute(
    `select p.id from decisions.projects p join decisions.project_members m on m.project_id = p.id
     where m.user_id = ? and m.role = 'owner' order by p.id for update of p`,
    [user.id],
  );
  const orphaned: { project_id: number }[] = await em.execute(
    `select m.project_id from decisions.project_members m
     where m.user_id = ? and m.role = 'owner' and not exists (
       select 1 from decisions.project_members o join decisions.users ou on ou.id = o.user_id and ou.deleted_at is null
       where o.project_id = m.project_id and o.role = 'owner' and o.user_id <> m.user_id)
     order by m.project_id limit 10`,
    [user.id],
  );
  if (orphaned.length > 0) {
    const projects = orphaned.map((row) => row.project_id).join(', ');
    throw new ConflictError(
      `userId: user ${user.id} is the last live owner of project ${projects}; make another member owner first`,
      { field: 'userId' },
    );
  }
}

async function saveUser(em: EntityManager, user: DecisionsUser): Promise<User> {
  await em.flush();
  return toUser(await em.refreshOrFail(user, softDelete.included));
}

export async function changeUserRole(
  em: EntityManager,
  actor: DecisionsActor,
  input: ChangeUserRoleInput,
): Promise<User> {
  const { userId, role } = input;
  requireDirector(actor, 'change roles', 'userId');
  const user = await findUser(em, userId, false);
  if (role !== 'director') await requireAnotherDirector(em, user, 'demote');
  user.role = role;
  return saveUser(em, user);
}

/**
 * Soft delete: the user can no longer sign in or act, and their email can be registered again. Refused while
 * they are the last live owner of a project.
 */
export async function deleteUser(
  em: EntityManager,
  actor: DecisionsActor,
  input: UserIdInput,
): Promise<User> {
  const { userId } = input;
  requireDirector(actor, 'delete users', 'userId');
  const user = await findUser(em, userId, false);
  await requireAnotherDirector(em, user, 'delete');
  await requireNotLastOwner(em, user);
  user.deletedAt = new Date();
  // Ended for good: restoring the user later revives none of their tokens.
  await revokeSessions(em, { module: 'decisions', subject: String(userId) }, 'user_deleted');
  return saveUser(em, user);
}

/** Undoes a soft delete; conflicts if the email has meanwhile been given to another active user. */
export async function restoreUser(
  em: EntityManager,
  actor: DecisionsActor,
  input: UserIdInput,
): Promise<User> {
  const { userId } = input;
  requireDirector(actor, 'restore users', 'userId');
  const user = await findUser(em, userId, true);
  if (!user.deletedAt) {
    throw new ConflictError(`userId: user ${userId} is not deleted`, { field: 'userId' });
  }
  user.deletedAt = null;
  return saveUser(em, user);
}

/**
 * The actor changes their own password; the current one is required. No transaction is open while bcrypt
 * runs: one reads the stored hash, bcrypt checks the current password and hashes the new one, and a second
 * writes the new hash only if the stored one is still the hash checked (compare-and-set), so a password
 * changed meanwhile is a conflict, never overwritten by a check against the old one.
 */
export async function changePassword(
  transactions: ActorTransactions<DecisionsActor>,
  input: ChangePasswordInput,
): Promise<User> {
  const { currentPassword, newPassword } = input;
  const checkedHash = await transactions(async (em, actor) => {
    const rows: { password_hash: string }[] = await em.execute(
      'select password_hash from decisions.users where id = ?',
      [actor.userId],
    );
    return rows[0]!.password_hash;
  });
  if (!(await verifyPassword(currentPassword, checkedHash))) {
    throw new UnauthorizedError('currentPassword: is wrong', { field: 'currentPassword' });
  }
  const newHash = await hashPassword(newPassword);
  return transactions(async (em, actor) => {
    const changed: unknown[] = await em.execute(
      'update decisions.users set password_hash = ? where id = ? and password_hash = ? returning id',
      [newHash, actor.userId, checkedHash],
    );
    if (changed.length === 0) {
      throw new ConflictError(
        'currentPassword: the password was changed meanwhile; try again with the current one',
        { field: 'currentPassword' },
      );
    }
    // A reset link made before the change would undo it: it goes with the old password.
    await em.execute('delete from decisions.password_resets where user_id = ?', [actor.userId]);
    // Every session, this one included, ends with the old password: whoever knew it is signed out.
    await revokeSessions(em, { module: 'decisions', subject: String(actor.userId) }, 'password_changed');
    return getCurrentUser(em, actor);
  });
}
