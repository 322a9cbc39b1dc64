import { checkIn, createdAt, defineEntity, p, readOnlySelectAll, timestamptz } from '@huddle/db';
import { NOTIFICATION_TYPES, type NotificationType } from '../schemas.ts';
import { appUserId, requestPolicy } from './policies.ts';
import { ScrumTask } from './task.ts';
import { ScrumUser } from './user.ts';

const ownNotification = `user_id = ${appUserId}`;

/** scrum.notifications: what happened that a user should hear about; read, then cleaned up after 30 days. */
const ScrumNotificationSchema = defineEntity({
  name: 'ScrumNotification',
  tableName: 'notifications',
  properties: {
    id: p.integer().primary().autoincrement(),
    user: () =>
      p
        .manyToOne(ScrumUser)
        .ref()
        .updateRule('cascade')
        .deleteRule('restrict')
        .index('notifications_user_id_index'),
    type: p.string().length(50).$type<NotificationType>().index('idx_notifications_type'),
    title: p.string().length(200),
    message: p.text(),
    relatedTask: () =>
      p
        .manyToOne(ScrumTask)
        .ref()
        .nullable()
        .updateRule('cascade')
        .deleteRule('restrict')
        .index('idx_notifications_task'),
    isRead: p.boolean().default(false),
    createdAt: createdAt().index('idx_notifications_created'),
    readAt: timestamptz().nullable(),
  },
  indexes: [
    { name: 'idx_notifications_user_unread', properties: ['user', 'isRead'], where: 'is_read = false' },
  ],
  checks: [checkIn('valid_notification_type', 'type', NOTIFICATION_TYPES)],
  policies: [
    requestPolicy('notifications_select', 'select', { using: ownNotification }),
    // Notifications are what one user's action tells another (an assignment, a report): any request may
    // address one to anyone, and only its recipient ever reads it back.
    requestPolicy('notifications_insert', 'insert', { check: 'true' }),
    requestPolicy('notifications_update', 'update', { using: ownNotification, check: ownNotification }),
    readOnlySelectAll('notifications'),
  ],
});
export class ScrumNotification extends ScrumNotificationSchema.class {}
ScrumNotificationSchema.setClass(ScrumNotification);
