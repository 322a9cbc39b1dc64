/**
 * The request header that makes a mutation idempotent (IETF draft "The Idempotency-Key HTTP Header
 * Field"; the server side is idempotency.ts). Shared by the client and the server, so it imports nothing.
 */
export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
