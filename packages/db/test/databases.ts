import { afterAll } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../testing/src/index.ts';
import { type Database, type DomainModule, migrateUp, openDatabase } from '../src/index.ts';

/**
 * For test files that need several databases: each call gives a new database on the test server with
 * `modules` migrated, opened; all are closed and dropped after the file.
 */
export function useMigratedDatabases(): (modules: readonly DomainModule[]) => Promise<Database> {
  const opened: { database: TestDatabase; db: Database }[] = [];
  afterAll(async () => {
    for (const { db, database } of opened) {
      await db.close();
      await database.drop();
    }
  });
  return async (modules) => {
    const database = await createTestDatabase({ migrated: false });
    const db = await openDatabase({ modules, target: { kind: 'postgresql', url: database.url, poolMax: 4 } });
    opened.push({ database, db });
    await migrateUp(db);
    return db;
  };
}
