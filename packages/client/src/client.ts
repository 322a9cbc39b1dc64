import {
  createTRPCClient,
  httpBatchLink,
  httpLink,
  httpSubscriptionLink,
  type OperationLink,
  retryLink,
  splitLink,
  type TRPCClientError,
  type TRPCLink,
} from '@trpc/client';
import { EventSource } from 'eventsource';
import { IDEMPOTENCY_KEY_HEADER } from './idempotency-key.ts';
import { MAX_BATCH_CALLS } from './limits.ts';
import { ReadPosition, WAL_POSITION_HEADER } from './read-position.ts';
import type { AppRouter } from './router.ts';

/** The modules a client may hold a token for: the top-level routers that act for a user. */
export type HuddleModule = Exclude<keyof AppRouter['_def']['record'], 'health'>;

/** One token for every call, or one per module (a person who uses poker and scrum holds two). */
export type HuddleTokens = string | Partial<Record<HuddleModule, string>>;

/** The module a procedure path belongs to: `poker.votes.cast` → `poker`. */
const moduleOf = (path: string) => path.split('.', 1)[0] as HuddleModule;

function tokenFor(tokens: HuddleTokens | undefined, path: string): string | undefined {
  return typeof tokens === 'string' ? tokens : tokens?.[moduleOf(path)];
}

const bearer = (token: string | undefined): Record<string, string> =>
  token ? { authorization: `Bearer ${token}` } : {};

/** The headers every query and mutation to `path` carries: its module's token and the latest write position. */
function callHeaders(tokens: HuddleTokens | undefined, readPosition: ReadPosition, path: string) {
  const latest = readPosition.latest;
  return { ...bearer(tokenFor(tokens, path)), ...(latest && { [WAL_POSITION_HEADER]: latest }) };
}

/** `fetch`, noting the write position every response may carry (read-position.ts). */
function fetchNotingWrites(readPosition: ReadPosition): typeof fetch {
  return async (input, init) => {
    const response = await fetch(input, init);
    readPosition.saw(response.headers.get(WAL_POSITION_HEADER));
    return response;
  };
}

/**
 * Queries batched over HTTP, one batch stream per module, each sent with that module's token: a batch never
 * mixes two modules' calls, so it needs one Authorization header.
 */
function batchPerModule(
  url: string,
  tokens: HuddleTokens | undefined,
  readPosition: ReadPosition,
): TRPCLink<AppRouter> {
  return (runtime) => {
    const links = new Map<string, OperationLink<AppRouter>>();
    return (call) => {
      const module = moduleOf(call.op.path);
      let link = links.get(module);
      if (!link) {
        link = httpBatchLink<AppRouter>({
          url,
          maxItems: MAX_BATCH_CALLS,
          headers: () => callHeaders(tokens, readPosition, call.op.path),
          fetch: fetchNotingWrites(readPosition),
        })(runtime);
        links.set(module, link);
      }
      return link(call);
    };
  };
}

/**
 * Mutations, each in an HTTP request of its own with its `Idempotency-Key` (a key names one call, so a
 * mutation is never batched), as the draft's structured-field string.
 */
function eachMutation(
  url: string,
  tokens: HuddleTokens | undefined,
  readPosition: ReadPosition,
): TRPCLink<AppRouter> {
  return httpLink<AppRouter>({
    url,
    headers: ({ op }) => {
      const key = op.context.idempotencyKey;
      return {
        ...callHeaders(tokens, readPosition, op.path),
        ...(typeof key === 'string' && { [IDEMPOTENCY_KEY_HEADER]: `"${key}"` }),
      };
    },
    fetch: fetchNotingWrites(readPosition),
  });
}

/**
 * Gives every mutation a fresh idempotency key in its operation context, unless the caller chose one
 * (`mutate(input, { context: { idempotencyKey } })`, e.g. to retry across restarts); retries of the
 * operation keep it.
 */
const idempotencyKeys: TRPCLink<AppRouter> =
  () =>
  ({ op, next }) =>
    next(
      op.type === 'mutation' && typeof op.context.idempotencyKey !== 'string'
        ? { ...op, context: { ...op.context, idempotencyKey: globalThis.crypto.randomUUID() } }
        : op,
    );

/**
 * Whether a failed call is worth sending again, unchanged and with the same idempotency key: no answer at
 * all (the connection was lost, the outcome is unknown), the API unavailable (503), an answer that says the
 * outcome is unknown (`data.outcome`, e.g. a lost connection during COMMIT), or a conflict that passes (409
 * with `retryAfter`: the key's first request is still running). A call the caller aborted is not.
 */
function isRetryable(error: TRPCClientError<AppRouter>): boolean {
  const data = error.data;
  if (!data) return error.cause?.name !== 'AbortError';
  if (data.code === 'SERVICE_UNAVAILABLE') return true;
  if ('outcome' in data && data.outcome === 'unknown') return true;
  return data.code === 'CONFLICT' && data.retryAfter !== null;
}

/** How the typed client retries (`HuddleClientOptions.retries`). */
const DEFAULT_RETRIES = 3;
/** The first backoff; each retry doubles it. */
const RETRY_BASE_MS = 200;
/** A server's `retryAfter` longer than this is not waited for: the error goes to the caller. */
const MAX_RETRY_WAIT_MS = 10_000;

/**
 * tRPC's retryLink for queries and mutations: up to `retries` more attempts after the first, waiting the
 * server's `retryAfter` when it gives one, otherwise an exponential backoff with jitter. tRPC asks
 * `retryDelayMs` right after `retry` for the same failure (synchronously), so `retry` leaves the wait there.
 */
function retryUnavailable(retries: number): TRPCLink<AppRouter> {
  let waitMs = 0;
  return retryLink<AppRouter>({
    retry({ error, attempts }) {
      if (attempts > retries || !isRetryable(error)) return false;
      const retryAfter = error.data?.retryAfter;
      waitMs =
        typeof retryAfter === 'number'
          ? retryAfter * 1000
          : RETRY_BASE_MS * 2 ** (attempts - 1) * (0.5 + Math.random());
      return waitMs <= MAX_RETRY_WAIT_MS;
    },
    retryDelayMs: () => waitMs,
  });
}

export interface HuddleClientOptions {
  /**
   * Where the client keeps the latest write position it has seen, so its queries read its own writes when
   * the API reads from replicas. Default: a new one; pass another client's to read what that client wrote
   * (the token of a sign-in, then a client for that token).
   */
  readPosition?: ReadPosition;
  /**
   * How many times a query or mutation is sent again when `isRetryable` says its error is worth it; a
   * mutation keeps its idempotency key, so it runs at most once. Default 3; 0 turns retries off.
   */
  retries?: number;
}

/**
 * A typed client for the Huddle API at `url`. `tokens` is one bearer token (from a sign-in such as
 * `poker.join`, or `huddle token issue`) or one per module; each call goes with its module's token.
 * Subscriptions use Server-Sent Events. A query sees every write this client's (or its `readPosition`'s)
 * mutations made, also when the API serves it from a read replica. Every mutation carries a fresh
 * `Idempotency-Key`, and a call that failed with the API unavailable or its outcome unknown is retried
 * (`retries`), so a mutation's retry returns its first result rather than running twice. Importing this loads
 * the tRPC client and types only, never the server.
 */
export function createHuddleClient(url: string, tokens?: HuddleTokens, options: HuddleClientOptions = {}) {
  const readPosition = options.readPosition ?? new ReadPosition();
  return createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (operation) => operation.type === 'subscription',
        true: httpSubscriptionLink({
          url,
          EventSource,
          eventSourceOptions: ({ op }) => ({
            fetch: (input, init) =>
              fetch(input, { ...init, headers: { ...init.headers, ...bearer(tokenFor(tokens, op.path)) } }),
          }),
        }),
        false: [
          idempotencyKeys,
          retryUnavailable(options.retries ?? DEFAULT_RETRIES),
          splitLink({
            condition: (operation) => operation.type === 'mutation',
            true: eachMutation(url, tokens, readPosition),
            false: batchPerModule(url, tokens, readPosition),
          }),
        ],
      }),
    ],
  });
}

export type HuddleClient = ReturnType<typeof createHuddleClient>;
export { ReadPosition } from './read-position.ts';
export type { AppRouter, RouterInputs, RouterOutputs } from './router.ts';
