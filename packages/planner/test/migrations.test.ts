import { migrateDown, migrateUp, migrationCheck, migrationStatus } from '@huddle/db';
import { schemaSnapshot, useTestDatabase } from '@huddle/testing';
import { describe, expect, it } from 'vitest';
import { plannerModule } from '../src/module.ts';
import { PLANNER_REQUEST_ROLE } from '../src/request-role.ts';
import { useSqlClient } from './helpers.ts';

const MIGRATIONS = [
  'Migration20261122120000PlannerInitial',
  'Migration20261122120100PlannerRequestAccess',
  'Migration20261206100000PlannerRequestRole',
  'Migration20261206120000PlannerBaseCommit',
  'Migration20261206130000PlannerStepSearch',
  'Migration20261206140000PlannerOperators',
];
/** The migrations after the request role's, newest first: the step-down test reverts them first. */
const AFTER_REQUEST_ROLE = MIGRATIONS.slice(3).reverse();
const database = useTestDatabase([plannerModule], { migrated: false });
const postgres = useSqlClient(database);

const snapshot = () => schemaSnapshot(database.db, ['planner']);
const plannerStatus = async () =>
  (await migrationStatus(database.db)).find((module) => module.module === 'planner');
const plannerTables = async () => new Set((await snapshot()).tables.map((table) => table.name));

/** The planner schema's enum types with their labels, straight from the catalog. */
async function enumTypes(): Promise<Record<string, string[]>> {
  const result = await postgres.client.query<{ name: string; labels: string[] }>(
    `select t.typname as name, array_agg(e.enumlabel::text order by e.enumsortorder) as labels
     from pg_type t join pg_enum e on e.enumtypid = t.oid join pg_namespace n on n.oid = t.typnamespace
     where n.nspname = 'planner' group by t.typname`,
  );
  return Object.fromEntries(result.rows.map((row) => [row.name, row.labels]));
}

/** Privileges of a role on the planner tables, as `table: privilege,…`. */
async function privileges(role: string): Promise<string[]> {
  const result = await postgres.client.query<{ grant: string }>(
    `select table_name || ': ' || string_agg(lower(privilege_type), ',' order by privilege_type) as grant
     from information_schema.role_table_grants
     where table_schema = 'planner' and grantee = $1 group by table_name order by table_name`,
    [role],
  );
  return result.rows.map((row) => row.grant);
}

const REQUEST_PRIVILEGES = [
  'chat_sessions: insert,select,update',
  'plan_artifacts: delete,insert,select,update',
  'plans: insert,select,update',
  'repositories: delete,insert,select,update',
];
/** Beyond the seed: who may act (Migration20261206140000PlannerOperators). */
const OPERATORS_PRIVILEGES = 'operators: insert,select,update';

const SEED_ENUMS = {
  plan_status: ['draft', 'active', 'completed', 'archived'],
  artifact_type: ['feature_plan', 'implementation_steps', 'code_changes'],
  chat_session_status: ['active', 'completed'],
};

describe('planner migrations', () => {
  it('apply in order on an empty database and leave no drift between entities and schema', async () => {
    const applied = await migrateUp(database.db);
    expect(applied.find((module) => module.module === 'planner')?.applied).toEqual(MIGRATIONS);
    const check = await migrationCheck(database.db);
    expect(check.map(({ module, ok, drift, pending }) => ({ module, ok, drift, pending }))).toEqual([
      { module: 'huddle', ok: true, drift: [], pending: [] },
      { module: 'planner', ok: true, drift: [], pending: [] },
    ]);
  });

  it('create the seed’s tables, native enum types, indexes by name and uuid/timestamptz columns', async () => {
    const { tables } = await snapshot();
    const names = (pick: (table: (typeof tables)[number]) => { name: string }[]) =>
      tables.flatMap(pick).map((item) => item.name);
    expect(await plannerTables()).toEqual(
      new Set(['repositories', 'plans', 'plan_artifacts', 'chat_sessions', 'operators']),
    );
    expect(await enumTypes()).toEqual(SEED_ENUMS);
    expect(names((table) => table.indexes)).toEqual(
      expect.arrayContaining([
        'idx_repositories_path',
        'idx_plans_repository_status',
        'idx_plans_version',
        'idx_plan_artifacts_plan_type',
        'idx_chat_sessions_plan_status',
        'idx_plan_artifacts_content_gin',
        'idx_chat_messages_gin',
        'plans_one_active_version',
      ]),
    );
    const columns = await postgres.client.query<{ column: string; type: string; default: string | null }>(
      `select table_name || '.' || column_name as column, udt_name as type, column_default as default
       from information_schema.columns where table_schema = 'planner' and table_name <> 'mikro_orm_migrations'`,
    );
    const byName = new Map(columns.rows.map((row) => [row.column, row]));
    for (const table of ['repositories', 'plans', 'plan_artifacts', 'chat_sessions']) {
      expect(byName.get(`${table}.id`)).toMatchObject({ type: 'uuid', default: 'gen_random_uuid()' });
    }
    expect(byName.get('plans.status')?.type).toBe('plan_status');
    expect(byName.get('plan_artifacts.artifact_type')?.type).toBe('artifact_type');
    expect(byName.get('chat_sessions.status')?.type).toBe('chat_session_status');
    expect(byName.get('plan_artifacts.content')?.type).toBe('jsonb');
    const timestampTypes = columns.rows.filter((row) => row.column.endsWith('_at')).map((row) => row.type);
    expect(new Set(timestampTypes)).toEqual(new Set(['timestamptz']));
  });

  it('grant planner’s request role only what the services need, application_user (scrum’s) nothing, and read_only_user only select', async () => {
    expect(await privileges(PLANNER_REQUEST_ROLE)).toEqual([
      ...REQUEST_PRIVILEGES.slice(0, 1),
      OPERATORS_PRIVILEGES,
      ...REQUEST_PRIVILEGES.slice(1),
    ]);
    expect(await privileges('application_user')).toEqual([]);
    expect(await privileges('read_only_user')).toEqual([
      'chat_sessions: select',
      'operators: select',
      'plan_artifacts: select',
      'plans: select',
      'repositories: select',
    ]);
  });

  it('step down one migration at a time and up again', async () => {
    const before = await snapshot();
    await migrateDown(database.db, { module: 'planner' });
    expect(await plannerTables()).not.toContain('operators');
    expect(await privileges(PLANNER_REQUEST_ROLE)).toEqual(REQUEST_PRIVILEGES);
    // The operators the existing plans name become operators: the tokens a deployment uses keep working.
    await postgres.client.query(
      `with r as (insert into planner.repositories (name, path) values ('old', '/r/old') returning id)
       insert into planner.plans (repository_id, name, target_branch, version, created_by)
       select id, 'Old plan', 'main', v, who from r, (values (1, 'ops.legacy'), (2, 'ops.legacy'), (3, null)) as p(v, who)`,
    );
    await migrateUp(database.db, { module: 'planner' });
    expect((await postgres.client.query('select name, is_admin from planner.operators')).rows).toEqual([
      { name: 'ops.legacy', is_admin: false },
    ]);
    for (const migration of AFTER_REQUEST_ROLE) {
      const reverted = await migrateDown(database.db, { module: 'planner' });
      expect(reverted[0]?.pending[0]).toBe(migration);
    }
    await migrateDown(database.db, { module: 'planner' });
    // Before the request role, planner's requests ran as application_user, which had the same privileges.
    expect(await privileges('application_user')).toEqual(REQUEST_PRIVILEGES);
    expect(await privileges(PLANNER_REQUEST_ROLE)).toEqual([]);
    const reverted = await migrateDown(database.db, { module: 'planner' });
    expect(reverted).toEqual([{ module: 'planner', applied: [], pending: [MIGRATIONS[1]] }]);
    expect(await privileges('application_user')).toEqual([]);
    expect((await plannerStatus())?.applied).toEqual([MIGRATIONS[0]]);
    await migrateUp(database.db, { module: 'planner' });
    expect(await snapshot()).toEqual(before);
  });

  it('go all the way down (enum types included) and up again to the identical schema', async () => {
    const before = await snapshot();
    const enumsBefore = await enumTypes();
    await migrateDown(database.db, { module: 'planner', all: true });
    expect(await plannerTables()).toEqual(new Set());
    expect(await enumTypes()).toEqual({});
    expect((await plannerStatus())?.applied).toEqual([]);
    await migrateUp(database.db);
    expect(await snapshot()).toEqual(before);
    expect(await enumTypes()).toEqual(enumsBefore);
    expect((await migrationCheck(database.db)).filter((module) => !module.ok)).toEqual([]);
  });
});
