import { type EntityManager, parseInput } from '@huddle/db';
import type { ScrumActor } from '../actor.ts';
import {
  type ListUnreadNotificationsInput,
  listUnreadNotificationsInputSchema,
  type MarkedRead,
  type Notification,
  type NotificationIdInput,
  notificationIdInputSchema,
  type UnreadCount,
} from '../schemas.ts';
import { notFound } from './access.ts';
import { notificationColumnsSql } from './outputs.ts';

/**
 * The actor's unread notifications, newest first (the seed's pattern: idx_notifications_user_unread). Polled
 * constantly, so one statement whose rows are the answer.
 */
export async function listUnreadNotifications(
  em: EntityManager,
  actor: ScrumActor,
  input: ListUnreadNotificationsInput = {},
): Promise<Notification[]> {
  const { limit } = parseInput(listUnreadNotificationsInputSchema, input);
  return em.execute(
    `select ${notificationColumnsSql('n')} from scrum.notifications n
     where n.user_id = ? and n.is_read = false order by n.created_at desc, n.id desc limit ?`,
    [actor.userId, limit],
  );
}

/** Marks one of the actor's notifications read; `read_at` keeps the first time it was read. */
export async function markNotificationRead(
  em: EntityManager,
  actor: ScrumActor,
  input: NotificationIdInput,
): Promise<Notification> {
  const { notificationId } = parseInput(notificationIdInputSchema, input);
  const [notification]: Notification[] = await em.execute(
    `update scrum.notifications n set is_read = true, read_at = coalesce(n.read_at, now())
     where n.id = ? and n.user_id = ? returning ${notificationColumnsSql('n')}`,
    [notificationId, actor.userId],
  );
  if (!notification) throw notFound('notificationId', 'notification', notificationId);
  return notification;
}

/** Marks every unread notification of the actor read. */
export async function markAllNotificationsRead(em: EntityManager, actor: ScrumActor): Promise<MarkedRead> {
  const result = await em.execute<{ affectedRows: number }>(
    'update scrum.notifications set is_read = true, read_at = now() where user_id = ? and is_read = false',
    [actor.userId],
    'run',
  );
  return { marked: result.affectedRows };
}

export async function countUnreadNotifications(em: EntityManager, actor: ScrumActor): Promise<UnreadCount> {
  const [row] = await em.execute<{ unread: number }[]>(
    'select count(*)::int as unread from scrum.notifications where user_id = ? and is_read = false',
    [actor.userId],
  );
  return { unread: row?.unread ?? 0 };
}
