import {
  ConflictError,
  type EntityManager,
  NotFoundError,
  parseInput,
  softDelete,
  UnauthorizedError,
} from '@huddle/db';
import type { DecisionsActor } from '../actor.ts';
import { DecisionsUser } from '../entities/user.ts';
import {
  type ChangePasswordInput,
  type ChangeUserRoleInput,
  type CreateUserInput,
  changePasswordInputSchema,
  changeUserRoleInputSchema,
  createUserInputSchema,
  type ListUsersInput,
  listUsersInputSchema,
  type SignInInput,
  signInInputSchema,
  type User,
  type UserIdInput,
  userIdInputSchema,
} from '../schemas.ts';
import { requireDirector } from './access.ts';
import { toUser } from './outputs.ts';
import { DUMMY_PASSWORD_HASH, hashPassword, verifyPassword } from './passwords.ts';

const WRONG_CREDENTIALS = 'email or password: wrong email or password';

/**
 * Checks an email and password; returns the user, from whom the API issues a token. A wrong password, an
 * unknown email and a soft-deleted user all get the same answer, after the same bcrypt work.
 */
export async function signIn(em: EntityManager, input: SignInInput): Promise<User> {
  const { email, password } = parseInput(signInInputSchema, input);
  const rows: { id: number; password_hash: string }[] = await em.execute(
    'select id, password_hash from decisions.users where lower(email) = ? and deleted_at is null',
    [email],
  );
  const found = rows[0];
  const matches = await verifyPassword(password, found?.password_hash ?? DUMMY_PASSWORD_HASH);
  if (!found || !matches) throw new UnauthorizedError(WRONG_CREDENTIALS, { field: 'password' });
  return toUser(await em.findOneOrFail(DecisionsUser, found.id));
}

/** The acting user. */
export async function getCurrentUser(em: EntityManager, actor: DecisionsActor): Promise<User> {
  return toUser(await em.findOneOrFail(DecisionsUser, actor.userId));
}

/** Users by name; soft-deleted ones only when a director asks for them. */
export async function listUsers(
  em: EntityManager,
  actor: DecisionsActor,
  input: ListUsersInput = {},
): Promise<User[]> {
  const { includeDeleted } = parseInput(listUsersInputSchema, input);
  if (includeDeleted) requireDirector(actor, 'see deleted users');
  const users = await em.find(
    DecisionsUser,
    {},
    { orderBy: { name: 'asc', id: 'asc' }, ...(includeDeleted && softDelete.included) },
  );
  return users.map(toUser);
}

/** A director creates a user with an initial password; an active user with that email (any case) conflicts. */
export async function createUser(
  em: EntityManager,
  actor: DecisionsActor,
  input: CreateUserInput,
): Promise<User> {
  const { email, name, password, role } = parseInput(createUserInputSchema, input);
  requireDirector(actor, 'create users');
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

async function saveUser(em: EntityManager, user: DecisionsUser): Promise<User> {
  await em.flush();
  return toUser(await em.refreshOrFail(user, softDelete.included));
}

export async function changeUserRole(
  em: EntityManager,
  actor: DecisionsActor,
  input: ChangeUserRoleInput,
): Promise<User> {
  const { userId, role } = parseInput(changeUserRoleInputSchema, input);
  requireDirector(actor, 'change roles');
  const user = await findUser(em, userId, false);
  if (role !== 'director') await requireAnotherDirector(em, user, 'demote');
  user.role = role;
  return saveUser(em, user);
}

/** Soft delete: the user can no longer sign in or act, and their email can be registered again. */
export async function deleteUser(
  em: EntityManager,
  actor: DecisionsActor,
  input: UserIdInput,
): Promise<User> {
  const { userId } = parseInput(userIdInputSchema, input);
  requireDirector(actor, 'delete users');
  const user = await findUser(em, userId, false);
  await requireAnotherDirector(em, user, 'delete');
  user.deletedAt = new Date();
  return saveUser(em, user);
}

/** Undoes a soft delete; conflicts if the email has meanwhile been given to another active user. */
export async function restoreUser(
  em: EntityManager,
  actor: DecisionsActor,
  input: UserIdInput,
): Promise<User> {
  const { userId } = parseInput(userIdInputSchema, input);
  requireDirector(actor, 'restore users');
  const user = await findUser(em, userId, true);
  if (!user.deletedAt) {
    throw new ConflictError(`userId: user ${userId} is not deleted`, { field: 'userId' });
  }
  user.deletedAt = null;
  return saveUser(em, user);
}

/** The actor changes their own password; the current one is required. */
export async function changePassword(
  em: EntityManager,
  actor: DecisionsActor,
  input: ChangePasswordInput,
): Promise<User> {
  const { currentPassword, newPassword } = parseInput(changePasswordInputSchema, input);
  const rows: { password_hash: string }[] = await em.execute(
    'select password_hash from decisions.users where id = ? for update',
    [actor.userId],
  );
  if (!(await verifyPassword(currentPassword, rows[0]!.password_hash))) {
    throw new UnauthorizedError('currentPassword: is wrong', { field: 'currentPassword' });
  }
  await em.execute('update decisions.users set password_hash = ? where id = ?', [
    await hashPassword(newPassword),
    actor.userId,
  ]);
  return getCurrentUser(em, actor);
}
