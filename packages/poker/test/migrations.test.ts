import { migrateDown, migrateUp, migrationCheck, migrationStatus } from '@huddle/db';
import { schemaSnapshot, useTestDatabase } from '@huddle/testing';
import { describe, expect, it } from 'vitest';
import { pokerModule } from '../src/module.ts';

const MIGRATIONS = [
  'Migration20261121100000PokerInitial',
  'Migration20261121100100PokerParticipants',
  'Migration20261122100000PokerRequestAccess',
  'Migration20261122100100PokerJoinCodes',
];
const database = useTestDatabase([pokerModule], { migrated: false });

const snapshot = () => schemaSnapshot(database.db, ['poker']);
const pokerStatus = async () =>
  (await migrationStatus(database.db)).find((module) => module.module === 'poker');
/** The poker tables (the snapshot leaves out the migrations bookkeeping table). */
const pokerTables = async () => new Set((await snapshot()).tables.map((table) => table.name));

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
    const { tables } = await snapshot();
    /** Names of the tables' indexes, constraints or triggers. */
    const names = (pick: (table: (typeof tables)[number]) => { name: string }[]) =>
      tables.flatMap(pick).map((item) => item.name);
    expect(await pokerTables()).toEqual(
      new Set(['users', 'sessions', 'stories', 'votes', 'session_participants']),
    );
    expect(names((table) => table.indexes)).toEqual(
      expect.arrayContaining([
        'idx_sessions_facilitator',
        'idx_stories_session',
        'idx_votes_story',
        'idx_votes_user',
        'stories_one_voting_per_session',
        'session_participants_user_id_index',
      ]),
    );
    expect(names((table) => [...table.constraints, ...table.foreignKeys])).toEqual(
      expect.arrayContaining([
        'check_status',
        'check_story_status',
        'check_points_format',
        'stories_final_points_check',
        'votes_story_id_user_id_unique',
        'session_participants_session_id_user_id_unique',
      ]),
    );
    expect(names((table) => table.triggers)).toEqual(['touch_updated_at']);
    const timestampTypes = tables
      .flatMap((table) => table.columns)
      .filter((column) => /_at$|^last_active$/.test(column.name))
      .map((column) => column.shortType);
    expect(new Set(timestampTypes)).toEqual(new Set(['timestamptz']));
  });

  it('step down one migration at a time and up again', async () => {
    const before = await snapshot();
    await migrateDown(database.db, { module: 'poker' });
    await migrateDown(database.db, { module: 'poker' });
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
    expect((await migrationCheck(database.db)).filter((module) => !module.ok)).toEqual([]);
  });
});
