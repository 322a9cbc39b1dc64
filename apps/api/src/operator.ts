import { createHash, timingSafeEqual } from 'node:crypto';
import { ConfigurationError } from '@huddle/db';

/** The environment variable holding the operators' bearer token (monitoring, on-call). */
export const OPS_TOKEN_VARIABLE = 'HUDDLE_OPS_TOKEN';
const MIN_OPS_TOKEN_LENGTH = 32;

/**
 * The operators' bearer token, read once at start; unset, no caller is an operator (the details `/health`
 * keeps from everyone else are then `huddle migrate status`'s). Short values are refused: it is a password.
 */
export function opsTokenFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const token = env[OPS_TOKEN_VARIABLE];
  if (!token) return undefined;
  if (token.length < MIN_OPS_TOKEN_LENGTH) {
    throw new ConfigurationError(
      `${OPS_TOKEN_VARIABLE}: must be at least ${MIN_OPS_TOKEN_LENGTH} characters`,
    );
  }
  return token;
}

const digest = (text: string) => createHash('sha256').update(text).digest();

/** Whether `bearer` is the operators' token, compared in constant time (digests, so lengths leak nothing). */
export function isOpsToken(opsToken: string | undefined, bearer: string): boolean {
  return opsToken !== undefined && timingSafeEqual(digest(opsToken), digest(bearer));
}
