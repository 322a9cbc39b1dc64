import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createHuddleClient } from '@huddle/client';
import { domainModules, issueSessionToken } from '@huddle/composition';
import { type Database, ModuleResources, openDatabase, sessionPolicyFromEnv } from '@huddle/db';
import { useTestDatabase } from '@huddle/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { opsTokenFromEnv } from '../src/operator.ts';
import type { ApiServer } from '../src/server.ts';
import { createContext } from '../src/trpc.ts';
import { startTestServer, TEST_SECRET } from './helpers.ts';

const OPS_TOKEN = 'an-operators-token-of-thirty-two-characters';

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
    server = await startTestServer(database.db, [], { opsToken: OPS_TOKEN });
  });
  afterAll(() => server?.close());

  it('tells an operator the database is reachable and every module migrated, through the typed client', async () => {
    const health = await createHuddleClient(server.url, OPS_TOKEN).health.query();
    expect(health).toEqual({
      status: 'ok',
      database: { kind: 'postgresql', reachable: true, latencyMs: expect.any(Number) },
      modules: expectedModules(database.db),
    });
  });

  it('tells anyone else only the status: no migrations, no database details', async () => {
    const { token: pokerToken } = await issueSessionToken(
      database.db,
      TEST_SECRET,
      { module: 'poker', subject: '1' },
      '5m',
    );
    for (const token of [undefined, pokerToken, `${OPS_TOKEN}x`, OPS_TOKEN.slice(0, -1)]) {
      expect(await createHuddleClient(server.url, token).health.query()).toEqual({ status: 'ok' });
    }
  });

  it('answers plain HTTP GET, as the README shows', async () => {
    const response = await fetch(`${server.url}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ result: { data: { status: 'ok' } } });
    const operator = await fetch(`${server.url}/health`, {
      headers: { authorization: `Bearer ${OPS_TOKEN}` },
    });
    expect(await operator.json()).toMatchObject({
      result: { data: { status: 'ok', modules: expect.any(Array) } },
    });
  });

  it('an unknown procedure is NOT_FOUND, not a server error', async () => {
    const response = await fetch(`${server.url}/nope`);
    expect(response.status).toBe(404);
  });

  it('a signed token verifies; a tampered one is refused', async () => {
    const { token } = await issueSessionToken(
      database.db,
      TEST_SECRET,
      { module: 'poker', subject: '1' },
      '5m',
    );
    expect(token.split('.')).toHaveLength(3);
    const tampered = `${token.slice(0, -2)}xx`;
    const resources = {
      db: database.db,
      secret: TEST_SECRET,
      moduleResources: await ModuleResources.fromEnv(database.db.modules, { HUDDLE_PLANNER_ROOTS: '' }),
      opsToken: OPS_TOKEN,
      sessionPolicy: sessionPolicyFromEnv({}),
    };
    const valid = await createContext(resources, `Bearer ${token}`);
    expect(valid.token).toMatchObject({ module: 'poker', subject: '1', readOnly: false });
    const invalid = await createContext(resources, `Bearer ${tampered}`);
    expect(invalid.token).toBeNull();
    expect(invalid.authError?.message).toBe('authorization: token is invalid');
    expect([valid.operator, invalid.operator]).toEqual([false, false]);
    const operator = await createContext(resources, `Bearer ${OPS_TOKEN}`);
    expect(operator).toMatchObject({ token: null, authError: null, operator: true });
  });
});

describe('the operators’ token', () => {
  it('is read from HUDDLE_OPS_TOKEN; unset is nobody; a short one is refused, naming the variable', () => {
    expect(opsTokenFromEnv({})).toBeUndefined();
    expect(opsTokenFromEnv({ HUDDLE_OPS_TOKEN: OPS_TOKEN })).toBe(OPS_TOKEN);
    expect(() => opsTokenFromEnv({ HUDDLE_OPS_TOKEN: 'short' })).toThrow(
      'HUDDLE_OPS_TOKEN: must be at least 32 characters',
    );
  });
});

describe('health on the embedded database', () => {
  let dataDir: string;
  let db: Database;
  let server: ApiServer;
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'huddle-api-pglite-'));
    // A copy of the migrated template, as `pnpm start` makes: initdb and the migrations are tested elsewhere.
    db = await openDatabase({
      modules: domainModules,
      target: { kind: 'pglite', dataDir },
      create: 'migrated',
    });
    server = await startTestServer(db, [], { opsToken: OPS_TOKEN });
  });
  afterAll(async () => {
    await server?.close();
    await db?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('answers health on PGlite: the status to anyone, the details to an operator', async () => {
    expect(await createHuddleClient(server.url).health.query()).toEqual({ status: 'ok' });
    const health = await createHuddleClient(server.url, OPS_TOKEN).health.query();
    expect(health).toEqual({
      status: 'ok',
      database: { kind: 'pglite', reachable: true, latencyMs: expect.any(Number) },
      modules: expectedModules(db),
    });
  });
});
