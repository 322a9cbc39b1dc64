import { ConflictError, ForbiddenError, NotFoundError, UnauthorizedError } from '@huddle/db';
import { useTestDatabase } from '@huddle/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { scrumModule } from '../src/module.ts';
import { currentUserSchema, notificationSchema, teamMemberSchema } from '../src/schemas.ts';
import {
  countUnreadNotifications,
  listUnreadNotifications,
  markAllNotificationsRead,
  markNotificationRead,
} from '../src/services/notifications.ts';
import {
  changeUserRole,
  deactivateUser,
  getCurrentUser,
  listDirectory,
  reactivateUser,
} from '../src/services/users.ts';
import { asActor, expectHuddleError, newUser, useSqlClient } from './helpers.ts';

const test = useTestDatabase([scrumModule]);
const postgres = useSqlClient(test);

type Person = Awaited<ReturnType<typeof newUser>>;
let admin: Person;
let dev: Person;
let tester: Person;

beforeAll(async () => {
  admin = await newUser(postgres.client, 'admin');
  dev = await newUser(postgres.client, 'developer', 'dev');
  tester = await newUser(postgres.client, 'tester');
});

describe('users', () => {
  it('the directory lists active teammates with id, username, avatar and role — never an email', async () => {
    const directory = await asActor(test.db, dev.actor, (em, actor) => listDirectory(em, actor));
    expect(directory.map((member) => member.id)).toEqual(
      expect.arrayContaining([admin.id, dev.id, tester.id]),
    );
    for (const member of directory) {
      expect(teamMemberSchema.strict().parse(member)).toEqual(member);
      expect(member).not.toHaveProperty('email');
    }
    const testers = await asActor(test.db, dev.actor, (em, actor) =>
      listDirectory(em, actor, { role: 'tester' }),
    );
    expect(testers.map((member) => member.id)).toEqual([tester.id]);
  });

  it('the current user sees their own email', async () => {
    const me = await asActor(test.db, dev.actor, (em, actor) => getCurrentUser(em, actor));
    expect(currentUserSchema.parse(me)).toEqual(me);
    expect(me.email).toMatch(/@example\.test$/);
  });

  it('an admin changes a role; it applies from the user’s next request', async () => {
    const member = await asActor(test.db, admin.actor, (em, actor) =>
      changeUserRole(em, actor, { userId: tester.id, role: 'project_manager' }),
    );
    expect(member).toMatchObject({ id: tester.id, role: 'project_manager' });
    const role = await asActor(test.db, tester.actor, async (_em, actor) => actor.role);
    expect(role).toBe('project_manager');
    await asActor(test.db, admin.actor, (em, actor) =>
      changeUserRole(em, actor, { userId: tester.id, role: 'tester' }),
    );
  });

  it('only admins manage users, and never themselves', async () => {
    const promote = (by: Person, userId: number) =>
      asActor(test.db, by.actor, (em, actor) => changeUserRole(em, actor, { userId, role: 'admin' }));
    expect((await expectHuddleError(promote(dev, dev.id), ForbiddenError)).constraint.field).toBe('userId');
    expect((await expectHuddleError(promote(admin, admin.id), ForbiddenError)).constraint.field).toBe(
      'userId',
    );
    expect((await expectHuddleError(promote(admin, 999_999), NotFoundError)).constraint.field).toBe('userId');
  });

  it('a deactivated user can no longer act and leaves the directory; an admin sees and reactivates them', async () => {
    const leaver = await newUser(postgres.client, 'designer', 'leaver');
    const asAdmin = <T>(work: Parameters<typeof asActor<T>>[2]) => asActor(test.db, admin.actor, work);
    expect(await asAdmin((em, actor) => deactivateUser(em, actor, { userId: leaver.id }))).toMatchObject({
      isActive: false,
    });
    await expectHuddleError(
      asAdmin((em, actor) => deactivateUser(em, actor, { userId: leaver.id })),
      ConflictError,
    );
    await expectHuddleError(
      asActor(test.db, leaver.actor, (em, actor) => getCurrentUser(em, actor)),
      UnauthorizedError,
    );
    const seenByDev = await asActor(test.db, dev.actor, (em, actor) => listDirectory(em, actor));
    expect(seenByDev.map((member) => member.id)).not.toContain(leaver.id);
    await expectHuddleError(
      asActor(test.db, dev.actor, (em, actor) => listDirectory(em, actor, { includeInactive: true })),
      ForbiddenError,
    );
    const seenByAdmin = await asAdmin((em, actor) => listDirectory(em, actor, { includeInactive: true }));
    expect(seenByAdmin.find((member) => member.id === leaver.id)).toMatchObject({ isActive: false });
    expect(await asAdmin((em, actor) => reactivateUser(em, actor, { userId: leaver.id }))).toMatchObject({
      isActive: true,
    });
    expect((await asActor(test.db, leaver.actor, (em, actor) => getCurrentUser(em, actor))).id).toBe(
      leaver.id,
    );
  });
});

describe('notifications', () => {
  let ids: number[] = [];

  beforeAll(async () => {
    const result = await postgres.client.query<{ id: number }>(
      `insert into scrum.notifications (user_id, type, title, message, created_at)
       select $1, 'system', 'N' || n, 'M', now() - n * interval '1 hour' from generate_series(1, 4) n returning id`,
      [dev.id],
    );
    ids = result.rows.map((row) => row.id);
    await postgres.client.query(
      `insert into scrum.notifications (user_id, type, title, message) values ($1, 'system', 'Not yours', 'M')`,
      [tester.id],
    );
  });

  const asDev = <T>(work: Parameters<typeof asActor<T>>[2]) => asActor(test.db, dev.actor, work);

  it('lists the unread ones newest first and counts them', async () => {
    const unread = await asDev((em, actor) => listUnreadNotifications(em, actor));
    expect(unread.map((notification) => notification.id)).toEqual(ids);
    expect(unread.map((notification) => notificationSchema.parse(notification))).toEqual(unread);
    expect(unread[0]).toEqual({
      id: ids[0],
      userId: dev.id,
      type: 'system',
      title: 'N1',
      message: 'M',
      relatedTaskId: null,
      isRead: false,
      createdAt: expect.any(String),
      readAt: null,
    });
    expect(await asDev((em, actor) => listUnreadNotifications(em, actor, { limit: 2 }))).toEqual(
      unread.slice(0, 2),
    );
    expect(await asDev((em, actor) => countUnreadNotifications(em, actor))).toEqual({ unread: 4 });
  });

  it('marks one read (read_at kept from the first time), then all; another user’s is NotFound', async () => {
    const [newest] = await asDev((em, actor) => listUnreadNotifications(em, actor));
    const first = await asDev((em, actor) => markNotificationRead(em, actor, { notificationId: ids[0]! }));
    expect(first).toEqual({ ...newest, id: ids[0], isRead: true, readAt: expect.any(String) });
    expect(notificationSchema.parse(first)).toEqual(first);
    const stillUnread = await asDev((em, actor) => listUnreadNotifications(em, actor));
    expect(stillUnread.map((notification) => notification.id)).toEqual(ids.slice(1));
    const again = await asDev((em, actor) => markNotificationRead(em, actor, { notificationId: ids[0]! }));
    expect(again.readAt).toBe(first.readAt);
    const theirs = await postgres.client.query<{ id: number }>(
      'select id from scrum.notifications where user_id = $1',
      [tester.id],
    );
    const error = await expectHuddleError(
      asDev((em, actor) => markNotificationRead(em, actor, { notificationId: theirs.rows[0]!.id })),
      NotFoundError,
    );
    expect(error.constraint.field).toBe('notificationId');
    expect(await asDev((em, actor) => markAllNotificationsRead(em, actor))).toEqual({ marked: 3 });
    expect(await asDev((em, actor) => countUnreadNotifications(em, actor))).toEqual({ unread: 0 });
    const testerUnread = await postgres.client.query(
      'select count(*)::int as n from scrum.notifications where user_id = $1 and not is_read',
      [tester.id],
    );
    expect(testerUnread.rows[0]).toEqual({ n: 1 });
  });
});
