import { ConflictError, ForbiddenError, InvalidInputError } from '@huddle/db';
import { useTestDatabase } from '@huddle/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { scrumModule } from '../src/module.ts';
import { scrumOperations } from '../src/operations.ts';
import {
  type NotificationEvent,
  notificationEventSchema,
  promotedTriageItemSchema,
  SCRUM_NOTIFICATION_CHANNEL,
  type TriageItem,
  triageItemSchema,
} from '../src/schemas.ts';
import { getTask } from '../src/services/tasks.ts';
import { assignTriageItem, getTriageItem } from '../src/services/triage.ts';
import { asActor, call, eventually, expectHuddleError, newUser, useSqlClient } from './helpers.ts';

const test = useTestDatabase([scrumModule]);
const postgres = useSqlClient(test);

type Person = Awaited<ReturnType<typeof newUser>>;
let reporter: Person;
let colleague: Person;
let pm: Person;
let admin: Person;
let fixer: Person;

beforeAll(async () => {
  reporter = await newUser(postgres.client, 'tester', 'reporter');
  colleague = await newUser(postgres.client, 'tester', 'colleague');
  pm = await newUser(postgres.client, 'project_manager', 'pm');
  admin = await newUser(postgres.client, 'admin');
  fixer = await newUser(postgres.client, 'developer', 'fixer');
});

const report = (title = 'Login button does nothing') =>
  call(test.db, reporter.actor, scrumOperations.triage.report, {
    title,
    description: 'Clicking it on Safari',
    priority: 'high',
  });
const move = (
  by: Person,
  itemId: number,
  status: 'in_review' | 'resolved' | 'rejected',
  resolution?: string,
) => call(test.db, by.actor, scrumOperations.triage.changeStatus, { itemId, status, resolution });

describe('triage', () => {
  it('a report notifies the project managers and admins (issue_reported), and is the reporter’s to see', async () => {
    const events: NotificationEvent[] = [];
    const unlisten = await test.db.events.listen(SCRUM_NOTIFICATION_CHANNEL, (payload) => {
      events.push(notificationEventSchema.parse(payload));
    });
    try {
      const item = await report();
      expect(triageItemSchema.parse(item)).toEqual(item);
      expect(item).toMatchObject({
        status: 'pending',
        priority: 'high',
        category: 'issue',
        reporterId: reporter.id,
      });
      await eventually(() => expect(events).toHaveLength(2));
      for (const manager of [pm, admin]) {
        const { items: notifications } = await call(
          test.db,
          manager.actor,
          scrumOperations.notifications.unread,
          undefined,
        );
        expect(notifications.map((notification) => notification.type)).toEqual(['issue_reported']);
        // One event per recipient, addressed to them, carrying the notification they read.
        expect(events.filter((event) => event.userId === manager.id)).toEqual([
          { type: 'notification_created', userId: manager.id, notification: notifications[0] },
        ]);
      }
      const colleagueSees = await call(test.db, colleague.actor, scrumOperations.triage.list, undefined);
      expect(colleagueSees).toEqual({ items: [], nextCursor: null });
      const reporterSees = await call(test.db, reporter.actor, scrumOperations.triage.list, undefined);
      expect(reporterSees).toEqual({ items: [item], nextCursor: null });
    } finally {
      await unlisten();
    }
  });

  it('assign, then pending → in_review → resolved with a resolution (resolved_at set)', async () => {
    const item = await report('Typo on the pricing page');
    const assigned = await asActor(test.db, pm.actor, (em, actor) =>
      assignTriageItem(em, actor, { itemId: item.id, assigneeId: fixer.id }),
    );
    expect(assigned.assignedTo).toBe(fixer.id);
    // The assignee now sees and works the item.
    expect(
      (await asActor(test.db, fixer.actor, (em, actor) => getTriageItem(em, actor, { itemId: item.id }))).id,
    ).toBe(item.id);
    await expectHuddleError(move(fixer, item.id, 'resolved', 'Fixed'), ConflictError);
    expect((await move(fixer, item.id, 'in_review')).status).toBe('in_review');
    const resolution = await expectHuddleError(move(fixer, item.id, 'resolved'), InvalidInputError);
    expect(resolution.constraint.field).toBe('resolution');
    const resolved = await move(fixer, item.id, 'resolved', 'Fixed the copy');
    expect(resolved).toMatchObject({ status: 'resolved', resolution: 'Fixed the copy' });
    expect(resolved.resolvedAt).not.toBeNull();
    const closed = await expectHuddleError(move(pm, item.id, 'in_review'), ConflictError);
    expect(closed.constraint.field).toBe('status');
  });

  it('the reporter cannot move or assign their own item; a manager rejects it', async () => {
    const item = await report('Please make it pink');
    await expectHuddleError(move(reporter, item.id, 'in_review'), ForbiddenError);
    await expectHuddleError(
      asActor(test.db, reporter.actor, (em, actor) =>
        assignTriageItem(em, actor, { itemId: item.id, assigneeId: fixer.id }),
      ),
      ForbiddenError,
    );
    await move(pm, item.id, 'in_review');
    expect(await move(pm, item.id, 'rejected', 'Out of scope')).toMatchObject({ status: 'rejected' });
  });

  it('promotes an item to a task: the task takes its text, the item is resolved and points at it', async () => {
    const item: TriageItem = await report('Export fails for large projects');
    const promoted = await call(test.db, pm.actor, scrumOperations.triage.promote, {
      itemId: item.id,
      assignedRole: 'developer',
      assignedUserId: fixer.id,
      startDate: '2026-04-01T09:00:00Z',
      endDate: '2026-04-03T17:00:00Z',
      epicId: 'EXPORT',
    });
    expect(promotedTriageItemSchema.parse(promoted)).toEqual(promoted);
    expect(promoted.task).toMatchObject({
      title: item.title,
      description: item.description,
      assignedUserId: fixer.id,
      createdById: pm.id,
      epicId: 'EXPORT',
    });
    expect(promoted.item).toMatchObject({
      status: 'resolved',
      taskId: promoted.task.id,
      resolution: `Promoted to task #${promoted.task.id}`,
    });
    const { items: fixerNotes } = await call(
      test.db,
      fixer.actor,
      scrumOperations.notifications.unread,
      undefined,
    );
    expect(fixerNotes.map((note) => [note.type, note.relatedTaskId])).toEqual([
      ['task_assigned', promoted.task.id],
    ]);
    expect(
      (await asActor(test.db, fixer.actor, (em, actor) => getTask(em, actor, { taskId: promoted.task.id })))
        .id,
    ).toBe(promoted.task.id);
    const twice = await expectHuddleError(
      call(test.db, pm.actor, scrumOperations.triage.promote, {
        itemId: item.id,
        assignedRole: 'developer',
        startDate: '2026-04-01T09:00:00Z',
        endDate: '2026-04-03T17:00:00Z',
      }),
      ConflictError,
    );
    expect(twice.constraint.field).toBe('itemId');
  });
});

describe('the triage list', () => {
  it('pages newest first by cursor, each visible item once, even when created in the same microsecond', async () => {
    const paged = await newUser(postgres.client, 'designer', 'paged');
    const inserted = await postgres.client.query<{ id: number }>(
      `insert into scrum.triage_items (reporter_id, title, description, created_at)
       values ($1, 'A', 'D', '2026-06-01 00:00:00.000100Z'), ($1, 'B', 'D', '2026-06-01 00:00:00.000200Z'),
              ($1, 'C', 'D', '2026-06-01 00:00:00.000200Z'), ($1, 'D', 'D', '2026-06-01 00:00:00.000300Z')
       returning id`,
      [paged.id],
    );
    const [a, b, c, d] = inserted.rows.map((row) => row.id);
    const pages: number[][] = [];
    let cursor: string | undefined;
    do {
      const page = await call(test.db, paged.actor, scrumOperations.triage.list, { limit: 1, cursor });
      pages.push(page.items.map((item) => item.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined && pages.length < 10);
    expect(pages).toEqual([[d], [c], [b], [a]]);
  });
});
