import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Database,
  migrateDown,
  migrateUp,
  migrationCheck,
  migrationStatus,
  openDatabase,
} from '../src/index.ts';
import { createTestDatabase, type TestDatabase } from '../src/testing/index.ts';
import { libraryModule } from './fixtures/library.ts';
import { reviewsModule } from './fixtures/reviews.ts';

let testDatabase: TestDatabase;
let db: Database;

beforeAll(async () => {
  testDatabase = await createTestDatabase({ migrated: false });
  db = await openDatabase({
    modules: [reviewsModule, libraryModule],
    target: { kind: 'postgresql', url: testDatabase.url, poolMax: 2 },
  });
});
afterAll(async () => {
  await db?.close();
  await testDatabase?.drop();
});

describe('migrations', () => {
  it('applies the platform, then modules in dependency order', async () => {
    const applied = await migrateUp(db);
    expect(applied.map((result) => result.module)).toEqual(['huddle', 'fixture_library', 'fixture_reviews']);
    expect(applied[2]!.applied).toEqual([
      'Migration20261121000200ReviewsInitial',
      'Migration20261121000300ReviewsBody',
    ]);
    const check = await migrationCheck(db);
    expect(check.map((module) => [module.module, module.ok, module.drift])).toEqual([
      ['huddle', true, []],
      ['fixture_library', true, []],
      ['fixture_reviews', true, []],
    ]);
  });
});
