import { lintSchema, migrateDown, migrateUp, migrationCheck, migrationStatus } from '@huddle/db';
import { schemaSnapshot, useTestDatabase } from '@huddle/testing';
import { describe, expect, it } from 'vitest';
import { decisionsModule } from '../src/module.ts';
import { DECISIONS_REQUEST_ROLE } from '../src/request-role.ts';

const MIGRATIONS = [
  'Migration20261122200000DecisionsInitial',
  'Migration20261122200100DecisionsRequestAccess',
  'Migration20261206070000DecisionsProjectNamePerCreator',
  'Migration20261206100000DecisionsRequestRole',
  'Migration20261206120000DecisionsLog',
  'Migration20261206120000DecisionsProposalTitleKey',
  'Migration20261206140000DecisionsPasswordResets',
];
const TABLES = [
  'users',
  'projects',
  'project_members',
  'transcripts',
  'decisions',
  'decision_relationships',
  'decision_revisions',
];
const database = useTestDatabase([decisionsModule], { migrated: false });

const snapshot = () => schemaSnapshot(database.db, ['decisions']);
const decisionsStatus = async () =>
  (await migrationStatus(database.db)).find((module) => module.module === 'decisions');
const decisionsTables = async () => new Set((await snapshot()).tables.map((table) => table.name));

const REQUEST_GRANTS = (grantee: string, passwordResets = false) => [
  { grantee, table_name: 'decision_relationships', privileges: 'insert,select' },
  { grantee, table_name: 'decision_revisions', privileges: 'select' },
  { grantee, table_name: 'decisions', privileges: 'insert,select,update' },
  ...(passwordResets
    ? [{ grantee, table_name: 'password_resets', privileges: 'delete,insert,select,update' }]
    : []),
  { grantee, table_name: 'project_members', privileges: 'delete,insert,select,update' },
  { grantee, table_name: 'projects', privileges: 'insert,select,update' },
  { grantee, table_name: 'transcripts', privileges: 'insert,select' },
  { grantee, table_name: 'users', privileges: 'insert,select,update' },
];
const READ_ONLY_GRANTS = (tables: string[]) =>
  tables.toSorted().map((table) => ({ grantee: 'read_only_user', table_name: table, privileges: 'select' }));

/**
 * Table privileges on the decisions tables of the request roles and `read_only_user`, and the columns of
 * `users` that `read_only_user` may read through column grants.
 */
async function grants() {
  const connection = database.db.orm.em.getConnection();
  const tables = await connection.execute<{ grantee: string; table_name: string; privileges: string }[]>(
    `select grantee, table_name, string_agg(lower(privilege_type), ',' order by privilege_type) as privileges
     from information_schema.role_table_grants
     where table_schema = 'decisions' and grantee in (?, 'application_user', 'read_only_user')
     group by grantee, table_name order by grantee, table_name`,
    [DECISIONS_REQUEST_ROLE],
    'all',
  );
  const columns = await connection.execute<{ column_name: string }[]>(
    `select column_name from information_schema.column_privileges
     where table_schema = 'decisions' and table_name = 'users' and grantee = 'read_only_user'
       and privilege_type = 'SELECT'
       and not exists (select from information_schema.role_table_grants t
                       where t.table_schema = 'decisions' and t.table_name = 'users'
                         and t.grantee = 'read_only_user' and t.privilege_type = 'SELECT')
     order by column_name`,
    [],
    'all',
  );
  return { tables, readOnlyUserColumns: columns.map((row) => row.column_name) };
}

describe('decisions migrations', () => {
  it('apply in order on an empty database and leave no drift between entities and schema', async () => {
    const applied = await migrateUp(database.db);
    expect(applied.find((module) => module.module === 'decisions')?.applied).toEqual(MIGRATIONS);
    const check = await migrationCheck(database.db);
    expect(check.map(({ module, ok, drift, pending }) => ({ module, ok, drift, pending }))).toEqual([
      { module: 'huddle', ok: true, drift: [], pending: [] },
      { module: 'decisions', ok: true, drift: [], pending: [] },
    ]);
  });

  it('create the spec’s names: tables, indexes (partial, expression, GIN, HNSW), checks and triggers', async () => {
    const { tables } = await snapshot();
    const names = (pick: (table: (typeof tables)[number]) => { name: string }[]) =>
      tables.flatMap(pick).map((item) => item.name);
    expect(await decisionsTables()).toEqual(new Set([...TABLES, 'password_resets']));
    expect(names((table) => table.indexes)).toEqual(
      expect.arrayContaining([
        'users_email_active_unique',
        'projects_name_live_unique',
        'idx_projects_created_by',
        'idx_project_members_user',
        'idx_transcripts_project_meeting',
        'idx_transcripts_participants_gin',
        'idx_decisions_project_status_decided',
        'idx_decisions_project',
        'idx_decisions_transcript',
        'idx_decisions_embedding_hnsw',
        'decisions_proposal_title_key_unique',
        'idx_decisions_project_title_key',
        'idx_decision_relationships_to',
        'idx_decision_relationships_created_by',
        'idx_decisions_search',
        'idx_decision_revisions_changed_by',
      ]),
    );
    expect(names((table) => [...table.constraints, ...table.foreignKeys])).toEqual(
      expect.arrayContaining([
        'users_role_check',
        'project_members_role_check',
        'transcripts_source_check',
        'transcripts_participants_check',
        'transcripts_webhook_id_unique',
        'decisions_status_check',
        'decisions_confidence_check',
        'decision_relationships_kind_check',
        'decision_relationships_not_self',
        'decision_relationships_from_decision_id_to_decision_id_kind_key',
      ]),
    );
    expect(names((table) => table.triggers).toSorted()).toEqual([
      'record_revision',
      'touch_updated_at',
      'touch_updated_at',
      'touch_updated_at',
    ]);
    const timestampTypes = tables
      .flatMap((table) => table.columns)
      .filter((column) => /_at$/.test(column.name))
      .map((column) => column.shortType);
    expect(new Set(timestampTypes)).toEqual(new Set(['timestamptz']));
  });

  it('pass the schema lint: every foreign key indexed, timestamptz, primary keys, no redundant index', async () => {
    // The platform's pgvector-in-public finding is the repository allow list's to keep quiet.
    expect((await lintSchema(database.db)).filter((finding) => finding.module === 'decisions')).toEqual([]);
  });

  it('step down one migration at a time (password resets, proposal title keys, the log, the request role, then project names per creator) and up again to the identical schema', async () => {
    const before = await snapshot();
    const grantsBefore = await grants();
    await migrateDown(database.db, { module: 'decisions' });
    expect(await decisionsTables()).toEqual(new Set(TABLES));
    await migrateDown(database.db, { module: 'decisions' });
    const indexes = (await snapshot()).tables.flatMap((table) => table.indexes).map((index) => index.name);
    expect(indexes).not.toContain('decisions_proposal_title_key_unique');
    expect(indexes).not.toContain('idx_decisions_project_title_key');
    await migrateDown(database.db, { module: 'decisions' });
    // Before the log: no revisions, no search index, no record_revision trigger.
    const beforeLog = TABLES.filter((table) => table !== 'decision_revisions');
    expect(await decisionsTables()).toEqual(new Set(beforeLog));
    const { tables } = await snapshot();
    expect(
      tables.flatMap((table) => [...table.indexes, ...table.triggers]).map((item) => item.name),
    ).not.toEqual(expect.arrayContaining(['idx_decisions_search']));
    expect(tables.flatMap((table) => table.triggers.map((trigger) => trigger.name))).not.toContain(
      'record_revision',
    );
    await migrateDown(database.db, { module: 'decisions' });
    // Before the request role, decisions' requests ran as application_user, with the same privileges.
    expect(await grants()).toEqual({
      tables: REQUEST_GRANTS('application_user')
        .filter((grant) => grant.table_name !== 'decision_revisions')
        .concat(READ_ONLY_GRANTS(beforeLog)),
      readOnlyUserColumns: [],
    });
    const reverted = await migrateDown(database.db, { module: 'decisions' });
    expect(reverted).toEqual([{ module: 'decisions', applied: [], pending: [MIGRATIONS[2]] }]);
    expect((await decisionsStatus())?.applied).toEqual(MIGRATIONS.slice(0, 2));
    await migrateUp(database.db, { module: 'decisions' });
    expect(await snapshot()).toEqual(before);
    expect(await grants()).toEqual(grantsBefore);
  });

  it('go all the way down and up again to the identical schema', async () => {
    const before = await snapshot();
    await migrateDown(database.db, { module: 'decisions', all: true });
    expect(await decisionsTables()).toEqual(new Set());
    expect((await decisionsStatus())?.applied).toEqual([]);
    await migrateUp(database.db);
    expect(await snapshot()).toEqual(before);
    expect((await migrationCheck(database.db)).filter((module) => !module.ok)).toEqual([]);
  });
});

describe('decisions request grants', () => {
  it('give decisions’ request role exactly what the services need, application_user (scrum’s) nothing, and read_only_user select without password hashes', async () => {
    expect(await grants()).toEqual({
      tables: REQUEST_GRANTS(DECISIONS_REQUEST_ROLE, true).concat(
        READ_ONLY_GRANTS(TABLES.filter((table) => table !== 'users')),
      ),
      readOnlyUserColumns: ['created_at', 'deleted_at', 'email', 'id', 'name', 'role', 'updated_at'],
    });
  });
});
