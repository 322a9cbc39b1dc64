import { ConflictError, type HuddleError, InvalidInputError, NotFoundError } from '@huddle/db';
import { useTestDatabase } from '@huddle/testing';
import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { scrumModule } from '../src/module.ts';
import { expectHuddleError, inRequest, useSqlClient } from './helpers.ts';

/**
 * Every CHECK, UNIQUE, NOT NULL, foreign key and ON UPDATE / ON DELETE rule of the seed and of the issue's
 * additions: the database itself refuses the bad row, whatever the services do.
 */
const test = useTestDatabase([scrumModule]);
const postgres = useSqlClient(test);
/**
 * Rows the cases refer to: `user`, referenced by a task, a notification about it, a message to `other` and a
 * triage item promoted to `promotedTask`; `invitee`, whom an accepted invitation became; a sign-in flow.
 */
const ids = {
  user: 0,
  other: 0,
  task: 0,
  promotedTask: 0,
  notification: 0,
  message: 0,
  triage: 0,
  invitee: 0,
};

async function insert(sql: string, params: unknown[] = []): Promise<number> {
  const result = await postgres.client.query<{ id: number }>(`${sql} returning id`, params);
  return result.rows[0]!.id;
}

async function refusal(sql: string): Promise<pg.DatabaseError> {
  const error = await postgres.client.query(sql).then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!(error instanceof pg.DatabaseError)) throw new Error(`expected the database to refuse: ${sql}`);
  return error;
}

const TASK_COLUMNS = 'title, description, assigned_role, start_date, end_date';
const TASK_VALUES = `'T', 'D', 'developer', '2026-01-01Z', '2026-01-05Z'`;

beforeAll(async () => {
  ids.user = await insert(
    `insert into scrum.users (github_id, username, role) values ('u1', 'Una', 'developer')`,
  );
  ids.other = await insert(
    `insert into scrum.users (github_id, username, role) values ('u2', 'Otto', 'tester')`,
  );
  ids.task = await insert(
    `insert into scrum.tasks (${TASK_COLUMNS}, assigned_user_id) values (${TASK_VALUES}, $1)`,
    [ids.user],
  );
  ids.notification = await insert(
    `insert into scrum.notifications (user_id, type, title, message, related_task_id) values ($1, 'task_assigned', 'T', 'M', $2)`,
    [ids.user, ids.task],
  );
  ids.message = await insert(
    `insert into scrum.chat_messages (sender_id, recipient_id, message) values ($1, $2, 'hi')`,
    [ids.user, ids.other],
  );
  ids.promotedTask = await insert(`insert into scrum.tasks (${TASK_COLUMNS}) values (${TASK_VALUES})`);
  ids.triage = await insert(
    `insert into scrum.triage_items (reporter_id, title, description, task_id) values ($1, 'Bug', 'Broken', $2)`,
    [ids.user, ids.promotedTask],
  );
  ids.invitee = await insert(
    `insert into scrum.users (github_id, username, role) values ('u-invitee', 'Ivy', 'developer')`,
  );
  await insert(
    `insert into scrum.invitations (github_login, role, accepted_at, user_id) values ('invited', 'admin', now(), $1)`,
    [ids.invitee],
  );
  await insert(
    `insert into scrum.sign_in_flows (state_hash, client_hash, sealed_verifier, expires_at)
     values (repeat('a', 64), 'c', 's', now())`,
  );
});

const withIds = (sql: string) => sql.replace(/\{(\w+)\}/g, (_, key: keyof typeof ids) => String(ids[key]));

interface RefusedRow {
  rule: string;
  sql: string;
  code: '23502' | '23503' | '23505' | '23514';
  /** The constraint PostgreSQL names (not-null violations name the column instead). */
  constraint?: string;
  column?: string;
}

const notNull = (table: string, column: string, sql: string): RefusedRow => ({
  rule: `${table}.${column} NOT NULL`,
  sql,
  code: '23502',
  column,
});
const check = (rule: string, constraint: string, sql: string): RefusedRow => ({
  rule,
  sql,
  code: '23514',
  constraint,
});
const foreignKey = (rule: string, constraint: string, sql: string): RefusedRow => ({
  rule,
  sql,
  code: '23503',
  constraint,
});

const refusedRows: RefusedRow[] = [
  // users
  notNull('users', 'github_id', `insert into scrum.users (username, role) values ('x', 'admin')`),
  notNull('users', 'username', `insert into scrum.users (github_id, role) values ('x', 'admin')`),
  notNull('users', 'role', `insert into scrum.users (github_id, username) values ('x', 'x')`),
  notNull(
    'users',
    'is_active',
    `insert into scrum.users (github_id, username, role, is_active) values ('x', 'x', 'admin', null)`,
  ),
  notNull(
    'users',
    'created_at',
    `insert into scrum.users (github_id, username, role, created_at) values ('x', 'x', 'admin', null)`,
  ),
  {
    rule: 'users.github_id UNIQUE',
    sql: `insert into scrum.users (github_id, username, role) values ('u1', 'x', 'admin')`,
    code: '23505',
    constraint: 'users_github_id_key',
  },
  check(
    'users valid_role',
    'valid_role',
    `insert into scrum.users (github_id, username, role) values ('x', 'x', 'owner')`,
  ),
  // tasks
  notNull(
    'tasks',
    'title',
    `insert into scrum.tasks (description, assigned_role, start_date, end_date) values ('D', 'developer', '2026-01-01Z', '2026-01-05Z')`,
  ),
  notNull(
    'tasks',
    'description',
    `insert into scrum.tasks (title, assigned_role, start_date, end_date) values ('T', 'developer', '2026-01-01Z', '2026-01-05Z')`,
  ),
  notNull(
    'tasks',
    'assigned_role',
    `insert into scrum.tasks (title, description, start_date, end_date) values ('T', 'D', '2026-01-01Z', '2026-01-05Z')`,
  ),
  notNull(
    'tasks',
    'start_date',
    `insert into scrum.tasks (title, description, assigned_role, end_date) values ('T', 'D', 'developer', '2026-01-05Z')`,
  ),
  notNull(
    'tasks',
    'end_date',
    `insert into scrum.tasks (title, description, assigned_role, start_date) values ('T', 'D', 'developer', '2026-01-01Z')`,
  ),
  notNull(
    'tasks',
    'status',
    `insert into scrum.tasks (${TASK_COLUMNS}, status) values (${TASK_VALUES}, null)`,
  ),
  notNull(
    'tasks',
    'is_delayed',
    `insert into scrum.tasks (${TASK_COLUMNS}, is_delayed) values (${TASK_VALUES}, null)`,
  ),
  notNull(
    'tasks',
    'priority',
    `insert into scrum.tasks (${TASK_COLUMNS}, priority) values (${TASK_VALUES}, null)`,
  ),
  check(
    'tasks valid_status',
    'valid_status',
    `insert into scrum.tasks (${TASK_COLUMNS}, status) values (${TASK_VALUES}, 'blocked')`,
  ),
  check(
    'tasks tasks_date_order (end after start)',
    'tasks_date_order',
    `insert into scrum.tasks (${TASK_COLUMNS.replace('start_date, end_date', 'end_date, start_date')}) values (${TASK_VALUES})`,
  ),
  check(
    'tasks tasks_date_order (not equal)',
    'tasks_date_order',
    `insert into scrum.tasks (title, description, assigned_role, start_date, end_date) values ('T', 'D', 'developer', '2026-01-01Z', '2026-01-01Z')`,
  ),
  check(
    'tasks tasks_assigned_role_check',
    'tasks_assigned_role_check',
    `insert into scrum.tasks (title, description, assigned_role, start_date, end_date) values ('T', 'D', 'intern', '2026-01-01Z', '2026-01-05Z')`,
  ),
  check(
    'tasks: done without completed_at',
    'tasks_completed_at_check',
    `insert into scrum.tasks (${TASK_COLUMNS}, status) values (${TASK_VALUES}, 'done')`,
  ),
  check(
    'tasks: completed_at while not done',
    'tasks_completed_at_check',
    `insert into scrum.tasks (${TASK_COLUMNS}, completed_at) values (${TASK_VALUES}, now())`,
  ),
  foreignKey(
    'tasks.assigned_user_id → users',
    'tasks_assigned_user_id_foreign',
    `insert into scrum.tasks (${TASK_COLUMNS}, assigned_user_id) values (${TASK_VALUES}, 999999)`,
  ),
  foreignKey(
    'tasks.created_by_id → users',
    'tasks_created_by_id_foreign',
    `insert into scrum.tasks (${TASK_COLUMNS}, created_by_id) values (${TASK_VALUES}, 999999)`,
  ),
  // notifications
  notNull(
    'notifications',
    'user_id',
    `insert into scrum.notifications (type, title, message) values ('system', 'T', 'M')`,
  ),
  notNull(
    'notifications',
    'type',
    `insert into scrum.notifications (user_id, title, message) values ({user}, 'T', 'M')`,
  ),
  notNull(
    'notifications',
    'title',
    `insert into scrum.notifications (user_id, type, message) values ({user}, 'system', 'M')`,
  ),
  notNull(
    'notifications',
    'message',
    `insert into scrum.notifications (user_id, type, title) values ({user}, 'system', 'T')`,
  ),
  notNull(
    'notifications',
    'is_read',
    `insert into scrum.notifications (user_id, type, title, message, is_read) values ({user}, 'system', 'T', 'M', null)`,
  ),
  check(
    'notifications valid_notification_type',
    'valid_notification_type',
    `insert into scrum.notifications (user_id, type, title, message) values ({user}, 'gossip', 'T', 'M')`,
  ),
  foreignKey(
    'notifications.user_id → users',
    'notifications_user_id_foreign',
    `insert into scrum.notifications (user_id, type, title, message) values (999999, 'system', 'T', 'M')`,
  ),
  foreignKey(
    'notifications.related_task_id → tasks',
    'notifications_related_task_id_foreign',
    `insert into scrum.notifications (user_id, type, title, message, related_task_id) values ({user}, 'system', 'T', 'M', 999999)`,
  ),
  // chat_messages
  notNull('chat_messages', 'sender_id', `insert into scrum.chat_messages (message) values ('hi')`),
  notNull('chat_messages', 'message', `insert into scrum.chat_messages (sender_id) values ({user})`),
  notNull(
    'chat_messages',
    'message_type',
    `insert into scrum.chat_messages (sender_id, message, message_type) values ({user}, 'hi', null)`,
  ),
  notNull(
    'chat_messages',
    'is_edited',
    `insert into scrum.chat_messages (sender_id, message, is_edited) values ({user}, 'hi', null)`,
  ),
  check(
    'chat_messages message_type',
    'chat_messages_message_type_check',
    `insert into scrum.chat_messages (sender_id, message, message_type) values ({user}, 'hi', 'video')`,
  ),
  check(
    'chat_messages: a file message without its URL',
    'chat_messages_file_url_check',
    `insert into scrum.chat_messages (sender_id, message, message_type) values ({user}, 'report.pdf', 'file')`,
  ),
  check(
    'chat_messages: a URL on a text message',
    'chat_messages_file_url_check',
    `insert into scrum.chat_messages (sender_id, message, file_url) values ({user}, 'hi', 'https://x.test/a')`,
  ),
  check(
    'chat_messages: neither recipient nor channel',
    'chat_messages_target_check',
    `insert into scrum.chat_messages (sender_id, message, channel) values ({user}, 'hi', null)`,
  ),
  foreignKey(
    'chat_messages.sender_id → users',
    'chat_messages_sender_id_foreign',
    `insert into scrum.chat_messages (sender_id, message) values (999999, 'hi')`,
  ),
  foreignKey(
    'chat_messages.recipient_id → users',
    'chat_messages_recipient_id_foreign',
    `insert into scrum.chat_messages (sender_id, recipient_id, message) values ({user}, 999999, 'hi')`,
  ),
  // triage_items
  notNull(
    'triage_items',
    'reporter_id',
    `insert into scrum.triage_items (title, description) values ('B', 'D')`,
  ),
  notNull(
    'triage_items',
    'title',
    `insert into scrum.triage_items (reporter_id, description) values ({user}, 'D')`,
  ),
  notNull(
    'triage_items',
    'description',
    `insert into scrum.triage_items (reporter_id, title) values ({user}, 'B')`,
  ),
  notNull(
    'triage_items',
    'status',
    `insert into scrum.triage_items (reporter_id, title, description, status) values ({user}, 'B', 'D', null)`,
  ),
  notNull(
    'triage_items',
    'priority',
    `insert into scrum.triage_items (reporter_id, title, description, priority) values ({user}, 'B', 'D', null)`,
  ),
  check(
    'triage_items status',
    'triage_items_status_check',
    `insert into scrum.triage_items (reporter_id, title, description, status, resolution, resolved_at) values ({user}, 'B', 'D', 'closed', 'R', now())`,
  ),
  check(
    'triage_items priority',
    'triage_items_priority_check',
    `insert into scrum.triage_items (reporter_id, title, description, priority) values ({user}, 'B', 'D', 'urgent')`,
  ),
  check(
    'triage_items: resolved without a resolution',
    'triage_items_resolution_check',
    `insert into scrum.triage_items (reporter_id, title, description, status, resolved_at) values ({user}, 'B', 'D', 'resolved', now())`,
  ),
  check(
    'triage_items: rejected without resolved_at',
    'triage_items_resolution_check',
    `insert into scrum.triage_items (reporter_id, title, description, status, resolution) values ({user}, 'B', 'D', 'rejected', 'dup')`,
  ),
  {
    rule: 'triage_items: one item per promoted task',
    sql: `insert into scrum.triage_items (reporter_id, title, description, task_id) values ({user}, 'B', 'D', {promotedTask})`,
    code: '23505',
    constraint: 'triage_items_task_id_unique',
  },
  foreignKey(
    'triage_items.reporter_id → users',
    'triage_items_reporter_id_foreign',
    `insert into scrum.triage_items (reporter_id, title, description) values (999999, 'B', 'D')`,
  ),
  foreignKey(
    'triage_items.assigned_to → users',
    'triage_items_assigned_to_foreign',
    `insert into scrum.triage_items (reporter_id, title, description, assigned_to) values ({user}, 'B', 'D', 999999)`,
  ),
  foreignKey(
    'triage_items.task_id → tasks',
    'triage_items_task_id_foreign',
    `insert into scrum.triage_items (reporter_id, title, description, task_id) values ({user}, 'B', 'D', 999999)`,
  ),
  // ON DELETE RESTRICT: referenced rows stay (users are deactivated, never deleted while referenced)
  foreignKey(
    'a user with a task cannot be deleted',
    'tasks_assigned_user_id_foreign',
    `delete from scrum.users where id = {user}`,
  ),
  foreignKey(
    'a user who sent a message cannot be deleted',
    'chat_messages_recipient_id_foreign',
    `delete from scrum.users where id = {other}`,
  ),
  foreignKey(
    'a task promoted from a triage item cannot be deleted',
    'triage_items_task_id_foreign',
    `delete from scrum.tasks where id = {promotedTask}`,
  ),
  foreignKey(
    'a task with notifications cannot be deleted',
    'notifications_related_task_id_foreign',
    `delete from scrum.tasks where id = {task}`,
  ),
  // task_activity (beyond the seed; its trigger is its one writer)
  check(
    'task_activity.field is a tracked column',
    'task_activity_field_check',
    `insert into scrum.task_activity (task_id, field) values ({task}, 'title')`,
  ),
  notNull('task_activity', 'field', `insert into scrum.task_activity (task_id) values ({task})`),
  foreignKey(
    'task_activity.task_id references tasks',
    'task_activity_task_id_foreign',
    `insert into scrum.task_activity (task_id, field) values (999999, 'status')`,
  ),
  foreignKey(
    'task_activity.actor_id references users',
    'task_activity_actor_id_foreign',
    `insert into scrum.task_activity (task_id, actor_id, field) values ({task}, 999999, 'status')`,
  ),
  // invitations and sign_in_flows (beyond the seed)
  check(
    'invitations.role is a role',
    'invitations_role_check',
    `insert into scrum.invitations (github_login, role) values ('x', 'owner')`,
  ),
  check(
    'invitations.github_login is lower-case',
    'invitations_github_login_check',
    `insert into scrum.invitations (github_login, role) values ('Someone', 'developer')`,
  ),
  check(
    'an invitation is accepted with its user, and only then',
    'invitations_accepted_check',
    `insert into scrum.invitations (github_login, role, accepted_at) values ('x', 'developer', now())`,
  ),
  {
    rule: 'invitations.github_login UNIQUE',
    sql: `insert into scrum.invitations (github_login, role) values ('invited', 'admin')`,
    code: '23505',
    constraint: 'invitations_github_login_unique',
  },
  foreignKey(
    'an invitation is from an existing user',
    'invitations_invited_by_id_foreign',
    `insert into scrum.invitations (github_login, role, invited_by_id) values ('x', 'developer', 999999)`,
  ),
  foreignKey(
    'an invitation becomes an existing user',
    'invitations_user_id_foreign',
    `insert into scrum.invitations (github_login, role, accepted_at, user_id) values ('x', 'developer', now(), 999999)`,
  ),
  {
    rule: 'invitations.user_id UNIQUE',
    sql: `insert into scrum.invitations (github_login, role, accepted_at, user_id) values ('x', 'developer', now(), {invitee})`,
    code: '23505',
    constraint: 'invitations_user_id_unique',
  },
  foreignKey(
    'a user an invitation became cannot be deleted',
    'invitations_user_id_foreign',
    `delete from scrum.users where id = {invitee}`,
  ),
  {
    rule: 'sign_in_flows.state_hash UNIQUE',
    sql: `insert into scrum.sign_in_flows (state_hash, client_hash, sealed_verifier, expires_at) values (repeat('a', 64), 'c', 's', now())`,
    code: '23505',
    constraint: 'sign_in_flows_state_hash_unique',
  },
  notNull(
    'sign_in_flows',
    'expires_at',
    `insert into scrum.sign_in_flows (state_hash, client_hash, sealed_verifier) values ('x', 'c', 's')`,
  ),
];

describe('the database refuses', () => {
  it.each(refusedRows)('$rule', async ({ sql, code, constraint, column }) => {
    const error = await refusal(withIds(sql));
    expect(error.code).toBe(code);
    if (constraint) expect(error.constraint).toBe(constraint);
    if (column) expect(error.column).toBe(column);
  });

  it('restricts deletes even when the referencing rows are the deleted row’s own notifications', async () => {
    const lonely = await insert(
      `insert into scrum.users (github_id, username, role) values ('u3', 'Lo', 'designer')`,
    );
    await insert(
      `insert into scrum.notifications (user_id, type, title, message) values ($1, 'system', 'T', 'M')`,
      [lonely],
    );
    const error = await refusal(`delete from scrum.users where id = ${lonely}`);
    expect([error.code, error.constraint]).toEqual(['23503', 'notifications_user_id_foreign']);
  });

  it('allows deleting an unreferenced user (RESTRICT only guards referenced rows)', async () => {
    const unused = await insert(
      `insert into scrum.users (github_id, username, role) values ('u4', 'Un', 'designer')`,
    );
    await postgres.client.query('delete from scrum.users where id = $1', [unused]);
    const left = await postgres.client.query('select 1 from scrum.users where id = $1', [unused]);
    expect(left.rowCount).toBe(0);
  });
});

describe('ON UPDATE CASCADE', () => {
  it('a user id change follows into tasks, notifications, messages and triage items', async () => {
    const movedTo = 900_001;
    await postgres.client.query('update scrum.users set id = $1 where id = $2', [movedTo, ids.user]);
    const result = await postgres.client.query<Record<string, number>>(
      `select (select assigned_user_id from scrum.tasks where id = $1) as task,
              (select user_id from scrum.notifications where id = $2) as notification,
              (select sender_id from scrum.chat_messages where id = $3) as message,
              (select reporter_id from scrum.triage_items where id = $4) as triage`,
      [ids.task, ids.notification, ids.message, ids.triage],
    );
    expect(result.rows[0]).toEqual({
      task: movedTo,
      notification: movedTo,
      message: movedTo,
      triage: movedTo,
    });
    ids.user = movedTo;
  });

  it('a task id change follows into notifications and into the triage item promoted to it', async () => {
    const movedTo = 900_002;
    await postgres.client.query('update scrum.tasks set id = $1 where id = $2', [movedTo, ids.task]);
    const result = await postgres.client.query<Record<string, number>>(
      `select (select related_task_id from scrum.notifications where id = $1) as notification,
              (select task_id from scrum.triage_items where id = $2) as triage`,
      [ids.notification, ids.triage],
    );
    expect(result.rows[0]).toEqual({ notification: movedTo, triage: ids.promotedTask });
    ids.task = movedTo;
    const promotedTo = 900_003;
    await postgres.client.query('update scrum.tasks set id = $1 where id = $2', [
      promotedTo,
      ids.promotedTask,
    ]);
    const triage = await postgres.client.query('select task_id from scrum.triage_items where id = $1', [
      ids.triage,
    ]);
    expect(triage.rows[0]).toEqual({ task_id: promotedTo });
  });
});

describe('defaults', () => {
  it('fill the seed’s defaults, and an insert written against the seed still works', async () => {
    const result = await postgres.client.query<Record<string, unknown>>(
      `select u.is_active, t.status, t.is_delayed, t.priority, n.is_read, m.message_type, m.channel, m.is_edited,
              i.status as triage_status, i.priority as triage_priority, i.category
       from scrum.users u, scrum.tasks t, scrum.notifications n, scrum.chat_messages m, scrum.triage_items i
       where u.id = $1 and t.id = $2 and n.id = $3 and m.id = $4 and i.id = $5`,
      [ids.other, ids.task, ids.notification, ids.message, ids.triage],
    );
    expect(result.rows[0]).toEqual({
      is_active: true,
      status: 'todo',
      is_delayed: false,
      priority: 0,
      is_read: false,
      message_type: 'text',
      channel: 'general',
      is_edited: false,
      triage_status: 'pending',
      triage_priority: 'medium',
      category: 'issue',
    });
  });

  it('keep updated_at current on every update of users, tasks and triage items (trigger)', async () => {
    for (const table of ['users', 'tasks', 'triage_items']) {
      const id = table === 'users' ? ids.other : table === 'tasks' ? ids.task : ids.triage;
      await postgres.client.query(`update scrum.${table} set updated_at = '2020-01-01Z' where id = $1`, [id]);
      const result = await postgres.client.query<{ fresh: boolean }>(
        `select updated_at > now() - interval '1 minute' as fresh from scrum.${table} where id = $1`,
        [id],
      );
      expect([table, result.rows[0]?.fresh]).toEqual([table, true]);
    }
  });
});

describe('toHuddleError maps what the database refuses to typed errors', () => {
  const cases: { sql: string; type: abstract new (...args: never[]) => HuddleError; constraint: string }[] = [
    {
      sql: `insert into scrum.users (github_id, username, role) values ('u2', 'x', 'admin')`,
      type: ConflictError,
      constraint: 'users_github_id_key',
    },
    {
      sql: `insert into scrum.tasks (title, description, assigned_role, start_date, end_date) values ('T', 'D', 'developer', '2026-01-05Z', '2026-01-01Z')`,
      type: InvalidInputError,
      constraint: 'tasks_date_order',
    },
    {
      sql: `insert into scrum.chat_messages (sender_id, recipient_id, message) values ({other}, 999999, 'hi')`,
      type: NotFoundError,
      constraint: 'chat_messages_recipient_id_foreign',
    },
    {
      sql: `delete from scrum.users where id = {other}`,
      type: ConflictError,
      constraint: 'chat_messages_recipient_id_foreign',
    },
  ];

  it.each(cases)('$constraint → $type.name', async ({ sql, type, constraint }) => {
    const error = await expectHuddleError(
      inRequest(test.db, (em) => em.execute(withIds(sql))),
      type,
    );
    expect(error.constraint.constraint).toBe(constraint);
  });
});
