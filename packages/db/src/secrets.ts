import { createHash, randomBytes } from 'node:crypto';

/**
 * One-time secrets a person carries from one place to another (a password reset link, a device link): 256
 * random bits, shown once, stored only as their SHA-256. A slow hash adds nothing to a secret this long, and
 * a fast one may run inside a transaction; a stolen table holds nothing that can be redeemed.
 */
export interface OneTimeSecret {
  /** What the person is given: 43 base64url characters (`oneTimeSecretText` parses it back). */
  secret: string;
  /** What the database stores and looks up: 64 lower-case hex digits. */
  hash: string;
}

export function newOneTimeSecret(): OneTimeSecret {
  const secret = randomBytes(32).toString('base64url');
  return { secret, hash: oneTimeSecretHash(secret) };
}

export function oneTimeSecretHash(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}
