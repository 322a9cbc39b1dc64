import { verifyToken } from '@huddle/api';
import { describe, expect, it } from 'vitest';
import { huddle } from './helpers.ts';

const HUDDLE_SECRET = 'a-secret-of-at-least-thirty-two-characters!';

describe('huddle token issue', () => {
  it('issues a token the API accepts, for the given module, user and lifetime', async () => {
    const result = await huddle(
      ['token', 'issue', '--module', 'poker', '--user', '7', '--ttl', '30m', '--json'],
      {
        HUDDLE_SECRET,
      },
    );
    expect(result.code).toBe(0);
    const issued = JSON.parse(result.stdout) as {
      token: string;
      expiresAt: string;
      module: string;
      userId: string;
    };
    expect(issued).toMatchObject({ module: 'poker', userId: '7' });
    const minutesLeft = (Date.parse(issued.expiresAt) - Date.now()) / 60_000;
    expect(minutesLeft).toBeGreaterThan(29);
    expect(minutesLeft).toBeLessThanOrEqual(30);
    expect(await verifyToken(new TextEncoder().encode(HUDDLE_SECRET), issued.token)).toEqual({
      module: 'poker',
      userId: '7',
    });
  });

  it('prints only the token without --json, for shell use', async () => {
    const result = await huddle(['token', 'issue', '--module', 'poker', '--user', '7'], { HUDDLE_SECRET });
    expect(result.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
  });

  it('refuses a malformed lifetime, naming the option', async () => {
    const result = await huddle(['token', 'issue', '--module', 'poker', '--user', '7', '--ttl', 'soon'], {
      HUDDLE_SECRET,
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('huddle: ttl: must be a duration such as 30m, 12h or 7d\n');
  });

  it('refuses to sign for a server database without HUDDLE_SECRET', async () => {
    const result = await huddle(['token', 'issue', '--module', 'poker', '--user', '7'], {
      DATABASE_URL: 'postgres://u@127.0.0.1:1/x',
      HUDDLE_SECRET: '',
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^huddle: HUDDLE_SECRET: must be set when DATABASE_URL is set/);
  });
});
