import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createHuddleClient } from '@huddle/client';
import { domainModules, issueToken } from '@huddle/composition';
import { type Database, migrateUp, openDatabase } from '@huddle/db';
import { useTestDatabase } from '@huddle/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiServer } from '../src/server.ts';
import { createContext } from '../src/trpc.ts';
import { startTestServer, TEST_SECRET } from './helpers.ts';

function expectedModules(db: Database) {
  return db.modules.map((module) => ({
    module: module.name,
    applied: module.migrations.map((migration) => migration.name),
    pending: [],
  }));
}

describe('health on PostgreSQL', () => {
  const database = useTestDatabase(domainModules);
  let server: ApiServer;
  beforeAll(async () => {
    server = await startTestServer(database.db);
  });
  afterAll(() => server?.close());

  it('reports the database reachable and every module migrated, through the typed client', async () => {
    const health = await createHuddleClient(server.url).health.query();
    expect(health).toMatchObject({ status: 'ok', database: { kind: 'postgresql', reachable: true } });
    expect(health.modules).toEqual(expectedModules(database.db));
  });

  it('answers plain HTTP GET, as the README shows', async () => {
    const response = await fetch(`${server.url}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ result: { data: { status: 'ok' } } });
  });

  it('an unknown procedure is NOT_FOUND, not a server error', async () => {
    const response = await fetch(`${server.url}/nope`);
    expect(response.status).toBe(404);
  });

  it('a signed token verifies; a tampered one is refused', async () => {
    const { token } = await issueToken(TEST_SECRET, { module: 'poker', subject: '1' }, '5m');
    expect(token.split('.')).toHaveLength(3);
    const tampered = `${token.slice(0, -2)}xx`;
    const resources = { db: database.db, secret: TEST_SECRET, plannerAccess: { roots: [] } };
    const valid = await createContext(resources, `Bearer ${token}`);
    expect(valid.token).toEqual({ module: 'poker', subject: '1' });
    const invalid = await createContext(resources, `Bearer ${tampered}`);
    expect(invalid.token).toBeNull();
    expect(invalid.authError?.message).toBe('authorization: token is invalid');
  });
});

describe('health on the embedded database', () => {
  let dataDir: string;
  let db: Database;
  let server: ApiServer;
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'huddle-api-pglite-'));
    db = await openDatabase({ modules: domainModules, target: { kind: 'pglite', dataDir } });
    await migrateUp(db);
    server = await startTestServer(db);
  });
  afterAll(async () => {
    await server?.close();
    await db?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('answers health on PGlite', async () => {
    const health = await createHuddleClient(server.url).health.query();
    expect(health).toMatchObject({ status: 'ok', database: { kind: 'pglite', reachable: true } });
    expect(health.modules).toEqual(expectedModules(db));
  });
});
