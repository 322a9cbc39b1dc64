import {
  type EntityManager,
  executePrepared,
  ForbiddenError,
  NotFoundError,
  preparedStatement,
} from '@huddle/db';
import type { ScrumActor } from '../actor.ts';
import { MANAGER_ROLES, type UserRole } from '../schemas.ts';

/**
 * The rules every scrum service shares. Row-level security already hides what the actor may not see (an
 * invisible row is, to the actor, one that does not exist: NotFoundError); these checks turn what the actor
 * may see but not do into a ForbiddenError that names the field, before any write.
 */

export function isManager(role: UserRole): boolean {
  return (MANAGER_ROLES as readonly UserRole[]).includes(role);
}

/** Project managers and admins plan the work: create, assign and edit tasks, work triage items. */
export function requireManager(actor: ScrumActor, action: string, field: string): void {
  if (!isManager(actor.role)) {
    throw new ForbiddenError(`${field}: only project managers and admins may ${action}`, { field });
  }
}

export function requireAdmin(actor: ScrumActor, action: string, field: string): void {
  if (actor.role !== 'admin') throw new ForbiddenError(`${field}: only admins may ${action}`, { field });
}

export function notFound(field: string, what: string, id: number): NotFoundError {
  return new NotFoundError(`${field}: ${what} ${id} does not exist`, { field });
}

/** A user work or a message can go to: one that exists and is active. */
export async function requireActiveUser(em: EntityManager, userId: number, field: string): Promise<void> {
  const found: unknown[] = await em.execute('select 1 from scrum.users where id = ? and is_active', [userId]);
  if (found.length === 0) throw notFound(field, 'active user', userId);
}

/** Active users with one of `roles`, except `exceptUserId`: who hears about completions and reports. */
export async function activeUserIdsWithRoles(
  em: EntityManager,
  roles: readonly UserRole[],
  exceptUserId: number,
): Promise<number[]> {
  const rows = await em.execute<{ id: number }[]>(
    'select id from scrum.users where role = any(array[?]) and is_active and id <> ? order by id',
    [roles, exceptUserId],
  );
  return rows.map((row) => row.id);
}

/** The tables `isVisible` asks about, each with its statement: `$1` the row's id. */
const visibleRowStatements = {
  tasks: preparedStatement<{ visible: number }>(
    'scrum.task_visible',
    'select 1 as visible from scrum.tasks where id = $1',
  ),
  chat_messages: preparedStatement<{ visible: number }>(
    'scrum.chat_message_visible',
    'select 1 as visible from scrum.chat_messages where id = $1',
  ),
};

/** Whether the actor can see row `id` of `table` at all (row-level security decides). */
export async function isVisible(
  em: EntityManager,
  table: keyof typeof visibleRowStatements,
  id: number,
): Promise<boolean> {
  const found = await executePrepared(em, visibleRowStatements[table], [id]);
  return found.length > 0;
}
