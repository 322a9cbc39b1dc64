import { migrateDown, migrateUp, migrationCheck, migrationStatus } from '@huddle/db';
import { schemaSnapshot, useTestDatabase } from '@huddle/db/testing';
import { describe, expect, it } from 'vitest';
import { pokerModule } from '../src/module.ts';

const MIGRATIONS = ['Migration20261121100000PokerInitial', 'Migration20261121100100PokerParticipants'];
const database = useTestDatabase([pokerModule], { migrated: false });

const snapshot = () => schemaSnapshot(database.url, ['poker']);
const pokerStatus = async () =>
  (await migrationStatus(database.db)).find((module) => module.module === 'poker');
/** One kind of catalog row of a snapshot (columns, constraints, indexes…), as text fields. */
function catalogRows(schema: Record<string, unknown[]>, kind: string): Record<string, string>[] {
  const rows = schema[kind];
  if (!rows) throw new Error(`schemaSnapshot has no ${kind}`);
  return rows as Record<string, string>[];
}
/** The poker tables (the snapshot leaves out the migrations bookkeeping table). */
const pokerTables = async () =>
  new Set(catalogRows(await snapshot(), 'columns').map((column) => column.table_name));

describe('poker migrations', () => {
  it('apply in order on an empty database and leave no drift between entities and schema', async () => {
    const applied = await migrateUp(database.db);
    expect(applied.find((module) => module.module === 'poker')?.applied).toEqual(MIGRATIONS);
    const check = await migrationCheck(database.db);
    expect(check.map(({ module, ok, drift, pending }) => ({ module, ok, drift, pending }))).toEqual([
      { module: 'huddle', ok: true, drift: [], pending: [] },
      { module: 'poker', ok: true, drift: [], pending: [] },
    ]);
  });

  it('create the seed’s names: tables, indexes, checks, the unique pairs and the trigger', async () => {
    const schema = await snapshot();
    const names = (kind: string, key: string) => catalogRows(schema, kind).map((row) => row[key]);
    expect(await pokerTables()).toEqual(
      new Set(['users', 'sessions', 'stories', 'votes', 'session_participants']),
    );
    expect(names('indexes', 'indexname')).toEqual(
      expect.arrayContaining([
        'idx_sessions_facilitator',
        'idx_stories_session',
        'idx_votes_story',
        'idx_votes_user',
        'stories_one_voting_per_session',
        'session_participants_user_id_index',
      ]),
    );
    expect(names('constraints', 'conname')).toEqual(
      expect.arrayContaining([
        'check_status',
        'check_story_status',
        'check_points_format',
        'stories_final_points_check',
        'votes_story_id_user_id_unique',
        'session_participants_session_id_user_id_unique',
      ]),
    );
    expect(names('triggers', 'trigger_name')).toEqual(['touch_updated_at']);
    const timestampTypes = catalogRows(schema, 'columns')
      .filter((column) => /_at$|^last_active$/.test(column.column_name ?? ''))
      .map((column) => column.udt_name);
    expect(new Set(timestampTypes)).toEqual(new Set(['timestamptz']));
  });

  it('step down one migration and up again', async () => {
    const before = await snapshot();
    const reverted = await migrateDown(database.db, { module: 'poker' });
    expect(reverted).toEqual([{ module: 'poker', applied: [], pending: [MIGRATIONS[1]] }]);
    expect(await pokerTables()).toEqual(new Set(['users', 'sessions', 'stories', 'votes']));
    expect((await pokerStatus())?.applied).toEqual([MIGRATIONS[0]]);
    await migrateUp(database.db, { module: 'poker' });
    expect(await snapshot()).toEqual(before);
  });

  it('go all the way down and up again to the identical schema', async () => {
    const before = await snapshot();
    await migrateDown(database.db, { module: 'poker', all: true });
    expect(await pokerTables()).toEqual(new Set());
    expect((await pokerStatus())?.applied).toEqual([]);
    await migrateUp(database.db);
    expect(await snapshot()).toEqual(before);
    expect((await migrationCheck(database.db)).every((module) => module.ok)).toBe(true);
  });
});
