/**
 * Calls per batched HTTP request: the server answers 400 above it (nothing a client sends can make one
 * request do unbounded work) and the typed client splits larger batches to stay within it. Shared here
 * because the client must not import the server.
 */
export const MAX_BATCH_CALLS = 50;
