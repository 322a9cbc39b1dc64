import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestDatabase,
  schemaSnapshot,
  type TestDatabase,
  useTestDatabase,
} from '../../testing/src/index.ts';
import {
  type Database,
  migrateDown,
  migrateUp,
  migrationCheck,
  migrationStatus,
  openDatabase,
} from '../src/index.ts';
import { driftingModule } from './fixtures/drifting.ts';
import { libraryModule } from './fixtures/library.ts';
import { reviewsModule } from './fixtures/reviews.ts';

const SCHEMAS = ['huddle', 'fixture_library', 'fixture_reviews'];
// Listed out of order on purpose: dependsOn decides the order.
const database = useTestDatabase([reviewsModule, libraryModule], { migrated: false });

describe('migration orchestration', () => {
  it('reports everything pending on an empty database', async () => {
    const status = await migrationStatus(database.db);
    expect(status).toEqual([
      {
        module: 'huddle',
        applied: [],
        pending: [
          'Migration20261121000000PlatformBase',
          'Migration20261122000000PlatformRolesAndJobs',
          'Migration20261206000000PlatformIdempotencyKeys',
          'Migration20261206120000PlatformSessions',
        ],
      },
      { module: 'fixture_library', applied: [], pending: ['Migration20261121000100LibraryInitial'] },
      {
        module: 'fixture_reviews',
        applied: [],
        pending: ['Migration20261121000200ReviewsInitial', 'Migration20261121000300ReviewsBody'],
      },
    ]);
    const check = await migrationCheck(database.db);
    expect(check.every((module) => !module.ok)).toBe(true);
  });

  it('applies the platform, then modules in dependency order, each with its own migrations table', async () => {
    const applied = await migrateUp(database.db);
    expect(applied.map((result) => [result.module, result.applied.length])).toEqual([
      ['huddle', 4],
      ['fixture_library', 1],
      ['fixture_reviews', 2],
    ]);
    const tables = await database.db.orm.em
      .fork()
      .execute<{ table_schema: string }[]>(
        "select table_schema from information_schema.tables where table_name = 'mikro_orm_migrations' order by 1",
      );
    expect(tables.map((row) => row.table_schema)).toEqual(['fixture_library', 'fixture_reviews', 'huddle']);
    const check = await migrationCheck(database.db);
    expect(check.map((module) => [module.module, module.ok, module.drift])).toEqual([
      ['huddle', true, []],
      ['fixture_library', true, []],
      ['fixture_reviews', true, []],
    ]);
    expect(await migrateUp(database.db)).toEqual(
      SCHEMAS.map((module) => ({ module, applied: [], pending: [] })),
    );
  });

  it('steps one migration down and up again', async () => {
    const reverted = await migrateDown(database.db, { module: 'fixture_reviews' });
    expect(reverted).toEqual([
      { module: 'fixture_reviews', applied: [], pending: ['Migration20261121000300ReviewsBody'] },
    ]);
    const status = await migrationStatus(database.db);
    expect(status[2]).toEqual({
      module: 'fixture_reviews',
      applied: ['Migration20261121000200ReviewsInitial'],
      pending: ['Migration20261121000300ReviewsBody'],
    });
    const columns = await database.db.orm.em
      .fork()
      .execute<{ column_name: string }[]>(
        "select column_name from information_schema.columns where table_schema = 'fixture_reviews' and table_name = 'reviews'",
      );
    expect(columns.map((row) => row.column_name)).not.toContain('body');
    await migrateUp(database.db, { module: 'fixture_reviews' });
    expect((await migrationCheck(database.db)).every((module) => module.ok)).toBe(true);
  });

  it('up → down → up across both modules leaves an identical schema', async () => {
    const before = await schemaSnapshot(database.db, SCHEMAS);
    expect(before.tables.flatMap((table) => table.indexes)).toContainEqual(
      expect.objectContaining({
        name: 'books_embedding_hnsw',
        definition: expect.stringContaining('hnsw'),
      }),
    );
    const reverted = await migrateDown(database.db, { module: 'fixture_library', all: true });
    // Dependents go first.
    expect(reverted.map((result) => result.module)).toEqual(['fixture_reviews', 'fixture_library']);
    const empty = await schemaSnapshot(database.db, ['fixture_library', 'fixture_reviews']);
    expect(empty.tables).toEqual([]);
    await migrateUp(database.db);
    expect(await schemaSnapshot(database.db, SCHEMAS)).toEqual(before);
  });

  it('migrating down everything removes the platform extension last', async () => {
    await migrateDown(database.db, { all: true });
    const status = await migrationStatus(database.db);
    expect(status.every((module) => module.applied.length === 0)).toBe(true);
    const extensions = await database.db.orm.em
      .fork()
      .execute<{ extname: string }[]>("select extname from pg_extension where extname = 'vector'");
    expect(extensions).toEqual([]);
    await migrateUp(database.db);
  });
});

describe('migrationCheck on a module whose entities drift from its migrations', () => {
  const drifting = useTestDatabase([driftingModule], { migrated: false });
  beforeAll(() => migrateUp(drifting.db));

  it('fails the module and shows the SQL its entities still need', async () => {
    const check = await migrationCheck(drifting.db);
    const module = check.find((candidate) => candidate.module === 'fixture_drifting')!;
    expect(module.ok).toBe(false);
    expect(module.pending).toEqual([]);
    expect(module.drift.join('\n')).toMatch(/add "pinned" boolean not null default false/);
  });
});

describe('several processes migrating one database at once (API processes starting together)', () => {
  let empty: TestDatabase;
  const handles: Database[] = [];
  beforeAll(async () => {
    empty = await createTestDatabase({ migrated: false });
    for (let n = 0; n < 2; n++) {
      handles.push(
        await openDatabase({
          modules: [reviewsModule, libraryModule],
          target: { kind: 'postgresql', url: empty.url, poolMax: 2 },
        }),
      );
    }
  });
  afterAll(async () => {
    for (const handle of handles) await handle.close();
    await empty?.drop();
  });

  it('take turns: one applies every migration, the other finds nothing pending', async () => {
    const [first, second] = await Promise.all(handles.map((handle) => migrateUp(handle)));
    const appliedCount = (results: typeof first) =>
      results!.reduce((count, result) => count + result.applied.length, 0);
    expect([appliedCount(first), appliedCount(second)].sort()).toEqual([0, 7]);
    expect((await migrationStatus(handles[0]!)).every((module) => module.pending.length === 0)).toBe(true);
  });
});
