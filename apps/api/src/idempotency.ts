import { createHash } from 'node:crypto';
import { type IdempotencyClaim, type IdempotentCall, InvalidInputError } from '@huddle/db';
import canonicalize from 'canonicalize';

/*
 * The `Idempotency-Key` request header (IETF draft "The Idempotency-Key HTTP Header Field"): a mutation
 * that acts for an actor and carries one runs once per actor and key, and a retry gets the first result
 * back (`claimIdempotencyKey` in @huddle/db). Sign-ins act for nobody and answer with a credential, which is
 * never stored: they ignore it, as queries and subscriptions do.
 */

/** The header as the draft spells it, in messages and `data.field`. */
const HEADER_NAME = 'Idempotency-Key';

/** How long a key's result is kept by default (`HUDDLE_IDEMPOTENCY_KEY_HOURS`). */
export const DEFAULT_IDEMPOTENCY_KEY_HOURS = 24;

const MAX_IDEMPOTENCY_KEY_LENGTH = 255;
/**
 * Visible ASCII but `"` and `\` (a UUID, a ULID, any opaque token), bounded: one character class, so no
 * backtracking whatever a client sends.
 */
const KEY = new RegExp(`^[\\x21\\x23-\\x5b\\x5d-\\x7e]{1,${MAX_IDEMPOTENCY_KEY_LENGTH}}$`);

/** What a request brings for idempotency, read by `createContext`; only mutations that act for an actor look. */
export interface IdempotencyRequest {
  /** The header as sent; Node joins a repeated header with `, `, which no key allows. */
  header: string | undefined;
  /** How many calls the HTTP request holds (a batch holds several; a key names one). */
  calls: number;
  /** How long a key's result is kept. */
  windowSeconds: number;
}

/** Another request with the key is running: the draft's 409, with `Retry-After`. */
export class IdempotencyKeyInProgressError extends Error {
  readonly retryAfterSeconds = 1;
  constructor() {
    super(
      `${HEADER_NAME}: a request with this key is still running; retry in 1 s with the same key to get its result`,
    );
  }
}

/** The key was first sent with another procedure or input: the draft's 422. */
export class IdempotencyKeyReusedError extends Error {}

/**
 * The key a request carries, or undefined without the header. The draft sends it as a structured-field
 * string (`"…"`); a bare value is taken too. Bad keys and keys on a batch of several calls are refused.
 */
function idempotencyKey({ header, calls }: IdempotencyRequest): string | undefined {
  if (header === undefined) return undefined;
  const quoted = header.length >= 2 && header.startsWith('"') && header.endsWith('"');
  const key = quoted ? header.slice(1, -1) : header;
  if (!KEY.test(key)) {
    throw new InvalidInputError(
      `${HEADER_NAME}: must be 1–${MAX_IDEMPOTENCY_KEY_LENGTH} visible ASCII characters other than " and \\ (e.g. a UUID), optionally in double quotes`,
      { field: HEADER_NAME },
    );
  }
  if (calls > 1) {
    throw new InvalidInputError(
      `${HEADER_NAME}: names one call, but this request batches ${calls}; send a mutation with a key in a request of its own`,
      { field: HEADER_NAME },
    );
  }
  return key;
}

/**
 * The call to claim for a mutation of `actor` at `procedure`, or undefined when the request carries no key.
 * The input is hashed here, before any connection is taken: SHA-256 of its canonical JSON (RFC 8785), so
 * the same input sent with its keys in another order is the same input.
 */
export async function idempotentCall(
  request: IdempotencyRequest,
  actor: { module: string; subject: string },
  procedure: string,
  getRawInput: () => Promise<unknown>,
): Promise<IdempotentCall | undefined> {
  const key = idempotencyKey(request);
  if (key === undefined) return undefined;
  const inputHash = createHash('sha256')
    .update(canonicalize(await getRawInput()) ?? '')
    .digest('hex');
  return { module: actor.module, subject: actor.subject, key, procedure, inputHash };
}

/** The error for a key that does not let the mutation run: in progress, or first sent with something else. */
export function refusedKey(claim: Extract<IdempotencyClaim, { status: 'in_progress' | 'reused' }>): Error {
  if (claim.status === 'in_progress') return new IdempotencyKeyInProgressError();
  return new IdempotencyKeyReusedError(
    claim.sameProcedure
      ? `${HEADER_NAME}: this key was first sent with another input; send a new key for a new request`
      : `${HEADER_NAME}: this key was first sent to ${claim.procedure}; send a new key for a new request`,
  );
}
