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
export type HuddleModule = Exclude<keyof AppRouter['_def']['record'], 'health' | 'auth'>;

/**
 * A signed-in session, as a sign-in (or `auth.refresh`) answers it: the client refreshes the access token by
 * itself shortly before `expiresAt`, and when the API says it expired, spending `refreshToken` for the next.
 */
export interface HuddleSession {
  token: string;
  expiresAt: string;
  refreshToken: string;
}

/** A bearer credential: an access token or a service key as is, or a session the client keeps fresh. */
export type HuddleCredential = string | HuddleSession;

/**
 * One credential for every call, or one per module (a person who uses poker and scrum holds two). The
 * platform's `auth.*` calls go with the credential of the module their input names.
 */
export type HuddleTokens = HuddleCredential | Partial<Record<HuddleModule, HuddleCredential>>;

/** How the API words the refusal of an expired access token (@huddle/composition's TOKEN_EXPIRED_MESSAGE). */
const TOKEN_EXPIRED = 'authorization: token has expired';
/** A session's access token is refreshed this long before it expires, so no call carries a stale one. */
const REFRESH_AHEAD_MS = 30_000;

/** The module whose credential a call carries: the path's first segment, or an `auth.*` call's `module`. */
function moduleOf(path: string, input: unknown): HuddleModule {
  const first = path.split('.', 1)[0]!;
  if (first === 'auth' && typeof input === 'object' && input !== null && 'module' in input) {
    return input.module as HuddleModule;
  }
  return first as HuddleModule;
}

/** A session rather than a token, or rather than a map of modules' credentials (no module is `refreshToken`). */
const isSession = (value: unknown): value is HuddleSession =>
  typeof value === 'object' && value !== null && 'refreshToken' in value;

/**
 * The client's credentials: each module's as given, sessions refreshed through `auth.refresh`, once at a time
 * per session (a refresh token is spent by its first use, and a second use would end the session).
 */
class Credentials {
  readonly #url: string;
  readonly #onRefresh: HuddleClientOptions['onRefresh'];
  /** By module; one credential for every module is kept under ''. */
  readonly #state = new Map<string, HuddleCredential>();
  readonly #shared: boolean;
  readonly #refreshing = new Map<string, Promise<void>>();

  constructor(url: string, tokens: HuddleTokens | undefined, onRefresh: HuddleClientOptions['onRefresh']) {
    this.#url = url;
    this.#onRefresh = onRefresh;
    this.#shared = tokens === undefined || typeof tokens === 'string' || isSession(tokens);
    if (tokens === undefined) return;
    if (typeof tokens === 'string' || isSession(tokens)) this.#state.set('', tokens);
    else for (const [module, credential] of Object.entries(tokens)) this.#state.set(module, credential);
  }

  #key(module: string): string {
    return this.#shared ? '' : module;
  }

  /** The bearer token for `module`'s calls, refreshed first when it is a session about to expire. */
  async token(module: string): Promise<string | undefined> {
    const key = this.#key(module);
    await this.#refreshing.get(key);
    const credential = this.#state.get(key);
    if (!isSession(credential)) return credential;
    if (Date.parse(credential.expiresAt) - Date.now() < REFRESH_AHEAD_MS) await this.refresh(module);
    const fresh = this.#state.get(key);
    return isSession(fresh) ? fresh.token : fresh;
  }

  /** Whether `module`'s credential is a session the client can refresh. */
  refreshable(module: string): boolean {
    return isSession(this.#state.get(this.#key(module)));
  }

  /** Spends `module`'s refresh token for the session's next access and refresh tokens. */
  refresh(module: string): Promise<void> {
    const key = this.#key(module);
    let running = this.#refreshing.get(key);
    if (!running) {
      running = this.#refreshNow(key).finally(() => this.#refreshing.delete(key));
      this.#refreshing.set(key, running);
    }
    return running;
  }

  async #refreshNow(key: string): Promise<void> {
    const credential = this.#state.get(key);
    if (!isSession(credential)) return;
    const response = await fetch(`${this.#url}/auth.refresh`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refreshToken: credential.refreshToken }),
    });
    const body = (await response.json()) as { result?: { data?: HuddleSession } };
    const answer = body.result?.data;
    // A refused refresh keeps the old state: the call goes out, and its 401 tells the caller to sign in.
    if (!response.ok || !answer) return;
    const session = { token: answer.token, expiresAt: answer.expiresAt, refreshToken: answer.refreshToken };
    this.#state.set(key, session);
    this.#onRefresh?.(session, key === '' ? undefined : (key as HuddleModule));
  }
}

const bearer = (token: string | undefined): Record<string, string> =>
  token ? { authorization: `Bearer ${token}` } : {};

/** The headers every query and mutation carries: its module's token and the latest write position. */
async function callHeaders(credentials: Credentials, readPosition: ReadPosition, module: string) {
  const latest = readPosition.latest;
  return {
    ...bearer(await credentials.token(module)),
    ...(latest && { [WAL_POSITION_HEADER]: latest }),
  };
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
  credentials: Credentials,
  readPosition: ReadPosition,
): TRPCLink<AppRouter> {
  return (runtime) => {
    const links = new Map<string, OperationLink<AppRouter>>();
    return (call) => {
      const module = moduleOf(call.op.path, call.op.input);
      let link = links.get(module);
      if (!link) {
        link = httpBatchLink<AppRouter>({
          url,
          maxItems: MAX_BATCH_CALLS,
          headers: () => callHeaders(credentials, readPosition, module),
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
  credentials: Credentials,
  readPosition: ReadPosition,
): TRPCLink<AppRouter> {
  return httpLink<AppRouter>({
    url,
    headers: async ({ op }) => {
      const key = op.context.idempotencyKey;
      return {
        ...(await callHeaders(credentials, readPosition, moduleOf(op.path, op.input))),
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

/**
 * A call refused because its access token expired is sent once more after the session's refresh (queries,
 * mutations with their idempotency key, and subscriptions, which subscribe again); a session that cannot be
 * refreshed (signed out, revoked) leaves the refusal to the caller: sign in again.
 */
function refreshOnExpiry(credentials: Credentials): TRPCLink<AppRouter> {
  return retryLink<AppRouter>({
    retry({ error, op, attempts }) {
      const module = moduleOf(op.path, op.input);
      if (
        attempts > 1 ||
        error.data?.code !== 'UNAUTHORIZED' ||
        !error.message.startsWith(TOKEN_EXPIRED) ||
        !credentials.refreshable(module)
      ) {
        return false;
      }
      credentials.refresh(module).catch(() => undefined);
      return true;
    },
    retryDelayMs: () => 0,
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
  /**
   * Told each time the client refreshed a session (with the module, when `tokens` gives one per module): a
   * program that keeps its session across restarts stores the new refresh token, as the old one is spent.
   */
  onRefresh?(session: HuddleSession, module: HuddleModule | undefined): void;
}

/**
 * A typed client for the Huddle API at `url`. `tokens` is one credential or one per module: an access token
 * or service key as a string, or a sign-in's answer (`{ token, expiresAt, refreshToken }`), whose access
 * token the client refreshes by itself before it expires and when the API says it has (`onRefresh` hears
 * of each new refresh token); each call goes with its module's credential.
 * Subscriptions use Server-Sent Events. A query sees every write this client's (or its `readPosition`'s)
 * mutations made, also when the API serves it from a read replica. Every mutation carries a fresh
 * `Idempotency-Key`, and a call that failed with the API unavailable or its outcome unknown is retried
 * (`retries`), so a mutation's retry returns its first result rather than running twice. Importing this loads
 * the tRPC client and types only, never the server.
 */
export function createHuddleClient(url: string, tokens?: HuddleTokens, options: HuddleClientOptions = {}) {
  const readPosition = options.readPosition ?? new ReadPosition();
  const credentials = new Credentials(url, tokens, options.onRefresh);
  return createTRPCClient<AppRouter>({
    links: [
      idempotencyKeys,
      refreshOnExpiry(credentials),
      splitLink({
        condition: (operation) => operation.type === 'subscription',
        true: httpSubscriptionLink({
          url,
          EventSource,
          eventSourceOptions: ({ op }) => ({
            fetch: async (input, init) =>
              fetch(input, {
                ...init,
                headers: {
                  ...init.headers,
                  ...bearer(await credentials.token(moduleOf(op.path, op.input))),
                },
              }),
          }),
        }),
        false: [
          retryUnavailable(options.retries ?? DEFAULT_RETRIES),
          splitLink({
            condition: (operation) => operation.type === 'mutation',
            true: eachMutation(url, credentials, readPosition),
            false: batchPerModule(url, credentials, readPosition),
          }),
        ],
      }),
    ],
  });
}

export type HuddleClient = ReturnType<typeof createHuddleClient>;
export { ReadPosition } from './read-position.ts';
export type { AppRouter, RouterInputs, RouterOutputs } from './router.ts';
