import bcrypt from 'bcryptjs';

/** bcrypt's cost factor: 2^10 rounds, about 50 ms per hash in pure JavaScript on this class of machine. */
const COST = 10;

export function hashPassword(password: string): Promise<string> {
  return bcrypt.hash(password, COST);
}

export function verifyPassword(password: string, hash: string): Promise<boolean> {
  return bcrypt.compare(password, hash);
}

/**
 * A hash of no one's password, compared against when the email is unknown, so an unknown email costs the
 * same time as a wrong password and the two cannot be told apart.
 */
export const DUMMY_PASSWORD_HASH = bcrypt.hashSync('not-a-password-of-anyone', COST);
