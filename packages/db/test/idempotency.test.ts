import { afterAll, beforeAll, describe, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../testing/src/index.ts';
import { type Database, migrateUp, openDatabase } from '../src/index.ts';
import { expectIdempotentCalls } from './fixtures/idempotency.ts';

let database: TestDatabase;
let db: Database;

beforeAll(async () => {
  database = await createTestDatabase({ migrated: false });
  db = await openDatabase({ modules: [], target: { kind: 'postgresql', url: database.url, poolMax: 2 } });
  await migrateUp(db);
});
afterAll(async () => {
  await db?.close();
  await database?.drop();
});

describe('idempotency keys on PostgreSQL', () => {
  it('store a result once per actor and key, replay it, refuse other input, and expire', () =>
    expectIdempotentCalls(db));
});
