import { lintSchema, migrateDown, migrateUp, migrationCheck, migrationStatus } from '@huddle/db';
import { schemaSnapshot, useTestDatabase } from '@huddle/testing';
import { describe, expect, it } from 'vitest';
import { decisionsModule } from '../src/module.ts';

const MIGRATIONS = [
  'Migration20261122200000DecisionsInitial',
  'Migration20261122200100DecisionsRequestAccess',
];
const TABLES = ['users', 'projects', 'project_members', 'transcripts', 'decisions', 'decision_relationships'];
const database = useTestDatabase([decisionsModule], { migrated: false });

const snapshot = () => schemaSnapshot(database.db, ['decisions']);
const decisionsStatus = async () =>
  (await migrationStatus(database.db)).find((module) => module.module === 'decisions');
const decisionsTables = async () => new Set((await snapshot()).tables.map((table) => table.name));

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
    expect(await decisionsTables()).toEqual(new Set(TABLES));
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
        'idx_decision_relationships_to',
        'idx_decision_relationships_created_by',
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
    expect(names((table) => table.triggers)).toEqual([
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

  it('step down one migration (the grants) and up again to the identical schema', async () => {
    const before = await snapshot();
    const reverted = await migrateDown(database.db, { module: 'decisions' });
    expect(reverted).toEqual([{ module: 'decisions', applied: [], pending: [MIGRATIONS[1]] }]);
    expect((await decisionsStatus())?.applied).toEqual([MIGRATIONS[0]]);
    await migrateUp(database.db, { module: 'decisions' });
    expect(await snapshot()).toEqual(before);
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
  it('give application_user exactly the privileges the services need, and read_only_user select', async () => {
    const { rows } = await database.db.orm.em
      .getConnection()
      .execute<{ grantee: string; table_name: string; privileges: string }[]>(
        `select grantee, table_name, string_agg(lower(privilege_type), ',' order by privilege_type) as privileges
         from information_schema.role_table_grants
         where table_schema = 'decisions' and grantee in ('application_user', 'read_only_user')
         group by grantee, table_name order by grantee, table_name`,
        [],
        'all',
      )
      .then((result) => ({ rows: result }));
    expect(rows).toEqual([
      { grantee: 'application_user', table_name: 'decision_relationships', privileges: 'insert,select' },
      { grantee: 'application_user', table_name: 'decisions', privileges: 'insert,select,update' },
      {
        grantee: 'application_user',
        table_name: 'project_members',
        privileges: 'delete,insert,select,update',
      },
      { grantee: 'application_user', table_name: 'projects', privileges: 'insert,select,update' },
      { grantee: 'application_user', table_name: 'transcripts', privileges: 'insert,select' },
      { grantee: 'application_user', table_name: 'users', privileges: 'insert,select,update' },
      ...TABLES.toSorted().map((table) => ({
        grantee: 'read_only_user',
        table_name: table,
        privileges: 'select',
      })),
    ]);
  });
});
