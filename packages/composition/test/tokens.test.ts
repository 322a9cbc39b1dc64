import { UnauthorizedError } from '@huddle/db';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { issueToken, verifyToken } from '../src/tokens.ts';

const SECRET = new TextEncoder().encode('a-secret-of-at-least-thirty-two-characters!');
const now = () => Math.floor(Date.now() / 1000);

/** A token signed with the right secret whose claims the test chooses, as a forger holding the key would. */
function signed(claims: Record<string, unknown>) {
  return new SignJWT({ mod: 'poker', ...claims }).setProtectedHeader({ alg: 'HS256' }).sign(SECRET);
}

describe('tokens', () => {
  it('round-trip: module and subject come back', async () => {
    const { token, expiresAt } = await issueToken(SECRET, { module: 'poker', subject: '7' }, '30m');
    expect(await verifyToken(SECRET, token)).toEqual({ module: 'poker', subject: '7' });
    expect(Date.parse(expiresAt) - Date.now()).toBeGreaterThan(29 * 60_000);
  });

  it('refuses a token without exp, which would never expire', async () => {
    const token = await signed({ iss: 'huddle', sub: '7', iat: now() });
    await expect(verifyToken(SECRET, token)).rejects.toThrow(UnauthorizedError);
  });

  it('refuses a token issued in the future, beyond a small clock skew', async () => {
    const future = await signed({ iss: 'huddle', sub: '7', iat: now() + 3600, exp: now() + 7200 });
    await expect(verifyToken(SECRET, future)).rejects.toThrow('authorization: token is issued in the future');
    const skewed = await signed({ iss: 'huddle', sub: '7', iat: now() + 10, exp: now() + 600 });
    expect(await verifyToken(SECRET, skewed)).toEqual({ module: 'poker', subject: '7' });
  });

  it('refuses an expired, a foreign-issuer and a tampered token with UnauthorizedError', async () => {
    const expired = await signed({ iss: 'huddle', sub: '7', iat: now() - 7200, exp: now() - 3600 });
    await expect(verifyToken(SECRET, expired)).rejects.toThrow('authorization: token has expired');
    const foreign = await signed({ iss: 'elsewhere', sub: '7', iat: now(), exp: now() + 600 });
    await expect(verifyToken(SECRET, foreign)).rejects.toThrow('authorization: token is invalid');
    const { token } = await issueToken(SECRET, { module: 'poker', subject: '7' });
    await expect(verifyToken(SECRET, `${token.slice(0, -2)}xx`)).rejects.toThrow(UnauthorizedError);
  });

  it('refuses a non-positive or malformed lifetime, naming the field', async () => {
    for (const ttl of ['0s', '0m', '-5m', 'soon', '']) {
      await expect(issueToken(SECRET, { module: 'poker', subject: '7' }, ttl), ttl).rejects.toThrow(
        'ttl: must be a positive duration such as 30m, 12h or 7d',
      );
    }
  });
});
