import { type EntityManager, keysetTimestampSql } from '@huddle/db';
import { toPage } from '@huddle/db/zod';
import type { ScrumActor } from '../actor.ts';
import type {
  ListUnreadNotificationsInput,
  MarkedRead,
  Notification,
  NotificationIdInput,
  NotificationPage,
  UnreadCount,
} from '../schemas.ts';
import { notFound } from './access.ts';
import { notificationColumnsSql } from './outputs.ts';

/**
 * The actor's unread notifications, newest first, a page at a time (the seed's pattern:
 * idx_notifications_user_unread). Polled constantly, so one statement whose rows are the answer.
 */
export async function listUnreadNotifications(
  em: EntityManager,
  actor: ScrumActor,
  input: ListUnreadNotificationsInput,
): Promise<NotificationPage> {
  const { limit, cursor } = input;
  const rows = await em.execute<(Notification & { cursorCreatedAt: string })[]>(
    `select ${notificationColumnsSql('n')}, ${keysetTimestampSql('n.created_at')} as "cursorCreatedAt"
     from scrum.notifications n
     where n.user_id = ? and n.is_read = false ${cursor ? 'and (n.created_at, n.id) < (?::timestamptz, ?)' : ''}
     order by n.created_at desc, n.id desc limit ?`,
    [actor.userId, ...(cursor ?? []), limit + 1],
  );
  return toPage(
    rows,
    limit,
    ({ cursorCreatedAt: _, ...notification }) => notification,
    (row) => [row.cursorCreatedAt, row.id],
  );
}

/** Marks one of the actor's notifications read; `read_at` keeps the first time it was read. */
export async function markNotificationRead(
  em: EntityManager,
  actor: ScrumActor,
  input: NotificationIdInput,
): Promise<Notification> {
  const { notificationId } = input;
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
