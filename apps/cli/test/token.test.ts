import { verifyToken } from '@huddle/composition';
import { createTestDatabase, type TestDatabase } from '@huddle/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { huddle } from './helpers.ts';

const HUDDLE_SECRET = 'a-secret-of-at-least-thirty-two-characters!';
let database: TestDatabase;
let env: NodeJS.ProcessEnv;
let userId: number;

beforeAll(async () => {
  database = await createTestDatabase();
  env = { DATABASE_URL: database.url, HUDDLE_SECRET };
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  userId = (await client.query<{ id: number }>("insert into poker.users (name) values ('Tess') returning id"))
    .rows[0]!.id;
  await client.end();
});
afterAll(() => database?.drop());

async function sessions(id: string) {
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    const { rows } = await client.query(
      'select kind, module, subject, revoked_at is not null as revoked from huddle.sessions where id = $1',
      [id],
    );
    return rows;
  } finally {
    await client.end();
  }
}

describe('huddle token issue', () => {
  it('issues a token the API accepts, for the given module, user and lifetime', async () => {
    const result = await huddle(
      ['token', 'issue', '--module', 'poker', '--user', String(userId), '--ttl', '30m', '--json'],
      env,
    );
    expect(result.code).toBe(0);
    const issued = JSON.parse(result.stdout) as {
      token: string;
      expiresAt: string;
      module: string;
      subject: string;
    };
    expect(issued).toMatchObject({ module: 'poker', subject: String(userId) });
    const minutesLeft = (Date.parse(issued.expiresAt) - Date.now()) / 60_000;
    expect(minutesLeft).toBeGreaterThan(29);
    expect(minutesLeft).toBeLessThanOrEqual(30);
    const claims = verifyToken(new TextEncoder().encode(HUDDLE_SECRET), issued.token);
    expect(claims).toMatchObject({ module: 'poker', subject: String(userId) });
    // The token is a session of its own, which can be listed and revoked like a sign-in's.
    expect(await sessions(claims.sessionId)).toEqual([
      { kind: 'session', module: 'poker', subject: String(userId), revoked: false },
    ]);
  });

  it('prints only the token without --json, for shell use', async () => {
    const result = await huddle(['token', 'issue', '--module', 'poker', '--user', String(userId)], env);
    expect(result.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
  });

  it('refuses a subject the module would refuse, or a user that does not exist, with one line', async () => {
    for (const subject of ['abc', '', '-1', '1 or 1=1', '2147483648']) {
      const result = await huddle(['token', 'issue', '--module', 'poker', '--user', subject], env);
      expect(result.code, subject).toBe(1);
      expect(result.stderr, subject).toMatch(/^huddle: subject: ".*" is not a poker user id\n$/);
    }
    const unknown = await huddle(['token', 'issue', '--module', 'poker', '--user', '999999'], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe('huddle: subject: poker user 999999 does not exist\n');
  });

  it('refuses a malformed or non-positive lifetime, naming the option', async () => {
    for (const ttl of ['soon', '0s']) {
      const result = await huddle(
        ['token', 'issue', '--module', 'poker', '--user', String(userId), '--ttl', ttl],
        env,
      );
      expect(result.code).toBe(1);
      expect(result.stderr).toBe('huddle: ttl: must be a positive duration such as 30m, 12h or 7d\n');
    }
  });

  it('refuses to sign for a server database without HUDDLE_SECRET', async () => {
    const result = await huddle(['token', 'issue', '--module', 'poker', '--user', String(userId)], {
      DATABASE_URL: database.url,
      HUDDLE_SECRET: '',
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^huddle: HUDDLE_SECRET: must be set when DATABASE_URL is set/);
  });
});

describe('huddle keys', () => {
  it('creates a key shown once, lists it without its secret, and revokes it', async () => {
    const created = await huddle(
      [
        'keys',
        'create',
        '--module',
        'poker',
        '--user',
        String(userId),
        '--name',
        'exporter',
        '--read-only',
        '--json',
      ],
      env,
    );
    expect(created.code).toBe(0);
    const key = JSON.parse(created.stdout) as { id: string; key: string; expiresAt: string | null };
    expect(key).toMatchObject({ key: expect.stringMatching(/^hk_poker\./), expiresAt: null });
    const listed = await huddle(['keys', 'list', '--module', 'poker', '--json'], env);
    expect(JSON.parse(listed.stdout)).toEqual([
      expect.objectContaining({ id: key.id, name: 'exporter', readOnly: true, revokedAt: null }),
    ]);
    expect(listed.stdout).not.toContain(key.key.split('.').at(-1));
    expect((await huddle(['keys', 'revoke', key.id, '--module', 'poker'], env)).code).toBe(0);
    expect(await sessions(key.id)).toEqual([
      { kind: 'key', module: 'poker', subject: String(userId), revoked: true },
    ]);
    const again = await huddle(['keys', 'revoke', key.id, '--module', 'poker'], env);
    expect([again.code, again.stderr]).toEqual([
      1,
      `huddle: id: module poker has no live service key ${key.id}\n`,
    ]);
  });
});
