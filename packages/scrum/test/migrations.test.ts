import { readFile } from 'node:fs/promises';
import {
  lintSchema,
  migrateDown,
  migrateUp,
  migrationCheck,
  migrationStatus,
  parseLintAllowList,
} from '@huddle/db';
import { schemaSnapshot, useTestDatabase } from '@huddle/testing';
import { describe, expect, it } from 'vitest';
import { scrumModule } from '../src/module.ts';

const MIGRATIONS = [
  'Migration20261122200000ScrumInitial',
  'Migration20261122200100ScrumRequestAccess',
  'Migration20261206070000ScrumSignUp',
  'Migration20261206120000ScrumTaskActivity',
  'Migration20261206140000ScrumInvitationRevoke',
];
/** The seed's five tables. */
const TABLES = ['users', 'tasks', 'notifications', 'chat_messages', 'triage_items'];
/** Beyond the seed: who may join, and GitHub sign-ins in progress. */
const SIGN_UP_TABLES = ['invitations', 'sign_in_flows'];
/** Beyond the seed: the tasks' history. */
const ADDED_TABLES = [...SIGN_UP_TABLES, 'task_activity'];
const database = useTestDatabase([scrumModule], { migrated: false });

const snapshot = () => schemaSnapshot(database.db, ['scrum']);
const scrumStatus = async () =>
  (await migrationStatus(database.db)).find((module) => module.module === 'scrum');
const scrumTables = async () => new Set((await snapshot()).tables.map((table) => table.name));

/** Table privileges of the request and reporting roles on scrum's tables, and their schema usage. */
async function grants(): Promise<string[]> {
  const rows = await database.db.orm.em.fork().execute<{ grant: string }[]>(
    `select grantee || ' ' || privilege_type || ' ' || table_name as grant
     from information_schema.role_table_grants
     where table_schema = 'scrum' and grantee in ('application_user', 'read_only_user')
     union all
     select r.rolname || ' USAGE scrum' from pg_namespace n, pg_roles r
     where n.nspname = 'scrum' and r.rolname in ('application_user', 'read_only_user')
       and has_schema_privilege(r.oid, n.oid, 'USAGE')
     order by 1`,
  );
  return rows.map((row) => row.grant);
}

/**
 * scrum's functions (the triggers') with their settings: each must pin its search_path; the one that runs as
 * its owner says so.
 */
async function functions(): Promise<string[]> {
  const rows = await database.db.orm.em.fork().execute<{ fn: string }[]>(
    `select p.proname || ' ' || coalesce(array_to_string(p.proconfig, ','), '-')
            || case when p.prosecdef then ' security definer' else '' end as fn
     from pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname = 'scrum' order by 1`,
  );
  return rows.map((row) => row.fn);
}

describe('scrum migrations', () => {
  it('apply in order on an empty database and leave no drift between entities (with policies) and schema', async () => {
    const applied = await migrateUp(database.db);
    expect(applied.find((module) => module.module === 'scrum')?.applied).toEqual(MIGRATIONS);
    const check = await migrationCheck(database.db);
    expect(check.map(({ module, ok, drift, pending }) => ({ module, ok, drift, pending }))).toEqual([
      { module: 'huddle', ok: true, drift: [], pending: [] },
      { module: 'scrum', ok: true, drift: [], pending: [] },
    ]);
  });

  it('create the seed’s tables, indexes (plus idx_tasks_user_status), checks, triggers and policies', async () => {
    const { tables } = await snapshot();
    const names = (pick: (table: (typeof tables)[number]) => { name: string }[]) =>
      tables.flatMap(pick).map((item) => item.name);
    expect(await scrumTables()).toEqual(new Set([...TABLES, ...ADDED_TABLES]));
    expect(names((table) => table.indexes)).toEqual(
      expect.arrayContaining([
        'idx_users_github_id',
        'idx_users_role',
        'idx_users_active',
        'idx_tasks_assigned_user',
        'idx_tasks_status',
        'idx_tasks_role_status',
        'idx_tasks_dates',
        'idx_tasks_delayed',
        'idx_tasks_epic',
        'idx_tasks_user_status',
        'idx_notifications_user_unread',
        'idx_notifications_type',
        'idx_notifications_created',
        'idx_notifications_task',
        'idx_chat_recipient',
        'idx_chat_sender',
        'idx_chat_channel',
        'idx_chat_created',
        'idx_chat_conversation',
        'idx_triage_reporter',
        'idx_triage_status',
        'idx_triage_assigned',
        'idx_triage_priority',
        'idx_triage_created',
      ]),
    );
    expect(names((table) => table.constraints).filter((name) => !name.endsWith('_pkey'))).toEqual(
      expect.arrayContaining([
        'valid_role',
        'users_github_id_key',
        'valid_status',
        'tasks_date_order',
        'valid_notification_type',
        'chat_messages_message_type_check',
        'triage_items_status_check',
        'triage_items_priority_check',
      ]),
    );
    // One CHECK per rule: the seed's duplicates (inline and ALTER TABLE) are not both there.
    const checks = names((table) => table.constraints);
    for (const duplicate of ['valid_date_range', 'users_role_check', 'tasks_status_check']) {
      expect(checks).not.toContain(duplicate);
    }
    expect(new Set(names((table) => table.triggers))).toEqual(
      new Set(['touch_updated_at', 'record_activity']),
    );
    const foreignKeys = tables.flatMap((table) => table.foreignKeys);
    expect(foreignKeys.length).toBe(13);
    expect(new Set(foreignKeys.map((key) => `${key.onUpdate}/${key.onDelete}`))).toEqual(
      new Set(['CASCADE/RESTRICT']),
    );
    expect(tables.filter((table) => table.rowSecurity).map((table) => table.name)).toEqual(
      expect.arrayContaining([...TABLES, ...ADDED_TABLES]),
    );
    // One permissive policy per role and action: a second one would be OR-ed by the planner on every row.
    const policyKeys = tables.flatMap((table) =>
      table.policies.flatMap((policy) =>
        policy.roles.map((role) => `${table.name} ${policy.command} ${role}`),
      ),
    );
    expect(new Set(policyKeys).size).toBe(policyKeys.length);
    const timestampTypes = tables
      .flatMap((table) => table.columns)
      .filter((column) => /_at$|_date$/.test(column.name))
      .map((column) => column.shortType);
    expect(new Set(timestampTypes)).toEqual(new Set(['timestamptz']));
  });

  it('pass the schema lint (foreign keys indexed, policies on RLS tables, seed-named duplicates allowed)', async () => {
    const allow = parseLintAllowList(
      JSON.parse(await readFile(new URL('../../../docs/schema/lint-allow.json', import.meta.url), 'utf8')),
    );
    expect(await lintSchema(database.db, allow)).toEqual([]);
  });

  it('grant requests exactly what the services need, and reporting SELECT only', async () => {
    const expected = [
      ...TABLES.map((table) => `read_only_user SELECT ${table}`),
      'application_user SELECT users',
      'application_user UPDATE users',
      ...TABLES.filter((table) => table !== 'users').flatMap((table) =>
        ['INSERT', 'SELECT', 'UPDATE'].map((privilege) => `application_user ${privilege} ${table}`),
      ),
      'application_user DELETE invitations',
      'application_user INSERT invitations',
      'application_user SELECT invitations',
      'read_only_user SELECT invitations',
      // History is read only: its trigger writes it.
      'application_user SELECT task_activity',
      'read_only_user SELECT task_activity',
      'application_user USAGE scrum',
      'read_only_user USAGE scrum',
    ];
    expect(await grants()).toEqual(expected.sort());
  });

  it('pin the search_path of the trigger functions', async () => {
    expect(await functions()).toEqual([
      'tasks_record_activity_fn search_path="" security definer',
      'tasks_touch_updated_at_fn search_path=""',
      'triage_items_touch_updated_at_fn search_path=""',
      'users_touch_updated_at_fn search_path=""',
    ]);
  });

  it('step down one migration at a time and up again', async () => {
    const before = await snapshot();
    const revertedRevoke = await migrateDown(database.db, { module: 'scrum' });
    expect(revertedRevoke).toEqual([{ module: 'scrum', applied: [], pending: [MIGRATIONS[4]] }]);
    expect((await grants()).filter((grant) => grant.endsWith(' invitations'))).toEqual([
      'application_user INSERT invitations',
      'application_user SELECT invitations',
      'read_only_user SELECT invitations',
    ]);
    const reverted = await migrateDown(database.db, { module: 'scrum' });
    expect(reverted).toEqual([{ module: 'scrum', applied: [], pending: [MIGRATIONS[3]] }]);
    expect(await scrumTables()).toEqual(new Set([...TABLES, ...SIGN_UP_TABLES]));
    expect((await functions()).filter((fn) => fn.startsWith('tasks_record_activity_fn'))).toEqual([]);
    await migrateDown(database.db, { module: 'scrum' });
    expect(await scrumTables()).toEqual(new Set(TABLES));
    expect((await grants()).filter((grant) => grant.endsWith(' invitations'))).toEqual([]);
    await migrateDown(database.db, { module: 'scrum' });
    expect(await grants()).toEqual([]);
    expect((await functions()).every((fn) => fn.endsWith(' -'))).toBe(true);
    await migrateUp(database.db, { module: 'scrum' });
    expect(await snapshot()).toEqual(before);
  });

  it('go all the way down and up again to the identical schema, policies, functions and grants', async () => {
    const before = await snapshot();
    const grantsBefore = await grants();
    const functionsBefore = await functions();
    await migrateDown(database.db, { module: 'scrum', all: true });
    expect(await scrumTables()).toEqual(new Set());
    expect((await scrumStatus())?.applied).toEqual([]);
    await migrateUp(database.db);
    expect(await snapshot()).toEqual(before);
    expect(await grants()).toEqual(grantsBefore);
    expect(await functions()).toEqual(functionsBefore);
    expect((await migrationCheck(database.db)).filter((module) => !module.ok)).toEqual([]);
  });
});
