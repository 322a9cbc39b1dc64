import {
  ConflictError,
  ForbiddenError,
  InvalidInputError,
  NotFoundError,
  UnauthorizedError,
} from '@huddle/db';
import { useTestDatabase } from '@huddle/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { scrumModule } from '../src/module.ts';
import { scrumOperations } from '../src/operations.ts';
import { currentUserSchema, invitationSchema, notificationSchema, teamMemberSchema } from '../src/schemas.ts';
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
  inviteUserAsOperator,
  listDirectory,
  reactivateUser,
} from '../src/services/users.ts';
import { asActor, call, expectHuddleError, inRequest, newUser, useSqlClient } from './helpers.ts';

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
    // The service's own rows (not the edge's parsed answer), so the strict check sees any extra field.
    const { items: directory } = await asActor(test.db, dev.actor, (em, actor) =>
      listDirectory(em, actor, { includeInactive: false, limit: 100 }),
    );
    expect(directory.map((member) => member.id)).toEqual(
      expect.arrayContaining([admin.id, dev.id, tester.id]),
    );
    for (const member of directory) {
      expect(teamMemberSchema.strict().parse(member)).toEqual(member);
      expect(member).not.toHaveProperty('email');
    }
    const testers = await call(test.db, dev.actor, scrumOperations.users.directory, { role: 'tester' });
    expect(testers).toEqual({
      items: [directory.find((member) => member.id === tester.id)],
      nextCursor: null,
    });
  });

  it('the directory pages by username then id, at most 200 a page, each member once', async () => {
    const walk = async (limit: number) => {
      const seen: number[][] = [];
      let cursor: string | undefined;
      do {
        const page = await call(test.db, admin.actor, scrumOperations.users.directory, {
          limit,
          cursor,
          includeInactive: true,
        });
        seen.push(page.items.map((member) => member.id));
        cursor = page.nextCursor ?? undefined;
      } while (cursor !== undefined && seen.length < 50);
      return seen;
    };
    const everyone = (
      await postgres.client.query<{ id: number }>('select id from scrum.users order by username, id')
    ).rows.map((row) => row.id);
    expect((await walk(200)).flat()).toEqual(everyone);
    const byTwo = await walk(2);
    expect(byTwo.flat()).toEqual(everyone);
    expect(byTwo.every((page) => page.length <= 2)).toBe(true);
    const tooMany = call(test.db, dev.actor, scrumOperations.users.directory, { limit: 201 });
    expect((await expectHuddleError(tooMany, InvalidInputError)).constraint.field).toBe('limit');
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
    const notAdmin = await expectHuddleError(promote(dev, dev.id), ForbiddenError);
    expect([notAdmin.constraint.field, notAdmin.message]).toEqual([
      'userId',
      'userId: only admins may change the role of',
    ]);
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
    const { items: seenByDev } = await call(test.db, dev.actor, scrumOperations.users.directory, undefined);
    expect(seenByDev.map((member) => member.id)).not.toContain(leaver.id);
    await expectHuddleError(
      call(test.db, dev.actor, scrumOperations.users.directory, { includeInactive: true }),
      ForbiddenError,
    );
    const { items: seenByAdmin } = await call(test.db, admin.actor, scrumOperations.users.directory, {
      includeInactive: true,
    });
    expect(seenByAdmin.find((member) => member.id === leaver.id)).toMatchObject({ isActive: false });
    expect(await asAdmin((em, actor) => reactivateUser(em, actor, { userId: leaver.id }))).toMatchObject({
      isActive: true,
    });
    expect((await asActor(test.db, leaver.actor, (em, actor) => getCurrentUser(em, actor))).id).toBe(
      leaver.id,
    );
  });
});

describe('invitations', () => {
  const invitations = async () =>
    (
      await postgres.client.query(
        'select github_login, role, invited_by_id from scrum.invitations order by id',
      )
    ).rows;

  it('an admin invites a GitHub login (lower-cased) with a role, in their own name; the operator in none', async () => {
    const invitation = await call(test.db, admin.actor, scrumOperations.users.invite, {
      githubLogin: ' New-Hire ',
      role: 'project_manager',
    });
    expect(invitationSchema.parse(invitation)).toEqual(invitation);
    expect(invitation).toMatchObject({
      githubLogin: 'new-hire',
      role: 'project_manager',
      invitedById: admin.id,
      acceptedAt: null,
      userId: null,
    });
    await inRequest(test.db, (em) => inviteUserAsOperator(em, { githubLogin: 'first-admin', role: 'admin' }));
    expect(await invitations()).toEqual([
      { github_login: 'new-hire', role: 'project_manager', invited_by_id: admin.id },
      { github_login: 'first-admin', role: 'admin', invited_by_id: null },
    ]);
  });

  it('refuses non-admins, a login already invited or already a member, and a malformed login, changing nothing', async () => {
    const before = await invitations();
    const invite = (person: Person, githubLogin: string) =>
      call(test.db, person.actor, scrumOperations.users.invite, { githubLogin });
    expect((await expectHuddleError(invite(dev, 'friend'), ForbiddenError)).constraint.field).toBe(
      'githubLogin',
    );
    expect((await expectHuddleError(invite(admin, 'NEW-HIRE'), ConflictError)).message).toBe(
      'githubLogin: new-hire is already invited',
    );
    const [member] = (
      await postgres.client.query('select username from scrum.users where id = $1', [tester.id])
    ).rows;
    expect(
      (await expectHuddleError(invite(admin, member.username.toUpperCase()), ConflictError)).message,
    ).toMatch(/^githubLogin: .* is already a member/);
    for (const login of ['', 'a b', 'x'.repeat(40), 'a\u0000']) {
      expect((await expectHuddleError(invite(admin, login), InvalidInputError)).constraint.field).toBe(
        'githubLogin',
      );
    }
    expect(await invitations()).toEqual(before);
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
    // The service's own rows (not the edge's parsed answer), for the schema check below.
    const { items: unread } = await asDev((em, actor) => listUnreadNotifications(em, actor, { limit: 50 }));
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
    const firstPage = await call(test.db, dev.actor, scrumOperations.notifications.unread, { limit: 3 });
    expect(firstPage).toEqual({ items: unread.slice(0, 3), nextCursor: expect.any(String) });
    expect(
      await call(test.db, dev.actor, scrumOperations.notifications.unread, {
        limit: 3,
        cursor: firstPage.nextCursor!,
      }),
    ).toEqual({ items: unread.slice(3), nextCursor: null });
    expect(await asDev((em, actor) => countUnreadNotifications(em, actor))).toEqual({ unread: 4 });
  });

  it('marks one read (read_at kept from the first time), then all; another user’s is NotFound', async () => {
    const {
      items: [newest],
    } = await call(test.db, dev.actor, scrumOperations.notifications.unread, undefined);
    const first = await asDev((em, actor) => markNotificationRead(em, actor, { notificationId: ids[0]! }));
    expect(first).toEqual({ ...newest, id: ids[0], isRead: true, readAt: expect.any(String) });
    expect(notificationSchema.parse(first)).toEqual(first);
    const { items: stillUnread } = await call(
      test.db,
      dev.actor,
      scrumOperations.notifications.unread,
      undefined,
    );
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
