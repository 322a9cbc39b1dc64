import { migrateDown, migrateUp, migrationCheck, migrationStatus } from '@huddle/db';
import { schemaSnapshot, useTestDatabase } from '@huddle/testing';
import { describe, expect, it } from 'vitest';
import { pokerModule } from '../src/module.ts';
import { POKER_REQUEST_ROLE } from '../src/request-role.ts';
import { useSqlClient } from './helpers.ts';

const MIGRATIONS = [
  'Migration20261121100000PokerInitial',
  'Migration20261121100100PokerParticipants',
  'Migration20261122100000PokerRequestAccess',
  'Migration20261122100100PokerJoinCodes',
  'Migration20261206100000PokerRequestRole',
  'Migration20261206120000PokerDecksAndRounds',
  'Migration20261206140000PokerDeviceLinks',
];
const database = useTestDatabase([pokerModule], { migrated: false });
const postgres = useSqlClient(database);

const snapshot = () => schemaSnapshot(database.db, ['poker']);
const pokerStatus = async () =>
  (await migrationStatus(database.db)).find((module) => module.module === 'poker');
/** The poker tables (the snapshot leaves out the migrations bookkeeping table). */
const pokerTables = async () => new Set((await snapshot()).tables.map((table) => table.name));

/** Privileges of a role on the poker tables, as `table: privilege,…`. */
async function privileges(role: string): Promise<string[]> {
  const result = await postgres.client.query<{ grant: string }>(
    `select table_name || ': ' || string_agg(lower(privilege_type), ',' order by privilege_type) as grant
     from information_schema.role_table_grants
     where table_schema = 'poker' and grantee = $1 group by table_name order by table_name`,
    [role],
  );
  return result.rows.map((row) => row.grant);
}

/** Beyond the seed (Migration20261206140000PokerDeviceLinks): the request role's, the reporting role's none. */
const DEVICE_LINKS_PRIVILEGES = 'device_links: delete,insert,select,update';
const REQUEST_PRIVILEGES = [
  'deck_cards: insert,select',
  'decks: delete,insert,select',
  'past_votes: insert,select',
  'session_participants: delete,insert,select,update',
  'sessions: insert,select,update',
  'stories: delete,insert,select,update',
  'users: insert,select,update',
  'votes: delete,insert,select,update',
];

/** What the request role had before decks and rounds. */
const REQUEST_PRIVILEGES_BEFORE_DECKS = [
  'session_participants: insert,select,update',
  'sessions: insert,select,update',
  'stories: delete,insert,select,update',
  'users: insert,select,update',
  'votes: delete,insert,select,update',
];

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
      new Set([
        'users',
        'sessions',
        'stories',
        'votes',
        'session_participants',
        'decks',
        'deck_cards',
        'past_votes',
        'device_links',
      ]),
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
        'decks_owner_id_builtin_key_unique',
        'deck_cards_position_check',
        'votes_story_id_user_id_unique',
        'session_participants_session_id_user_id_unique',
      ]),
    );
    expect(new Set(names((table) => table.triggers))).toEqual(
      new Set([
        'touch_updated_at',
        'deck_fixed',
        'facilitator_participates',
        'final_points_in_deck',
        'points_in_deck',
      ]),
    );
    const timestampTypes = tables
      .flatMap((table) => table.columns)
      .filter((column) => /_at$|^last_active$/.test(column.name))
      .map((column) => column.shortType);
    expect(new Set(timestampTypes)).toEqual(new Set(['timestamptz']));
  });

  it('grant poker’s request role only what the services need, and application_user (scrum’s) nothing', async () => {
    expect(await privileges(POKER_REQUEST_ROLE)).toEqual(
      [...REQUEST_PRIVILEGES, DEVICE_LINKS_PRIVILEGES].toSorted(),
    );
    expect(await privileges('application_user')).toEqual([]);
    expect(await privileges('read_only_user')).toEqual(
      REQUEST_PRIVILEGES.map((grant) => grant.replace(/:.*/, ': select')),
    );
  });

  it('step down one migration at a time and up again', async () => {
    const before = await snapshot();
    await migrateDown(database.db, { module: 'poker' });
    expect(await pokerTables()).not.toContain('device_links');
    expect(await privileges(POKER_REQUEST_ROLE)).toEqual(REQUEST_PRIVILEGES);
    await migrateDown(database.db, { module: 'poker' });
    expect(await pokerTables()).toEqual(
      new Set(['users', 'sessions', 'stories', 'votes', 'session_participants']),
    );
    await migrateDown(database.db, { module: 'poker' });
    // Before the request role, poker's requests ran as application_user, which had the same privileges.
    expect(await privileges('application_user')).toEqual(REQUEST_PRIVILEGES_BEFORE_DECKS);
    expect(await privileges(POKER_REQUEST_ROLE)).toEqual([]);
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
