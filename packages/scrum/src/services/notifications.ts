import { type EntityManager, parseInput } from '@huddle/db';
import type { ScrumActor } from '../actor.ts';
import { ScrumNotification } from '../entities/notification.ts';
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
import { toNotification } from './outputs.ts';

/** The actor's unread notifications, newest first (the seed's pattern: idx_notifications_user_unread). */
export async function listUnreadNotifications(
  em: EntityManager,
  actor: ScrumActor,
  input: ListUnreadNotificationsInput = {},
): Promise<Notification[]> {
  const { limit } = parseInput(listUnreadNotificationsInputSchema, input);
  const notifications = await em.find(
    ScrumNotification,
    { user: actor.userId, isRead: false },
    { orderBy: { createdAt: 'desc', id: 'desc' }, limit },
  );
  return notifications.map(toNotification);
}

/** Marks one of the actor's notifications read; `read_at` keeps the first time it was read. */
export async function markNotificationRead(
  em: EntityManager,
  actor: ScrumActor,
  input: NotificationIdInput,
): Promise<Notification> {
  const { notificationId } = parseInput(notificationIdInputSchema, input);
  const [row] = await em.execute<Record<string, unknown>[]>(
    `update scrum.notifications set is_read = true, read_at = coalesce(read_at, now())
     where id = ? and user_id = ? returning *`,
    [notificationId, actor.userId],
  );
  if (!row) throw notFound('notificationId', 'notification', notificationId);
  return toNotification(em.map(ScrumNotification, row));
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
