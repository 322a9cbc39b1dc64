import { type EntityManager, type ModuleJob, publish } from '@huddle/db';
import { ScrumNotification } from './entities/notification.ts';
import { SCRUM_NOTIFICATION_CHANNEL } from './schemas.ts';
import { toNotification } from './services/outputs.ts';

/** Read notifications older than this many days are deleted (the seed's maintenance rule). */
export const READ_NOTIFICATION_RETENTION_DAYS = 30;

/**
 * A task is delayed when its end date has passed and it is not done (answers decide that when they are read;
 * the stored flag is this job's record of which delays it has notified). One statement clears the flag where
 * that stopped being true (done, or the end date moved into the future); a second flags the newly delayed
 * tasks and, in the same statement, notifies each one's assignee — or, unassigned, the active project
 * managers — with `task_delayed`. A task already flagged is not flagged again, so it is notified once
 * per delay, however often the job runs.
 */
async function detectDelays(em: EntityManager, { now }: { now: Date }) {
  const cleared = await em.execute<{ affectedRows: number }>(
    `update scrum.tasks set is_delayed = false where is_delayed and (status = 'done' or end_date > ?)`,
    [now],
    'run',
  );
  // Always one row (the left join), so the flagged count arrives even when nobody could be notified.
  const rows = await em.execute<({ flagged: number; id: number | null } & Record<string, unknown>)[]>(
    `with delayed as (
       update scrum.tasks set is_delayed = true
       where not is_delayed and status <> 'done' and end_date <= ?
       returning id, title, assigned_user_id
     ), recipients as (
       select d.id as task_id, d.title, d.assigned_user_id as user_id from delayed d
       where d.assigned_user_id is not null
       union all
       select d.id, d.title, u.id from delayed d
       join scrum.users u on u.role = 'project_manager' and u.is_active
       where d.assigned_user_id is null
     ), inserted as (
       insert into scrum.notifications (user_id, type, title, message, related_task_id)
       select user_id, 'task_delayed', left('Task delayed: ' || title, 200),
              'Task #' || task_id || ', "' || title || '", is past its end date.', task_id
       from recipients
       returning *
     )
     select (select count(*)::int from delayed) as flagged, inserted.*
     from (select 1) as one left join inserted on true order by inserted.id`,
    [now],
  );
  const flagged = rows[0]?.flagged ?? 0;
  const notified = rows.filter((row) => row.id !== null).map(({ flagged: _, ...row }) => row);
  for (const row of notified) {
    const notification = toNotification(em.map(ScrumNotification, row));
    await publish(em, SCRUM_NOTIFICATION_CHANNEL, {
      type: 'notification_created',
      userId: notification.userId,
      notification,
    });
  }
  return {
    rows: cleared.affectedRows + flagged + notified.length,
    summary: `${flagged} tasks marked delayed, ${notified.length} notifications, ${cleared.affectedRows} tasks no longer delayed`,
  };
}

async function cleanupNotifications(em: EntityManager, { now }: { now: Date }) {
  const deleted = await em.execute<{ affectedRows: number }>(
    `delete from scrum.notifications where is_read and created_at < ?::timestamptz - make_interval(days => ?)`,
    [now, READ_NOTIFICATION_RETENTION_DAYS],
    'run',
  );
  return {
    rows: deleted.affectedRows,
    summary: `${deleted.affectedRows} read notifications older than ${READ_NOTIFICATION_RETENTION_DAYS} days deleted`,
  };
}

/** Scrum's scheduled maintenance (`huddle jobs run scrum.<name>`), each idempotent. */
export const scrumJobs: ModuleJob[] = [
  {
    name: 'detect-delays',
    description: 'Flag tasks past their end date and not done, notify once per delay, clear resolved delays',
    schedule: '*/15 * * * *',
    run: detectDelays,
  },
  {
    name: 'cleanup-notifications',
    description: `Delete read notifications older than ${READ_NOTIFICATION_RETENTION_DAYS} days`,
    schedule: '30 3 * * *',
    run: cleanupNotifications,
  },
];
