import { runJob } from '@huddle/db';
import { useTestDatabase } from '@huddle/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { scrumModule } from '../src/module.ts';
import {
  type NotificationEvent,
  notificationEventSchema,
  SCRUM_NOTIFICATION_CHANNEL,
} from '../src/schemas.ts';
import { eventually, newUser, useSqlClient } from './helpers.ts';

const test = useTestDatabase([scrumModule]);
const postgres = useSqlClient(test);

type Person = Awaited<ReturnType<typeof newUser>>;
let dev: Person;
let pm: Person;
let otherPm: Person;
const NOW = new Date('2026-06-15T12:00:00Z');
const tasks = { overdueAssigned: 0, overdueUnassigned: 0, overdueDone: 0, onTime: 0 };

async function task(endDate: string, assignee: number | null, status = 'todo'): Promise<number> {
  const result = await postgres.client.query<{ id: number }>(
    `insert into scrum.tasks (title, description, assigned_role, assigned_user_id, start_date, end_date, status, completed_at)
     values ('Job task', 'D', 'developer', $1, '2026-06-01Z', $2, $3::text, case when $3::text = 'done' then now() end) returning id`,
    [assignee, endDate, status],
  );
  return result.rows[0]!.id;
}

async function delayedNotifications(): Promise<{ user_id: number; related_task_id: number }[]> {
  const result = await postgres.client.query(
    `select user_id, related_task_id from scrum.notifications where type = 'task_delayed' order by related_task_id, user_id`,
  );
  return result.rows;
}

async function delayedFlags(): Promise<Record<number, boolean>> {
  const result = await postgres.client.query<{ id: number; is_delayed: boolean }>(
    'select id, is_delayed from scrum.tasks where id = any($1)',
    [Object.values(tasks)],
  );
  return Object.fromEntries(result.rows.map((row) => [row.id, row.is_delayed]));
}

beforeAll(async () => {
  dev = await newUser(postgres.client, 'developer', 'dev');
  pm = await newUser(postgres.client, 'project_manager', 'pm');
  otherPm = await newUser(postgres.client, 'project_manager', 'pm2');
  const retiredPm = await newUser(postgres.client, 'project_manager', 'retired');
  await postgres.client.query('update scrum.users set is_active = false where id = $1', [retiredPm.id]);
  tasks.overdueAssigned = await task('2026-06-10Z', dev.id);
  tasks.overdueUnassigned = await task('2026-06-14Z', null);
  tasks.overdueDone = await task('2026-06-10Z', dev.id, 'done');
  tasks.onTime = await task('2026-06-20Z', dev.id);
});

describe('scrum.detect-delays', () => {
  it('flags overdue unfinished tasks and notifies the assignee, or the active project managers, once', async () => {
    const events: NotificationEvent[] = [];
    const unlisten = await test.db.events.listen(SCRUM_NOTIFICATION_CHANNEL, (payload) => {
      events.push(notificationEventSchema.parse(payload));
    });
    try {
      const first = await runJob(test.db, 'scrum.detect-delays', { now: NOW });
      expect(first).toMatchObject({
        status: 'ran',
        summary: '2 tasks marked delayed, 3 notifications, 0 tasks no longer delayed',
      });
      const expected = [
        { user_id: dev.id, related_task_id: tasks.overdueAssigned },
        { user_id: pm.id, related_task_id: tasks.overdueUnassigned },
        { user_id: otherPm.id, related_task_id: tasks.overdueUnassigned },
      ];
      expect(await delayedNotifications()).toEqual(expected);
      expect(await delayedFlags()).toEqual({
        [tasks.overdueAssigned]: true,
        [tasks.overdueUnassigned]: true,
        [tasks.overdueDone]: false,
        [tasks.onTime]: false,
      });
      await eventually(() =>
        expect(events.map((event) => event.userId).sort()).toEqual([dev.id, pm.id, otherPm.id].sort()),
      );

      const second = await runJob(test.db, 'scrum.detect-delays', { now: NOW });
      expect(second).toMatchObject({ status: 'ran', rows: 0 });
      expect(await delayedNotifications()).toEqual(expected);
    } finally {
      await unlisten();
    }
  });

  it('clears the flag when the task is done or its end date moves into the future', async () => {
    await postgres.client.query(
      `update scrum.tasks set status = 'done', completed_at = now() where id = $1`,
      [tasks.overdueAssigned],
    );
    await postgres.client.query(`update scrum.tasks set end_date = '2026-07-01Z' where id = $1`, [
      tasks.overdueUnassigned,
    ]);
    const run = await runJob(test.db, 'scrum.detect-delays', { now: NOW });
    expect(run).toMatchObject({
      summary: '0 tasks marked delayed, 0 notifications, 2 tasks no longer delayed',
    });
    expect(Object.values(await delayedFlags())).toEqual([false, false, false, false]);
    // Overdue again later: a new delay, notified again.
    await runJob(test.db, 'scrum.detect-delays', { now: new Date('2026-07-02T00:00:00Z') });
    expect(
      (await delayedNotifications()).filter((row) => row.related_task_id === tasks.overdueUnassigned),
    ).toHaveLength(4);
  });
});

describe('scrum.cleanup-notifications', () => {
  it('deletes read notifications older than 30 days, and nothing else', async () => {
    await postgres.client.query('delete from scrum.notifications');
    await postgres.client.query(
      `insert into scrum.notifications (user_id, type, title, message, is_read, created_at) values
         ($1, 'system', 'old read', 'M', true, $2::timestamptz - interval '31 days'),
         ($1, 'system', 'old unread', 'M', false, $2::timestamptz - interval '31 days'),
         ($1, 'system', 'recent read', 'M', true, $2::timestamptz - interval '29 days')`,
      [dev.id, NOW],
    );
    const run = await runJob(test.db, 'scrum.cleanup-notifications', { now: NOW });
    expect(run).toMatchObject({ status: 'ran', rows: 1 });
    const left = await postgres.client.query('select title from scrum.notifications order by title');
    expect(left.rows.map((row) => row.title)).toEqual(['old unread', 'recent read']);
    expect(await runJob(test.db, 'scrum.cleanup-notifications', { now: NOW })).toMatchObject({ rows: 0 });
  });
});
