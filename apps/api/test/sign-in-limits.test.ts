import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createHuddleClient } from '@huddle/client';
import { domainModules } from '@huddle/composition';
import { type Database, migrateUp, openDatabase } from '@huddle/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiServer } from '../src/server.ts';
import { signInLimitsFromEnv } from '../src/sign-in-limits.ts';
import { expectLimited, join, TEST_LOGGER, TEST_SECRET } from './helpers.ts';

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
      logger: TEST_LOGGER,
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
