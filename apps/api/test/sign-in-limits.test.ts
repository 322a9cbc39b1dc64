import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createHuddleClient } from '@huddle/client';
import { domainModules } from '@huddle/composition';
import { type Database, ModuleResources, openDatabase, seed } from '@huddle/db';
import { useTestDatabase } from '@huddle/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trustedProxiesFromEnv } from '../src/client-address.ts';
import { type ApiServer, startApiServer } from '../src/server.ts';
import { createSignInLimiter, SignInRateLimitedError, signInLimitsFromEnv } from '../src/sign-in-limits.ts';
import { expectLimited, join, TEST_LOGGER, TEST_SECRET } from './helpers.ts';

describe('sign-in limits on the embedded database (one process holds it: its memory is the shared store)', () => {
  let dataDir: string;
  let db: Database;
  let url: string;
  let close: () => Promise<void>;
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'huddle-api-limits-'));
    // A copy of the migrated template, as `pnpm start` makes: initdb and the migrations are tested elsewhere.
    db = await openDatabase({
      modules: domainModules,
      target: { kind: 'pglite', dataDir },
      create: 'migrated',
    });
    const server = await startApiServer({
      db,
      secret: TEST_SECRET,
      moduleResources: await ModuleResources.fromEnv(db.modules, { HUDDLE_PLANNER_ROOTS: '' }),
      port: 0,
      host: '127.0.0.1',
      logger: TEST_LOGGER,
      signInLimits: {
        perAddress: 4,
        perIdentityAndAddress: 2,
        perIdentity: 100,
        windowSeconds: 30,
        identityWindowSeconds: 60,
      },
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

  // Before: the 90-day mark of a usual address was a memory timer past Node's longest (about 24.8 days),
  // which Node fires after 1 ms instead, so the embedded database forgot every usual address at once.
  it('keeps an identity’s usual address in memory, so it never spends the identity’s budget', async () => {
    const limiter = await createSignInLimiter(db, {
      perAddress: 100,
      perIdentityAndAddress: 100,
      perIdentity: 1,
      windowSeconds: 60,
      identityWindowSeconds: 60,
    });
    try {
      await limiter.attempt('192.0.2.1', 'ann@example.com');
      await limiter.succeeded('192.0.2.1', 'ann@example.com');
      await new Promise((resolve) => setTimeout(resolve, 20));
      await limiter.attempt('192.0.2.1', 'ann@example.com');
      await expect(limiter.attempt('192.0.2.2', 'ann@example.com')).rejects.toBeInstanceOf(
        SignInRateLimitedError,
      );
    } finally {
      await limiter.close();
    }
  });
});

describe('sign-in limits from the environment', () => {
  it('defaults to 30 per address and 10 per identity and address a minute, 100 per identity an hour', () => {
    expect(signInLimitsFromEnv({})).toEqual({
      perAddress: 30,
      perIdentityAndAddress: 10,
      perIdentity: 100,
      windowSeconds: 60,
      identityWindowSeconds: 3600,
    });
    expect(() => signInLimitsFromEnv({ HUDDLE_SIGNIN_LIMIT_PER_ADDRESS: '0' })).toThrow(
      'HUDDLE_SIGNIN_LIMIT_PER_ADDRESS: Too small: expected number to be >0',
    );
  });
});

describe('sign-in limits against strangers, behind a trusted proxy', () => {
  const database = useTestDatabase(domainModules);
  let server: ApiServer;
  const limits = {
    perAddress: 30,
    perIdentityAndAddress: 3,
    perIdentity: 5,
    windowSeconds: 60,
    identityWindowSeconds: 600,
  };
  beforeAll(async () => {
    await seed(database.db, 'minimal', { module: 'decisions' });
    server = await startApiServer({
      db: database.db,
      secret: TEST_SECRET,
      moduleResources: await ModuleResources.fromEnv(database.db.modules, { HUDDLE_PLANNER_ROOTS: '' }),
      port: 0,
      host: '127.0.0.1',
      logger: TEST_LOGGER,
      signInLimits: limits,
      trustedProxies: trustedProxiesFromEnv({ HUDDLE_TRUSTED_PROXIES: '127.0.0.1, ::1' }),
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  /** A decisions sign-in through the proxy for a client at `address` (the proxy appends the peer it saw). */
  async function signInFrom(address: string, password: string, forwardedFor = address) {
    const response = await fetch(`${server.url}/decisions.auth.signIn`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': forwardedFor },
      body: JSON.stringify({ email: 'test@example.com', password }),
    });
    const body = (await response.json()) as { error?: { data: { code: string } } };
    return body.error?.data.code ?? String(response.status);
  }

  // Before: one counter per identity for every address, so ten strangers' guesses locked the owner out.
  it('never locks the owner out of their usual address, whatever strangers elsewhere try', async () => {
    expect(await signInFrom('198.51.100.7', 'password')).toBe('200');
    const strangers: string[] = [];
    for (let stranger = 1; stranger <= 12; stranger++) {
      strangers.push(await signInFrom(`203.0.113.${stranger}`, 'guess'));
    }
    // Each stranger's own address is fine; the account's budget for unknown addresses (which the owner's
    // first sign-in, from an address not yet usual, spent one of) runs out.
    const budget = limits.perIdentity - 1;
    expect(strangers.slice(0, budget)).toEqual(Array(budget).fill('UNAUTHORIZED'));
    expect(new Set(strangers.slice(budget))).toEqual(new Set(['TOO_MANY_REQUESTS']));
    expect(await signInFrom('192.0.2.99', 'password')).toBe('TOO_MANY_REQUESTS');
    expect(await signInFrom('198.51.100.7', 'password')).toBe('200');
  });

  it('limits one address guessing one account, and believes X-Forwarded-For only from a trusted proxy', async () => {
    const codes: string[] = [];
    for (let attempt = 0; attempt <= limits.perIdentityAndAddress; attempt++) {
      // A forged left-most entry is the client's own word: the proxy's view (right-most) counts.
      codes.push(await signInFrom('198.51.100.7', 'guess', `10.9.9.${attempt}, 198.51.100.7`));
    }
    expect(codes.at(-1)).toBe('TOO_MANY_REQUESTS');
    expect(await signInFrom('198.51.100.7', 'password')).toBe('TOO_MANY_REQUESTS');
  });
});

describe('trusted proxies from the environment', () => {
  it('reads a comma-separated list of IP addresses, and refuses anything else', () => {
    expect(trustedProxiesFromEnv({})).toEqual(new Set());
    expect(trustedProxiesFromEnv({ HUDDLE_TRUSTED_PROXIES: '10.0.0.1, ::ffff:10.0.0.2' })).toEqual(
      new Set(['10.0.0.1', '10.0.0.2']),
    );
    expect(() => trustedProxiesFromEnv({ HUDDLE_TRUSTED_PROXIES: 'proxy.internal' })).toThrow(
      'HUDDLE_TRUSTED_PROXIES: "proxy.internal" is not an IP address',
    );
  });
});
