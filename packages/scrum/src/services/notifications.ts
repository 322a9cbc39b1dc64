import {
  type EntityManager,
  executePrepared,
  keysetTimestampSql,
  outputColumnsSql,
  preparedStatement,
} from '@huddle/db';
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
 * `listUnreadNotifications`' statement: `$1` the actor, `$2` the limit (plus one), `$3`–`$4` the cursor's
 * created_at and id (null on a first page).
 */
const unreadNotificationsStatement = preparedStatement<Notification & { cursorCreatedAt: string }>(
  'scrum.unread_notifications_page',
  `select ${notificationColumnsSql('n')}, ${keysetTimestampSql('n.created_at')} as "cursorCreatedAt"
   from scrum.notifications n
   where n.user_id = $1 and n.is_read = false
     and ($3::timestamptz is null or (n.created_at, n.id) < ($3::timestamptz, $4::int))
   order by n.created_at desc, n.id desc limit $2`,
);

/**
 * The actor's unread notifications, newest first, a page at a time (the seed's pattern:
 * idx_notifications_user_unread). Polled constantly, so one prepared statement whose rows are the answer.
 */
export async function listUnreadNotifications(
  em: EntityManager,
  actor: ScrumActor,
  input: ListUnreadNotificationsInput,
): Promise<NotificationPage> {
  const { limit, cursor } = input;
  const rows = await executePrepared(em, unreadNotificationsStatement, [
    actor.userId,
    limit + 1,
    ...(cursor ?? [null, null]),
  ]);
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

/** `countUnreadNotifications`' statement: `$1` the actor (idx_notifications_user_unread). */
const unreadCountStatement = preparedStatement<UnreadCount>(
  'scrum.unread_notification_count',
  `select ${outputColumnsSql<UnreadCount>({ unread: 'count(*)::int' })}
   from scrum.notifications n where n.user_id = $1 and n.is_read = false`,
);

/** How many unread notifications the actor has: polled like the list, so a prepared statement too. */
export async function countUnreadNotifications(em: EntityManager, actor: ScrumActor): Promise<UnreadCount> {
  const [count] = await executePrepared(em, unreadCountStatement, [actor.userId]);
  return count!;
}
