import { UnauthorizedError } from '@huddle/db';
import { createSigner } from 'fast-jwt';
import { describe, expect, it, vi } from 'vitest';
import { issueToken, verifyToken } from '../src/tokens.ts';

const SECRET = new TextEncoder().encode('a-secret-of-at-least-thirty-two-characters!');
const SESSION = '0b9f3a52-4f1e-4c8e-9d7a-2f6c1e8b5a30';
const CLAIMS = { module: 'poker', subject: '7', sessionId: SESSION };
const now = () => Math.floor(Date.now() / 1000);

/** A token signed with the right secret whose claims the test chooses, as a forger holding the key would. */
function signed(claims: Record<string, unknown>): string {
  return createSigner({ key: Buffer.from(SECRET), algorithm: 'HS256' })({
    mod: 'poker',
    sid: SESSION,
    ...claims,
  });
}

describe('tokens', () => {
  it('round-trip: module, subject and session come back', async () => {
    const { token, expiresAt } = await issueToken(SECRET, CLAIMS, '30m');
    expect(verifyToken(SECRET, token)).toEqual({ ...CLAIMS, expiresAt: Date.parse(expiresAt) });
    expect(Date.parse(expiresAt) - Date.now()).toBeGreaterThan(29 * 60_000);
  });

  it('refuses a token without exp, which would never expire', async () => {
    const token = signed({ iss: 'huddle', sub: '7', iat: now() });
    expect(() => verifyToken(SECRET, token)).toThrow(UnauthorizedError);
  });

  it('refuses a token without iss, as it refuses one from another issuer', async () => {
    const token = signed({ sub: '7', iat: now(), exp: now() + 600 });
    expect(() => verifyToken(SECRET, token)).toThrow('authorization: token is invalid');
  });

  it('refuses a token issued in the future, beyond a small clock skew', async () => {
    const future = signed({ iss: 'huddle', sub: '7', iat: now() + 3600, exp: now() + 7200 });
    expect(() => verifyToken(SECRET, future)).toThrow('authorization: token is issued in the future');
    const skewed = signed({ iss: 'huddle', sub: '7', iat: now() + 10, exp: now() + 600 });
    expect(verifyToken(SECRET, skewed)).toMatchObject(CLAIMS);
  });

  it('refuses a token that names no session, which nothing could revoke', async () => {
    const sessionless = signed({ iss: 'huddle', sub: '7', iat: now(), exp: now() + 600, sid: undefined });
    expect(() => verifyToken(SECRET, sessionless)).toThrow('authorization: token is invalid');
  });

  it('refuses an expired, a foreign-issuer and a tampered token with UnauthorizedError', async () => {
    const expired = signed({ iss: 'huddle', sub: '7', iat: now() - 7200, exp: now() - 3600 });
    expect(() => verifyToken(SECRET, expired)).toThrow('authorization: token has expired; refresh it');
    const foreign = signed({ iss: 'elsewhere', sub: '7', iat: now(), exp: now() + 600 });
    expect(() => verifyToken(SECRET, foreign)).toThrow('authorization: token is invalid');
    const { token } = await issueToken(SECRET, CLAIMS);
    expect(() => verifyToken(SECRET, `${token.slice(0, -2)}xx`)).toThrow(UnauthorizedError);
    const [, payload] = token.split('.');
    const unsigned = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${payload}.`;
    expect(() => verifyToken(SECRET, unsigned)).toThrow('authorization: token is invalid');
  });

  it('refuses a token it has verified before once it expires: a verified token is remembered until then only', async () => {
    const { token, expiresAt } = await issueToken(SECRET, CLAIMS, '1m');
    expect(verifyToken(SECRET, token)).toMatchObject(CLAIMS);
    vi.useFakeTimers({ now: Date.parse(expiresAt) + 31_000 });
    try {
      expect(() => verifyToken(SECRET, token)).toThrow('authorization: token has expired; refresh it');
    } finally {
      vi.useRealTimers();
    }
  });

  it('refuses a non-positive or malformed lifetime, naming the field', async () => {
    for (const ttl of ['0s', '0m', '-5m', 'soon', '']) {
      await expect(issueToken(SECRET, CLAIMS, ttl), ttl).rejects.toThrow(
        'ttl: must be a positive duration such as 30m, 12h or 7d',
      );
    }
  });
});
