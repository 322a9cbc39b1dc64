import type { EntityManager } from '@huddle/db';
import { type Notification, type NotificationType, SCRUM_NOTIFICATION_CHANNEL } from '../schemas.ts';

export interface NotificationContent {
  type: NotificationType;
  title: string;
  message: string;
  relatedTaskId: number | null;
}

/**
 * Notifies each of `recipients` (duplicates once) and publishes one event per notification, inside the
 * caller's transaction and in one statement. A request may write a notification for someone else but never
 * read it back (row-level security), so `insert … returning` is not available to it: the statement draws
 * each recipient's id from the sequence in a CTE (materialized, as `nextval` is volatile), inserts those
 * rows and builds each event from the same ones.
 */
export async function notify(
  em: EntityManager,
  recipients: readonly number[],
  content: NotificationContent,
): Promise<void> {
  const userIds = [...new Set(recipients)];
  if (userIds.length === 0) return;
  const createdAt = new Date();
  // The event's notification; the statement adds each recipient's id and the notification's.
  const notification: Omit<Notification, 'id' | 'userId'> = {
    ...content,
    isRead: false,
    createdAt: createdAt.toISOString(),
    readAt: null,
  };
  await em.execute(
    `with recipient as (
       select nextval(pg_get_serial_sequence('scrum.notifications', 'id'))::int as id, user_id
       from unnest(array[?]::int[]) as user_id),
     inserted as (
       insert into scrum.notifications (id, user_id, type, title, message, related_task_id, created_at)
       select id, user_id, ?, ?, ?, ?, ? from recipient)
     select pg_notify(?, jsonb_build_object('type', 'notification_created', 'userId', user_id,
       'notification', ?::jsonb || jsonb_build_object('id', id, 'userId', user_id))::text)
     from recipient`,
    [
      userIds,
      content.type,
      content.title,
      content.message,
      content.relatedTaskId,
      createdAt,
      SCRUM_NOTIFICATION_CHANNEL,
      JSON.stringify(notification),
    ],
  );
}
