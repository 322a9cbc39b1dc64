import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { domainModules } from '@huddle/composition';
import { type Database, migrateUp, migrationCheck, openDatabase } from '@huddle/db';
import { useTestDatabase } from '@huddle/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHuddleClient } from '../src/client.ts';
import { startApiServer } from '../src/server.ts';
import { signInLimitsFromEnv } from '../src/sign-in-limits.ts';
import { killApiProcesses, startApiProcess, TEST_SECRET, TEST_SECRET_TEXT } from './helpers.ts';

interface JoinAnswer {
  status: number;
  retryAfterHeader: string | null;
  error?: { data: { code: string; httpStatus: number; retryAfter: number | null } };
}

async function join(url: string, input: { name: string; email?: string }): Promise<JoinAnswer> {
  const response = await fetch(`${url}/poker.join`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(input),
  });
  const body = (await response.json()) as Pick<JoinAnswer, 'error'>;
  return {
    status: response.status,
    retryAfterHeader: response.headers.get('retry-after'),
    error: body.error,
  };
}

function expectLimited(answer: JoinAnswer, windowSeconds: number) {
  expect(answer.status).toBe(429);
  expect(answer.error?.data).toMatchObject({ code: 'TOO_MANY_REQUESTS', httpStatus: 429 });
  const retryAfter = answer.error!.data.retryAfter!;
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(windowSeconds);
  expect(answer.retryAfterHeader).toBe(String(retryAfter));
}

describe('sign-in limits shared by two API processes on one PostgreSQL database', () => {
  const database = useTestDatabase(domainModules);
  const env = () => ({
    DATABASE_URL: database.url,
    HUDDLE_SECRET: TEST_SECRET_TEXT,
    HUDDLE_SIGNIN_LIMIT_PER_IDENTITY: '3',
    HUDDLE_SIGNIN_LIMIT_PER_ADDRESS: '10',
    HUDDLE_SIGNIN_WINDOW_SECONDS: '60',
  });
  let urls: [string, string];
  beforeAll(async () => {
    const [first, second] = await Promise.all([startApiProcess(env()), startApiProcess(env())]);
    urls = [first.url, second.url];
  });
  afterAll(() => killApiProcesses());

  async function userCount(): Promise<number> {
    const [row] = await database.db.orm.em
      .fork()
      .execute<{ count: number }[]>('select count(*)::int as count from poker.users');
    return row!.count;
  }

  it('counts an identity’s attempts across processes, then the address’s, and a limited call creates nothing', async () => {
    const ann = { name: 'Ann', email: 'ann@example.com' };
    expect((await join(urls[0], ann)).status).toBe(200);
    // Taken now: refused, but every attempt counts, whichever process answers it.
    expect((await join(urls[1], ann)).status).toBe(409);
    expect((await join(urls[0], ann)).status).toBe(409);
    expectLimited(await join(urls[1], ann), 60);
    // The same identity however it is written.
    expectLimited(await join(urls[0], { name: 'Ann', email: ' ANN@example.com' }), 60);

    // Five attempts from this address so far; guests (no email) count per address only.
    const users = await userCount();
    for (let n = 0; n < 5; n++) expect((await join(urls[n % 2]!, { name: `Guest ${n}` })).status).toBe(200);
    expect(await userCount()).toBe(users + 5);
    expectLimited(await join(urls[1], { name: 'One too many' }), 60);
    expectLimited(await join(urls[0], { name: 'One too many' }), 60);
    expect(await userCount()).toBe(users + 5);
  });

  it('keeps its counters outside every module: migrate check stays clean and proposes no drop', async () => {
    const [row] = await database.db.orm.em
      .fork()
      .execute<{ rows: number }[]>('select count(*)::int as rows from huddle_api.sign_in_attempts');
    expect(row!.rows).toBeGreaterThan(0);
    const checks = await migrationCheck(database.db);
    expect(checks.map(({ module, drift, ok }) => ({ module, drift, ok }))).toEqual(
      database.db.modules.map((module) => ({ module: module.name, drift: [], ok: true })),
    );
  });
});

describe('sign-in limits on the embedded database (one process holds it: its memory is the shared store)', () => {
  let dataDir: string;
  let db: Database;
  let url: string;
  let close: () => Promise<void>;
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'huddle-api-limits-'));
    db = await openDatabase({ modules: domainModules, target: { kind: 'pglite', dataDir } });
    await migrateUp(db);
    const server = await startApiServer({
      db,
      secret: TEST_SECRET,
      plannerAccess: { roots: [] },
      port: 0,
      host: '127.0.0.1',
      signInLimits: { perIdentity: 2, perAddress: 4, windowSeconds: 30 },
    });
    url = server.url;
    close = () => server.close();
  });
  afterAll(async () => {
    await close?.();
    await db?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('answers TOO_MANY_REQUESTS with retryAfter past the limit, through the typed client too', async () => {
    const client = createHuddleClient(url);
    await client.poker.join.mutate({ name: 'Bo', email: 'bo@example.com' });
    await expect(client.poker.join.mutate({ name: 'Bo', email: 'bo@example.com' })).rejects.toMatchObject({
      data: { code: 'CONFLICT' },
    });
    await expect(client.poker.join.mutate({ name: 'Bo', email: 'bo@example.com' })).rejects.toMatchObject({
      data: { code: 'TOO_MANY_REQUESTS', httpStatus: 429, retryAfter: expect.any(Number) },
    });
    await client.poker.join.mutate({ name: 'Guest' });
    expectLimited(await join(url, { name: 'Guest' }), 30);
  });
});

describe('sign-in limits from the environment', () => {
  it('defaults to 10 per identity and 30 per address a minute, and refuses a non-positive limit', () => {
    expect(signInLimitsFromEnv({})).toEqual({ perIdentity: 10, perAddress: 30, windowSeconds: 60 });
    expect(() => signInLimitsFromEnv({ HUDDLE_SIGNIN_LIMIT_PER_ADDRESS: '0' })).toThrow(
      'HUDDLE_SIGNIN_LIMIT_PER_ADDRESS: Too small: expected number to be >0',
    );
  });
});
