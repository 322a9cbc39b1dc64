import { ForbiddenError, InvalidInputError, NotFoundError } from '@huddle/db';
import { useTestDatabase } from '@huddle/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { scrumModule } from '../src/module.ts';
import { scrumOperations } from '../src/operations.ts';
import {
  isNotificationEventFor,
  type NotificationEvent,
  notificationEventSchema,
  SCRUM_NOTIFICATION_CHANNEL,
  type Task,
  type TaskPage,
  taskSchema,
} from '../src/schemas.ts';
import { assignTask, changeTaskStatus, getTask, updateTask } from '../src/services/tasks.ts';
import { asActor, call, eventually, expectHuddleError, newUser, useSqlClient } from './helpers.ts';

const test = useTestDatabase([scrumModule]);
const postgres = useSqlClient(test);

type Person = Awaited<ReturnType<typeof newUser>>;
let pm: Person;
let otherPm: Person;
let dev: Person;
let otherDev: Person;
let tester: Person;

const newTask = {
  title: 'Build the login page',
  description: 'With GitHub sign-in',
  assignedRole: 'developer' as const,
  startDate: '2026-03-02T09:00:00Z',
  endDate: '2026-03-06T17:00:00Z',
};

function create(by: Person, extra: Record<string, unknown> = {}): Promise<Task> {
  return call(test.db, by.actor, scrumOperations.tasks.create, { ...newTask, ...extra });
}

async function notificationsOf(person: Person) {
  return (await call(test.db, person.actor, scrumOperations.notifications.unread, undefined)).items;
}

beforeAll(async () => {
  pm = await newUser(postgres.client, 'project_manager', 'pm');
  otherPm = await newUser(postgres.client, 'project_manager', 'pm2');
  dev = await newUser(postgres.client, 'developer', 'dev');
  otherDev = await newUser(postgres.client, 'developer', 'dev2');
  tester = await newUser(postgres.client, 'tester');
});

describe('creating and assigning', () => {
  it('a project manager creates a task, assigned to a person who is notified (task_assigned, with an event)', async () => {
    const events: NotificationEvent[] = [];
    const unlisten = await test.db.events.listen(SCRUM_NOTIFICATION_CHANNEL, (payload) => {
      events.push(notificationEventSchema.parse(payload));
    });
    try {
      const task = await create(pm, { assignedUserId: dev.id, epicId: 'EPIC-1', priority: 3 });
      expect(taskSchema.parse(task)).toEqual(task);
      expect(task).toMatchObject({
        status: 'todo',
        assignedUserId: dev.id,
        createdById: pm.id,
        completedAt: null,
        // Its end date (March 2026) has passed and it is not done: delayed when read.
        isDelayed: true,
        epicId: 'EPIC-1',
        startDate: '2026-03-02T09:00:00.000Z',
      });
      const [notification] = await notificationsOf(dev);
      expect(notification).toMatchObject({ type: 'task_assigned', relatedTaskId: task.id, userId: dev.id });
      await eventually(() => expect(events.map((event) => event.userId)).toEqual([dev.id]));
      expect(
        events.map((event) => [isNotificationEventFor(event, dev.id), isNotificationEventFor(event, pm.id)]),
      ).toEqual([[true, false]]);
      expect(events[0]?.notification).toEqual(notification);
    } finally {
      await unlisten();
    }
  });

  it('a developer cannot create a task (ForbiddenError, nothing written)', async () => {
    const before = await postgres.client.query('select count(*)::int as n from scrum.tasks');
    const error = await expectHuddleError(create(dev), ForbiddenError);
    expect(error.constraint.field).toBe('assignedRole');
    expect(error.message).toBe('assignedRole: only project managers and admins may create tasks');
    const after = await postgres.client.query('select count(*)::int as n from scrum.tasks');
    expect(after.rows[0]).toEqual(before.rows[0]);
  });

  it('refuses bad input by field: end before start, unknown role, a deactivated assignee', async () => {
    const error = await expectHuddleError(create(pm, { endDate: '2026-03-01T00:00:00Z' }), InvalidInputError);
    expect(error.constraint.field).toBe('endDate');
    expect(
      (await expectHuddleError(create(pm, { assignedRole: 'intern' }), InvalidInputError)).constraint.field,
    ).toBe('assignedRole');
    const gone = await newUser(postgres.client, 'developer', 'gone');
    await postgres.client.query('update scrum.users set is_active = false where id = $1', [gone.id]);
    expect(
      (await expectHuddleError(create(pm, { assignedUserId: gone.id }), NotFoundError)).constraint.field,
    ).toBe('assignedUserId');
  });

  it('reassigning notifies the new assignee only', async () => {
    const task = await create(pm);
    const assign = (userId: number | null, role = 'developer' as const) =>
      asActor(test.db, pm.actor, (em, actor) =>
        assignTask(em, actor, { taskId: task.id, assignedRole: role, assignedUserId: userId }),
      );
    const assigned = await assign(otherDev.id);
    expect(assigned.assignedUserId).toBe(otherDev.id);
    expect(Date.parse(assigned.updatedAt)).toBeGreaterThanOrEqual(Date.parse(task.updatedAt));
    await assign(otherDev.id);
    const forTask = (await notificationsOf(otherDev)).filter((n) => n.relatedTaskId === task.id);
    expect(forTask.map((n) => n.type)).toEqual(['task_assigned']);
    expect((await assign(null)).assignedUserId).toBeNull();
  });
});

describe('updating', () => {
  it('a manager changes fields; the date order is checked against the stored dates', async () => {
    const task = await create(pm);
    const updated = await asActor(test.db, otherPm.actor, (em, actor) =>
      updateTask(em, actor, { taskId: task.id, title: 'Renamed', priority: 7, epicId: null }),
    );
    expect(updated).toMatchObject({
      title: 'Renamed',
      priority: 7,
      epicId: null,
      description: task.description,
    });
    const error = await expectHuddleError(
      call(test.db, pm.actor, scrumOperations.tasks.update, {
        taskId: task.id,
        endDate: '2026-03-01T00:00:00Z',
      }),
      InvalidInputError,
    );
    expect(error.constraint.field).toBe('endDate');
    await expectHuddleError(
      asActor(test.db, dev.actor, (em, actor) =>
        updateTask(em, actor, { taskId: task.id, title: 'Mine now' }),
      ),
      ForbiddenError,
    );
  });
});

describe('changing status', () => {
  it('done sets completed_at, clears the delay flag and notifies the creator; reopening clears completed_at', async () => {
    const task = await create(otherPm, { assignedUserId: dev.id });
    await postgres.client.query('update scrum.tasks set is_delayed = true where id = $1', [task.id]);
    const move = (status: 'todo' | 'in_progress' | 'done', by = dev) =>
      asActor(test.db, by.actor, (em, actor) => changeTaskStatus(em, actor, { taskId: task.id, status }));

    expect(await move('in_progress')).toMatchObject({
      status: 'in_progress',
      completedAt: null,
      isDelayed: true,
    });
    const done = await move('done');
    expect(taskSchema.parse(done)).toEqual(done);
    // The whole task as stored (the update's own rendering of it, compared with the entity-mapped read).
    expect(done).toEqual(
      await asActor(test.db, dev.actor, (em, actor) => getTask(em, actor, { taskId: task.id })),
    );
    expect(done).toMatchObject({ status: 'done', isDelayed: false, assignedUserId: dev.id });
    expect(done.completedAt).not.toBeNull();
    const again = await move('done');
    expect(again.completedAt).toBe(done.completedAt);
    const completions = (await notificationsOf(otherPm)).filter(
      (n) => n.relatedTaskId === task.id && n.type === 'task_completed',
    );
    expect(completions).toHaveLength(1);
    expect(await move('todo')).toMatchObject({ status: 'todo', completedAt: null });
  });

  it('a move to done racing another reads the status under the row lock: completed once, notified once', async () => {
    const task = await create(otherPm, { assignedUserId: dev.id });
    // Another transaction completes the task and holds its row until the service call is waiting for it.
    await postgres.client.query('begin');
    await postgres.client.query(
      `update scrum.tasks set status = 'done', completed_at = now() where id = $1`,
      [task.id],
    );
    const racing = asActor(test.db, dev.actor, (em, actor) =>
      changeTaskStatus(em, actor, { taskId: task.id, status: 'done' }),
    );
    const waiting = () =>
      test.db.orm.em
        .fork()
        .execute<{ n: number }[]>(
          `select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`,
        );
    while ((await waiting())[0]!.n === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    await postgres.client.query('commit');
    expect((await racing).status).toBe('done');
    const completions = await postgres.client.query(
      `select count(*)::int as n from scrum.notifications where related_task_id = $1 and type = 'task_completed'`,
      [task.id],
    );
    expect(completions.rows[0]).toEqual({ n: 0 });
  });

  it('a task without a creator notifies the project managers (not the actor)', async () => {
    const result = await postgres.client.query<{ id: number }>(
      `insert into scrum.tasks (title, description, assigned_role, start_date, end_date)
       values ('Orphan', 'D', 'developer', '2026-01-01Z', '2026-01-02Z') returning id`,
    );
    const taskId = result.rows[0]!.id;
    await asActor(test.db, pm.actor, (em, actor) => changeTaskStatus(em, actor, { taskId, status: 'done' }));
    const recipients = await postgres.client.query(
      `select user_id from scrum.notifications where related_task_id = $1 and type = 'task_completed' order by user_id`,
      [taskId],
    );
    expect(recipients.rows).toEqual([{ user_id: otherPm.id }]);
  });

  it('someone of another role gets NotFound; a colleague of the role cannot move an assigned task', async () => {
    const task = await create(pm, { assignedUserId: dev.id });
    const move = (by: Person) =>
      asActor(test.db, by.actor, (em, actor) =>
        changeTaskStatus(em, actor, { taskId: task.id, status: 'done' }),
      );
    expect((await expectHuddleError(move(tester), NotFoundError)).constraint.field).toBe('taskId');
    expect((await expectHuddleError(move(otherDev), ForbiddenError)).constraint.field).toBe('taskId');
    const stored = await postgres.client.query('select status from scrum.tasks where id = $1', [task.id]);
    expect(stored.rows[0]).toEqual({ status: 'todo' });
  });
});

describe('lists', () => {
  it('mine by status, by priority then start date; by role; by epic; delayed; one task', async () => {
    const lister = await newUser(postgres.client, 'designer', 'lister');
    const mk = (priority: number, startDate: string, extra: Record<string, unknown> = {}) =>
      create(pm, {
        assignedRole: 'designer',
        assignedUserId: lister.id,
        priority,
        startDate,
        // Not delayed (the end date is ahead): only the two moved below are in the delayed list.
        endDate: '2099-12-01T00:00:00Z',
        ...extra,
      });
    const low = await mk(1, '2026-03-01T00:00:00Z', { epicId: 'DESIGN' });
    const highLate = await mk(5, '2026-03-05T00:00:00Z', { epicId: 'DESIGN' });
    const highEarly = await mk(5, '2026-03-02T00:00:00Z');
    const finished = await mk(2, '2026-03-03T00:00:00Z', { storyId: 'STORY-9' });
    const asLister = <T>(work: Parameters<typeof asActor<T>>[2]) => asActor(test.db, lister.actor, work);
    await asLister((em, actor) => changeTaskStatus(em, actor, { taskId: finished.id, status: 'done' }));
    const ids = (page: TaskPage) => page.items.map((task) => task.id);

    // Whole tasks, as the entity-mapped services return them: the database renders this hot read itself.
    expect(await call(test.db, lister.actor, scrumOperations.tasks.mine, { status: 'todo' })).toEqual({
      items: [highEarly, highLate, low],
      nextCursor: null,
    });
    const firstTwo = await call(test.db, lister.actor, scrumOperations.tasks.mine, {
      status: 'todo',
      limit: 2,
    });
    expect(firstTwo).toEqual({ items: [highEarly, highLate], nextCursor: expect.any(String) });
    expect(
      await call(test.db, lister.actor, scrumOperations.tasks.mine, {
        status: 'todo',
        limit: 2,
        cursor: firstTwo.nextCursor!,
      }),
    ).toEqual({ items: [low], nextCursor: null });
    const { items: done } = await call(test.db, lister.actor, scrumOperations.tasks.mine, {
      status: 'done',
    });
    expect(done).toEqual([await asLister((em, actor) => getTask(em, actor, { taskId: finished.id }))]);
    expect(done[0]).toMatchObject({ storyId: 'STORY-9', completedAt: expect.any(String) });
    expect(await call(test.db, lister.actor, scrumOperations.tasks.mine, { status: 'in_progress' })).toEqual({
      items: [],
      nextCursor: null,
    });
    expect(
      ids(await call(test.db, lister.actor, scrumOperations.tasks.byRole, { role: 'designer' })),
    ).toEqual([highEarly.id, highLate.id, finished.id, low.id]);
    // Another role's list is empty for a designer: row-level security, not a filter in the service.
    expect(
      ids(await call(test.db, lister.actor, scrumOperations.tasks.byRole, { role: 'developer' })),
    ).toEqual([]);
    expect(
      ids(await call(test.db, lister.actor, scrumOperations.tasks.byEpic, { epicId: 'DESIGN' })),
    ).toEqual([highLate.id, low.id]);
    await postgres.client.query(
      'update scrum.tasks set is_delayed = true, end_date = $2 where id = any($1)',
      [[low.id, highLate.id], '2026-03-10T00:00:00Z'],
    );
    await postgres.client.query(`update scrum.tasks set end_date = '2026-03-09Z' where id = $1`, [
      highLate.id,
    ]);
    expect(ids(await call(test.db, lister.actor, scrumOperations.tasks.delayed, undefined))).toEqual([
      highLate.id,
      low.id,
    ]);
    expect((await asLister((em, actor) => getTask(em, actor, { taskId: low.id }))).id).toBe(low.id);
    await expectHuddleError(
      asActor(test.db, tester.actor, (em, actor) => getTask(em, actor, { taskId: low.id })),
      NotFoundError,
    );
  });
});

/** Every page of a list, from the first, following `nextCursor` to the end. */
async function allPages<Page extends { items: { id: number }[]; nextCursor: string | null }>(
  list: (cursor: string | undefined) => Promise<Page>,
): Promise<number[][]> {
  const pages: number[][] = [];
  let cursor: string | undefined;
  do {
    const page = await list(cursor);
    pages.push(page.items.map((item) => item.id));
    cursor = page.nextCursor ?? undefined;
    // A cursor that repeats a page would loop forever: a dozen pages is more than any list here has.
  } while (cursor !== undefined && pages.length < 12);
  return pages;
}

describe('paging', () => {
  it('every task list walks its rows once each, in order, by cursor: ties by id, start dates a microsecond apart', async () => {
    const pager = await newUser(postgres.client, 'tester', 'pager');
    // Four tasks of one priority whose start dates differ below a millisecond (two equal), one of higher
    // priority: rows a millisecond-precision cursor would skip or repeat.
    const inserted = await postgres.client.query<{ id: number }>(
      `insert into scrum.tasks (title, description, assigned_role, assigned_user_id, start_date, end_date, priority,
         epic_id, is_delayed, created_by_id)
       select 'Paged', 'D', 'tester', $1, start_date::timestamptz, end_date::timestamptz, priority, 'PAGES', true, $2
       from (values ('2026-04-01 00:00:00.000300Z', '2026-04-02 00:00:00.000300Z', 0),
                    ('2026-04-01 00:00:00.000100Z', '2026-04-02 00:00:00.000100Z', 0),
                    ('2026-04-01 00:00:00.000200Z', '2026-04-02 00:00:00.000200Z', 0),
                    ('2026-04-01 00:00:00.000200Z', '2026-04-02 00:00:00.000200Z', 0),
                    ('2026-05-01 00:00:00Z', '2026-05-02 00:00:00Z', 9))
         as t(start_date, end_date, priority)
       returning id`,
      [pager.id, pm.id],
    );
    const [late, first, tieA, tieB, urgent] = inserted.rows.map((row) => row.id);
    const byPriority = [[urgent], [first], [tieA], [tieB], [late], []];
    expect(
      await allPages((cursor) =>
        call(test.db, pager.actor, scrumOperations.tasks.mine, { status: 'todo', limit: 1, cursor }),
      ),
    ).toEqual(byPriority.slice(0, 5));
    expect(
      await allPages((cursor) =>
        call(test.db, pager.actor, scrumOperations.tasks.byEpic, { epicId: 'PAGES', limit: 2, cursor }),
      ),
    ).toEqual([[urgent, first], [tieA, tieB], [late]]);
    const byRole = await allPages((cursor) =>
      call(test.db, pager.actor, scrumOperations.tasks.byRole, { role: 'tester', limit: 1, cursor }),
    );
    expect(byRole.flat()).toEqual([urgent, first, tieA, tieB, late]);
    const delayed = await allPages((cursor) =>
      call(test.db, pm.actor, scrumOperations.tasks.delayed, { limit: 1, cursor }),
    );
    expect(delayed.flat().filter((id) => inserted.rows.some((row) => row.id === id))).toEqual([
      first,
      tieA,
      tieB,
      late,
      urgent,
    ]);
  });

  it('a page holds at most 200 items, and a cursor must be one a list returned', async () => {
    const list = (input: Record<string, unknown>) =>
      call(test.db, pm.actor, scrumOperations.tasks.byRole, { role: 'tester', ...input });
    expect((await expectHuddleError(list({ limit: 201 }), InvalidInputError)).constraint.field).toBe('limit');
    for (const cursor of ['not-a-cursor', Buffer.from('["x", 1]').toString('base64url'), 'W10']) {
      const error = await expectHuddleError(list({ cursor }), InvalidInputError);
      expect(error.message).toBe('cursor: must be a nextCursor this list returned');
    }
  });
});

describe('all my tasks', () => {
  it('mine without a status: every status, in the lists’ order, a page at a time', async () => {
    const owner = await newUser(postgres.client, 'tester', 'owner');
    const mk = (priority: number) =>
      create(pm, { assignedRole: 'tester', assignedUserId: owner.id, priority });
    const [todo, started, finished] = [await mk(1), await mk(3), await mk(2)];
    const move = (taskId: number, status: 'in_progress' | 'done') =>
      call(test.db, owner.actor, scrumOperations.tasks.changeStatus, { taskId, status });
    await move(started.id, 'in_progress');
    await move(finished.id, 'done');
    const all = await call(test.db, owner.actor, scrumOperations.tasks.mine, {});
    expect(all.items.map((task) => [task.id, task.status])).toEqual([
      [started.id, 'in_progress'],
      [finished.id, 'done'],
      [todo.id, 'todo'],
    ]);
    expect(all.nextCursor).toBeNull();
    expect(await call(test.db, owner.actor, scrumOperations.tasks.mine, undefined)).toEqual(all);
    expect(
      await allPages((cursor) =>
        call(test.db, owner.actor, scrumOperations.tasks.mine, { limit: 2, cursor }),
      ),
    ).toEqual([[started.id, finished.id], [todo.id]]);
  });
});

describe('delayed when read', () => {
  it('a task past its end date and not done is delayed in every answer before the job runs; done or moved ahead, it is not', async () => {
    const late = await create(pm, {
      title: 'Late',
      startDate: '2026-01-05T09:00:00Z',
      endDate: '2026-01-06T09:00:00Z',
    });
    const ahead = await create(pm, {
      title: 'Ahead',
      startDate: '2026-01-05T09:00:00Z',
      endDate: '2099-01-06T09:00:00Z',
    });
    const delayedIds = async () =>
      (await allPages((cursor) => call(test.db, pm.actor, scrumOperations.tasks.delayed, { cursor }))).flat();
    const get = (taskId: number) => call(test.db, pm.actor, scrumOperations.tasks.get, { taskId });

    expect([late.isDelayed, ahead.isDelayed]).toEqual([true, false]);
    expect((await get(late.id)).isDelayed).toBe(true);
    expect(await delayedIds()).toContain(late.id);
    expect(await delayedIds()).not.toContain(ahead.id);
    // The stored flag is still the job's: nothing has flagged or notified this delay yet.
    const stored = await postgres.client.query('select is_delayed from scrum.tasks where id = $1', [late.id]);
    expect(stored.rows[0]).toEqual({ is_delayed: false });

    const movedAhead = await call(test.db, pm.actor, scrumOperations.tasks.update, {
      taskId: late.id,
      endDate: '2099-02-01T00:00:00Z',
    });
    expect(movedAhead.isDelayed).toBe(false);
    expect(await delayedIds()).not.toContain(late.id);
    const movedBack = await call(test.db, pm.actor, scrumOperations.tasks.update, {
      taskId: late.id,
      endDate: '2026-01-07T00:00:00Z',
    });
    expect(movedBack.isDelayed).toBe(true);
    const done = await call(test.db, pm.actor, scrumOperations.tasks.changeStatus, {
      taskId: late.id,
      status: 'done',
    });
    expect(done.isDelayed).toBe(false);
    expect(await delayedIds()).not.toContain(late.id);
  });
});

describe('history', () => {
  it('records status, assignee and date changes by whom and when, old → new, from every writer; newest first, paged', async () => {
    const task = await create(pm, { assignedUserId: dev.id });
    const history = (input: { limit?: number; cursor?: string } = {}, by = pm) =>
      call(test.db, by.actor, scrumOperations.tasks.history, { taskId: task.id, ...input });
    expect(await history()).toEqual({ items: [], nextCursor: null });

    await call(test.db, dev.actor, scrumOperations.tasks.changeStatus, {
      taskId: task.id,
      status: 'in_progress',
    });
    await call(test.db, pm.actor, scrumOperations.tasks.assign, {
      taskId: task.id,
      assignedRole: 'tester',
      assignedUserId: tester.id,
    });
    // Two tracked fields and an untracked one in one update: a row per tracked field.
    await call(test.db, otherPm.actor, scrumOperations.tasks.update, {
      taskId: task.id,
      title: 'Renamed, not tracked',
      startDate: '2026-03-03T09:00:00Z',
      endDate: '2026-03-09T17:00:00Z',
    });
    // An operator's plain SQL is recorded too, by nobody.
    await postgres.client.query(
      `update scrum.tasks set status = 'done', completed_at = now() where id = $1`,
      [task.id],
    );

    const { items, nextCursor } = await history();
    expect(nextCursor).toBeNull();
    expect(
      items.map(({ field, oldValue, newValue, actorId }) => ({ field, oldValue, newValue, actorId })),
    ).toEqual([
      { field: 'status', oldValue: 'in_progress', newValue: 'done', actorId: null },
      {
        field: 'endDate',
        oldValue: '2026-03-06T17:00:00.000Z',
        newValue: '2026-03-09T17:00:00.000Z',
        actorId: otherPm.id,
      },
      {
        field: 'startDate',
        oldValue: '2026-03-02T09:00:00.000Z',
        newValue: '2026-03-03T09:00:00.000Z',
        actorId: otherPm.id,
      },
      { field: 'assignedUserId', oldValue: dev.id, newValue: tester.id, actorId: pm.id },
      { field: 'assignedRole', oldValue: 'developer', newValue: 'tester', actorId: pm.id },
      { field: 'status', oldValue: 'todo', newValue: 'in_progress', actorId: dev.id },
    ]);
    expect(new Set(items.map((item) => item.taskId))).toEqual(new Set([task.id]));
    for (const item of items)
      expect(Date.parse(item.changedAt)).toBeGreaterThanOrEqual(Date.parse(task.createdAt));
    // What the database holds: one row per change, the column names as fields.
    const stored = await postgres.client.query(
      'select field, actor_id from scrum.task_activity where task_id = $1 order by id',
      [task.id],
    );
    expect(stored.rows.map((row) => row.field)).toEqual([
      'status',
      'assigned_role',
      'assigned_user_id',
      'start_date',
      'end_date',
      'status',
    ]);
    expect(await allPages((cursor) => history({ limit: 4, cursor }))).toEqual([
      items.slice(0, 4).map((item) => item.id),
      items.slice(4).map((item) => item.id),
    ]);
    // The new assignee sees it; someone who cannot see the task gets NotFound, as for the task itself.
    expect((await history({}, tester)).items).toEqual(items);
    const hidden = await expectHuddleError(history({}, otherDev), NotFoundError);
    expect(hidden.message).toBe(`taskId: task ${task.id} does not exist`);
  });
});
