import { type EntityManager, publish, reserveIds } from '@huddle/db';
import {
  type ChatEvent,
  type NotificationType,
  SCRUM_CHAT_CHANNEL,
  SCRUM_NOTIFICATION_CHANNEL,
} from '../schemas.ts';

export interface NotificationContent {
  type: NotificationType;
  title: string;
  message: string;
  relatedTaskId: number | null;
}

/**
 * Notifies each of `recipients` (duplicates once) and publishes one event per notification, inside the
 * caller's transaction. The ids are drawn first because a request may write a notification for someone
 * else but never read it back (row-level security), so `insert … returning` is not available to it.
 */
export async function notify(
  em: EntityManager,
  recipients: readonly number[],
  content: NotificationContent,
): Promise<void> {
  const userIds = [...new Set(recipients)];
  if (userIds.length === 0) return;
  const ids = await reserveIds(em, 'scrum.notifications', userIds.length);
  const createdAt = new Date();
  await em.execute(
    `insert into scrum.notifications (id, user_id, type, title, message, related_task_id, created_at)
     select r.id, r.user_id, ?, ?, ?, ?, ? from unnest(array[?]::int[], array[?]::int[]) as r(id, user_id)`,
    [content.type, content.title, content.message, content.relatedTaskId, createdAt, ids, userIds],
    'run',
  );
  for (const [index, userId] of userIds.entries()) {
    await publish(em, SCRUM_NOTIFICATION_CHANNEL, {
      type: 'notification_created',
      userId,
      notification: {
        id: ids[index]!,
        userId,
        ...content,
        isRead: false,
        createdAt: createdAt.toISOString(),
        readAt: null,
      },
    });
  }
}

export function publishChatEvent(em: EntityManager, event: ChatEvent): Promise<void> {
  return publish(em, SCRUM_CHAT_CHANNEL, event);
}
