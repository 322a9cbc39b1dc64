import { UnauthorizedError } from '@huddle/db';
import { useTestDatabase } from '@huddle/testing';
import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { scrumModule } from '../src/module.ts';
import { actorOf, asActor, expectHuddleError, newUser, useSqlClient } from './helpers.ts';

/**
 * Row-level security from the database's side: every query here is unfiltered SQL run inside the request
 * scope (`runAsActor`: `application_user` with `app.user_id` / `app.user_role`), so only the policies stand
 * between an actor and other people's rows.
 */
const test = useTestDatabase([scrumModule]);
const postgres = useSqlClient(test);

type Person = Awaited<ReturnType<typeof newUser>>;
let dev: Person;
let otherDev: Person;
let tester: Person;
let pm: Person;
let admin: Person;
let retired: Person;
const tasks = { developer: 0, tester: 0, assignedToDev: 0 };
let directMessage = 0;

async function insert(sql: string, params: unknown[]): Promise<number> {
  const result = await postgres.client.query<{ id: number }>(`${sql} returning id`, params);
  return result.rows[0]!.id;
}

const task = (role: string, assignee: number | null) =>
  insert(
    `insert into scrum.tasks (title, description, assigned_role, assigned_user_id, start_date, end_date, created_by_id)
     values ('T', 'D', $1, $2, '2026-01-01Z', '2026-01-05Z', $3)`,
    [role, assignee, pm.id],
  );

/** Runs unfiltered `sql` as `person` through the request scope and returns the rows. */
function rowsAs<Row>(person: Person, sql: string, params: unknown[] = []): Promise<Row[]> {
  return asActor(test.db, person.actor, (em) => em.execute<Row[]>(sql, params));
}

/** The ids an unfiltered `select id from <table>` returns to `person`. */
async function visibleIds(person: Person, table: string): Promise<number[]> {
  const rows = await rowsAs<{ id: number }>(person, `select id from scrum.${table} order by id`);
  return rows.map((row) => row.id);
}

/** Runs `sql` as `person`; resolves to PostgreSQL's error (code) or to the affected row count. */
async function writeAs(person: Person, sql: string, params: unknown[] = []): Promise<number | string> {
  try {
    const result = await asActor(test.db, person.actor, (em) =>
      em.execute<{ affectedRows: number }>(sql, params, 'run'),
    );
    return result.affectedRows;
  } catch (error) {
    // The database's refusal arrives as a ForbiddenError whose cause carries PostgreSQL's code.
    const { code, cause } = error as { code?: string; cause?: { code?: string } };
    return code ?? cause?.code ?? String(error);
  }
}

beforeAll(async () => {
  dev = await newUser(postgres.client, 'developer', 'dev');
  otherDev = await newUser(postgres.client, 'developer', 'otherdev');
  tester = await newUser(postgres.client, 'tester');
  pm = await newUser(postgres.client, 'project_manager', 'pm');
  admin = await newUser(postgres.client, 'admin');
  retired = await newUser(postgres.client, 'designer', 'retired');
  await postgres.client.query('update scrum.users set is_active = false where id = $1', [retired.id]);
  tasks.developer = await task('developer', null);
  tasks.tester = await task('tester', null);
  tasks.assignedToDev = await task('tester', dev.id);
  for (const person of [dev, otherDev, tester]) {
    await postgres.client.query(
      `insert into scrum.notifications (user_id, type, title, message) values ($1, 'system', 'Hello', 'M'), ($1, 'system', 'Again', 'M')`,
      [person.id],
    );
  }
  directMessage = await insert(
    `insert into scrum.chat_messages (sender_id, recipient_id, message, channel) values ($1, $2, 'psst', null)`,
    [otherDev.id, tester.id],
  );
  await postgres.client.query(
    `insert into scrum.chat_messages (sender_id, message) values ($1, 'all hands')`,
    [pm.id],
  );
  await postgres.client.query(
    `insert into scrum.triage_items (reporter_id, title, description) values ($1, 'Mine', 'D'), ($2, 'Theirs', 'D')`,
    [dev.id, otherDev.id],
  );
});

describe('the actor', () => {
  it('is loaded with its current role from the database, whatever the caller claimed', async () => {
    const claimed = actorOf(dev.id, 'admin');
    const settings = await asActor(test.db, claimed, (em, actor) =>
      em
        .execute<{ role: string; user_id: string; user_role: string }[]>(
          `select current_user as role, current_setting('app.user_id') as user_id, current_setting('app.user_role') as user_role`,
        )
        .then(([row]) => ({ actorRole: actor.role, ...row })),
    );
    expect(settings).toEqual({
      actorRole: 'developer',
      role: 'application_user',
      user_id: String(dev.id),
      user_role: 'developer',
    });
  });

  it('is refused when deactivated or unknown', async () => {
    await expectHuddleError(rowsAs(retired, 'select 1'), UnauthorizedError);
    await expectHuddleError(
      asActor(test.db, actorOf(999_999), (em) => em.execute('select 1')),
      UnauthorizedError,
    );
  });
});

describe('notifications: only the recipient’s', () => {
  it('an unfiltered select returns the actor’s own notifications and nobody else’s', async () => {
    const rows = await rowsAs<{ user_id: number }>(dev, 'select * from scrum.notifications');
    expect(rows.map((row) => row.user_id)).toEqual([dev.id, dev.id]);
    const counts = await rowsAs<{ count: string }>(admin, 'select count(*) from scrum.notifications');
    expect(counts).toEqual([{ count: '0' }]);
  });

  it('another user’s notification cannot be marked read, and is left unchanged', async () => {
    expect(
      await writeAs(dev, 'update scrum.notifications set is_read = true where user_id = ?', [tester.id]),
    ).toBe(0);
    expect(await writeAs(dev, 'update scrum.notifications set is_read = true')).toBe(2);
    const unread = await postgres.client.query(
      'select count(*)::int as n from scrum.notifications where user_id = $1 and not is_read',
      [tester.id],
    );
    expect(unread.rows[0]).toEqual({ n: 2 });
  });

  it('cannot be moved to another user (with check)', async () => {
    expect(await writeAs(dev, 'update scrum.notifications set user_id = ?', [tester.id])).toBe('42501');
  });

  it('no request may delete one (no DELETE grant: cleanup is a job)', async () => {
    expect(await writeAs(dev, 'delete from scrum.notifications')).toBe('42501');
  });
});

describe('chat: a direct message is its two people’s, a channel message everyone’s', () => {
  it('a DM between two other users is invisible to an unfiltered select; the channel message is not', async () => {
    const rows = await rowsAs<{ message: string }>(dev, 'select * from scrum.chat_messages');
    expect(rows.map((row) => row.message)).toEqual(['all hands']);
    expect(
      (await rowsAs<{ message: string }>(tester, 'select message from scrum.chat_messages order by id')).map(
        (row) => row.message,
      ),
    ).toEqual(['psst', 'all hands']);
    expect((await visibleIds(otherDev, 'chat_messages'))[0]).toBe(directMessage);
  });

  it('a message cannot be sent in someone else’s name', async () => {
    expect(
      await writeAs(
        dev,
        `insert into scrum.chat_messages (sender_id, recipient_id, message) values (?, ?, 'fake')`,
        [otherDev.id, tester.id],
      ),
    ).toBe('42501');
    expect(
      await writeAs(
        dev,
        `insert into scrum.chat_messages (sender_id, recipient_id, message) values (?, ?, 'real')`,
        [dev.id, tester.id],
      ),
    ).toBe(1);
  });

  it('only the sender edits a message: the recipient’s update touches nothing', async () => {
    expect(
      await writeAs(tester, `update scrum.chat_messages set message = 'edited' where id = ?`, [
        directMessage,
      ]),
    ).toBe(0);
    expect(
      await writeAs(otherDev, `update scrum.chat_messages set message = 'edited' where id = ?`, [
        directMessage,
      ]),
    ).toBe(1);
  });
});

describe('tasks: the actor’s role, assignments and creations; managers see all', () => {
  it('a task of another role is invisible to an unfiltered select, unless assigned to the actor', async () => {
    expect(await visibleIds(dev, 'tasks')).toEqual([tasks.developer, tasks.assignedToDev]);
    expect(await visibleIds(otherDev, 'tasks')).toEqual([tasks.developer]);
    expect(await visibleIds(tester, 'tasks')).toEqual([tasks.tester, tasks.assignedToDev]);
    expect(await visibleIds(pm, 'tasks')).toEqual([tasks.developer, tasks.tester, tasks.assignedToDev]);
  });

  it('a developer cannot create a task, a project manager can (in their own name only)', async () => {
    const create = (person: Person, createdBy: number) =>
      writeAs(
        person,
        `insert into scrum.tasks (title, description, assigned_role, start_date, end_date, created_by_id)
         values ('New', 'D', 'developer', '2026-02-01Z', '2026-02-03Z', ?)`,
        [createdBy],
      );
    expect(await create(dev, dev.id)).toBe('42501');
    expect(await create(pm, admin.id)).toBe('42501');
    expect(await create(pm, pm.id)).toBe(1);
  });

  it('the assignee and the role (while unassigned) may update; others of another role touch nothing', async () => {
    const start = `update scrum.tasks set status = 'in_progress' where id = ?`;
    expect(await writeAs(tester, start, [tasks.developer])).toBe(0);
    expect(await writeAs(otherDev, start, [tasks.assignedToDev])).toBe(0);
    expect(await writeAs(dev, start, [tasks.assignedToDev])).toBe(1);
    expect(await writeAs(otherDev, start, [tasks.developer])).toBe(1);
  });

  it('a developer cannot hand a task to another role (with check)', async () => {
    expect(
      await writeAs(otherDev, `update scrum.tasks set assigned_role = 'tester' where id = ?`, [
        tasks.developer,
      ]),
    ).toBe('42501');
  });
});

describe('task history: whoever sees the task sees its history; no request writes it', () => {
  it('an unfiltered select shows the history of the visible tasks only', async () => {
    // As the owner (an operator): every task gets a change, recorded by the trigger, by nobody.
    await postgres.client.query(
      `update scrum.tasks set priority = priority + 1, end_date = end_date + interval '1 day'`,
    );
    const historyOf = async (person: Person) =>
      (
        await rowsAs<{ task_id: number }>(
          person,
          'select distinct task_id from scrum.task_activity order by task_id',
        )
      ).map((row) => row.task_id);
    // Every task now has history, so each person's visible history is exactly their visible tasks.
    for (const person of [dev, otherDev, tester, pm]) {
      expect(await historyOf(person)).toEqual(await visibleIds(person, 'tasks'));
    }
    expect(await historyOf(otherDev)).not.toContain(tasks.assignedToDev);
    expect(await historyOf(tester)).not.toContain(tasks.developer);
    expect(await historyOf(tester)).toContain(tasks.assignedToDev);
  });

  it('a request’s change is recorded in its user’s name, though the request may not write history itself', async () => {
    expect(
      await writeAs(dev, `update scrum.tasks set end_date = end_date + interval '1 day' where id = ?`, [
        tasks.assignedToDev,
      ]),
    ).toBe(1);
    const latest = await postgres.client.query(
      'select field, actor_id from scrum.task_activity where task_id = $1 order by id desc limit 1',
      [tasks.assignedToDev],
    );
    expect(latest.rows).toEqual([{ field: 'end_date', actor_id: dev.id }]);
    const before = await postgres.client.query(
      'select count(*)::int as n, max(id) as last from scrum.task_activity',
    );
    for (const person of [dev, pm, admin]) {
      expect(
        await writeAs(
          person,
          `insert into scrum.task_activity (task_id, actor_id, field, old_value, new_value) values (?, ?, 'status', '"todo"', '"done"')`,
          [tasks.developer, person.id],
        ),
      ).toBe('42501');
      expect(await writeAs(person, 'update scrum.task_activity set actor_id = ?', [person.id])).toBe('42501');
      expect(await writeAs(person, 'delete from scrum.task_activity')).toBe('42501');
    }
    const after = await postgres.client.query(
      'select count(*)::int as n, max(id) as last from scrum.task_activity',
    );
    expect(after.rows).toEqual(before.rows);
  });
});

describe('users: the active team; deactivated users for admins and themselves', () => {
  it('the directory hides deactivated users from everyone but admins', async () => {
    expect(await visibleIds(dev, 'users')).not.toContain(retired.id);
    expect(await visibleIds(dev, 'users')).toEqual(
      expect.arrayContaining([dev.id, tester.id, pm.id, admin.id]),
    );
    expect(await visibleIds(admin, 'users')).toContain(retired.id);
  });

  it('only an admin changes a user; nobody inserts or deletes one through a request', async () => {
    const promote = `update scrum.users set role = 'admin' where id = ?`;
    expect(await writeAs(dev, promote, [dev.id])).toBe(0);
    expect(await writeAs(pm, promote, [dev.id])).toBe(0);
    expect(await writeAs(admin, `update scrum.users set role = 'tester' where id = ?`, [otherDev.id])).toBe(
      1,
    );
    expect(
      await writeAs(admin, `insert into scrum.users (github_id, username, role) values ('x', 'x', 'admin')`),
    ).toBe('42501');
    expect(await writeAs(admin, 'delete from scrum.users where id = ?', [retired.id])).toBe('42501');
    await postgres.client.query(`update scrum.users set role = 'developer' where id = $1`, [otherDev.id]);
  });
});

describe('triage items: the reporter’s, the assignee’s and the managers’', () => {
  it('a developer sees the items they reported, not a colleague’s; a manager sees all', async () => {
    const titles = async (person: Person) =>
      (await rowsAs<{ title: string }>(person, 'select title from scrum.triage_items order by id')).map(
        (row) => row.title,
      );
    expect(await titles(dev)).toEqual(['Mine']);
    expect(await titles(otherDev)).toEqual(['Theirs']);
    expect(await titles(pm)).toEqual(['Mine', 'Theirs']);
  });

  it('a report is filed in the actor’s own name only', async () => {
    const report = `insert into scrum.triage_items (reporter_id, title, description) values (?, 'R', 'D')`;
    expect(await writeAs(dev, report, [otherDev.id])).toBe('42501');
    expect(await writeAs(dev, report, [dev.id])).toBe(1);
  });

  it('the reporter cannot change an item; a manager can', async () => {
    const review = `update scrum.triage_items set status = 'in_review' where title = 'Mine'`;
    expect(await writeAs(dev, review)).toBe(0);
    expect(await writeAs(pm, review)).toBe(1);
  });
});

describe('invitations: admins’ only; sign-in flows: no request’s', () => {
  it('a developer neither sees nor writes an invitation; an admin sees them, invites in their own name only and withdraws pending ones', async () => {
    await postgres.client.query(
      `insert into scrum.invitations (github_login, role) values ('invited-by-cli', 'admin')`,
    );
    const logins = async (person: Person) =>
      (
        await rowsAs<{ github_login: string }>(
          person,
          'select github_login from scrum.invitations order by id',
        )
      ).map((row) => row.github_login);
    expect(await logins(dev)).toEqual([]);
    expect(await logins(pm)).toEqual([]);
    expect(await logins(admin)).toEqual(['invited-by-cli']);
    const invite = `insert into scrum.invitations (github_login, role, invited_by_id) values (?, 'admin', ?)`;
    expect(await writeAs(dev, invite, ['dev-friend', dev.id])).toBe('42501');
    expect(await writeAs(pm, invite, ['pm-friend', pm.id])).toBe('42501');
    expect(await writeAs(admin, invite, ['in-dev-name', dev.id])).toBe('42501');
    expect(await writeAs(admin, invite, ['admin-friend', admin.id])).toBe(1);
    expect(await writeAs(admin, `update scrum.invitations set role = 'admin'`)).toBe('42501');
    expect(await writeAs(dev, 'delete from scrum.invitations')).toBe(0);
    expect(await writeAs(pm, 'delete from scrum.invitations')).toBe(0);
    await postgres.client.query(
      `update scrum.invitations set accepted_at = now(), user_id = $1 where github_login = 'invited-by-cli'`,
      [admin.id],
    );
    // An accepted invitation is the record of how a member joined: not even an admin deletes it.
    expect(await writeAs(admin, 'delete from scrum.invitations')).toBe(1);
    expect(
      (await postgres.client.query('select github_login from scrum.invitations order by id')).rows.map(
        (row) => row.github_login,
      ),
    ).toEqual(['invited-by-cli']);
  });

  it('no request reads or writes a sign-in flow, an admin’s included', async () => {
    await postgres.client.query(
      `insert into scrum.sign_in_flows (state_hash, client_hash, sealed_verifier, expires_at)
       values (repeat('a', 64), repeat('b', 64), 'sealed', now() + interval '1 minute')`,
    );
    for (const person of [dev, admin]) {
      expect(await writeAs(person, 'select * from scrum.sign_in_flows')).toBe('42501');
      expect(await writeAs(person, 'delete from scrum.sign_in_flows')).toBe('42501');
    }
    expect((await postgres.client.query('select count(*)::int as n from scrum.sign_in_flows')).rows).toEqual([
      { n: 1 },
    ]);
  });
});

describe('outside the request scope', () => {
  /** Runs `work` in a transaction switched to `role` with no request settings, then rolls back. */
  async function asRole<T>(role: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
    await postgres.client.query('begin');
    try {
      await postgres.client.query(`set local role ${role}`);
      return await work(postgres.client);
    } finally {
      await postgres.client.query('rollback');
    }
  }

  const errorCode = (promise: Promise<unknown>) =>
    promise.then(
      () => 'succeeded',
      (error: { code?: string }) => error.code,
    );

  it('application_user without settings sees no user-owned rows (the policies compare with null)', async () => {
    const counts = await asRole('application_user', async (client) => {
      const result = await client.query<{ notifications: number; dms: number; tasks: number }>(
        `select (select count(*)::int from scrum.notifications) as notifications,
                (select count(*)::int from scrum.chat_messages where recipient_id is not null) as dms,
                (select count(*)::int from scrum.tasks) as tasks`,
      );
      return result.rows[0];
    });
    expect(counts).toEqual({ notifications: 0, dms: 0, tasks: 0 });
  });

  it('read_only_user reads every row of every table and cannot write any', async () => {
    const counts = await asRole('read_only_user', async (client) => {
      const result = await client.query<Record<string, number>>(
        `select (select count(*)::int from scrum.notifications) as notifications,
                (select count(*)::int from scrum.chat_messages where id = ${directMessage}) as dm,
                (select count(*)::int from scrum.tasks) as tasks,
                (select count(*)::int from scrum.users where not is_active) as deactivated,
                (select count(*)::int from scrum.triage_items) as triage`,
      );
      return result.rows[0];
    });
    expect(counts).toEqual({ notifications: 6, dm: 1, tasks: 4, deactivated: 1, triage: 3 });
    const writes = [
      `update scrum.notifications set is_read = true`,
      `insert into scrum.chat_messages (sender_id, message) values (${dev.id}, 'x')`,
      `delete from scrum.triage_items`,
      `update scrum.users set role = 'admin'`,
      `insert into scrum.tasks (title, description, assigned_role, start_date, end_date) values ('T', 'D', 'developer', '2026-01-01Z', '2026-01-02Z')`,
    ];
    for (const sql of writes) {
      expect([sql, await asRole('read_only_user', (client) => errorCode(client.query(sql)))]).toEqual([
        sql,
        '42501',
      ]);
    }
  });
});
