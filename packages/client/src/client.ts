import {
  createTRPCClient,
  httpBatchLink,
  httpSubscriptionLink,
  type OperationLink,
  splitLink,
  type TRPCLink,
} from '@trpc/client';
import { EventSource } from 'eventsource';
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

/**
 * Queries and mutations batched over HTTP, one batch stream per module, each sent with that module's
 * token: a batch never mixes two modules' calls, so it needs one Authorization header. Every request sends
 * the latest write position the client has seen and every response may advance it (read-position.ts).
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
          headers: () => {
            const latest = readPosition.latest;
            return {
              ...bearer(tokenFor(tokens, call.op.path)),
              ...(latest && { [WAL_POSITION_HEADER]: latest }),
            };
          },
          fetch: async (input, init) => {
            const response = await fetch(input, init);
            readPosition.saw(response.headers.get(WAL_POSITION_HEADER));
            return response;
          },
        })(runtime);
        links.set(module, link);
      }
      return link(call);
    };
  };
}

export interface HuddleClientOptions {
  /**
   * Where the client keeps the latest write position it has seen, so its queries read its own writes when
   * the API reads from replicas. Default: a new one; pass another client's to read what that client wrote
   * (the token of a sign-in, then a client for that token).
   */
  readPosition?: ReadPosition;
}

/**
 * A typed client for the Huddle API at `url`. `tokens` is one bearer token (from a sign-in such as
 * `poker.join`, or `huddle token issue`) or one per module; each call goes with its module's token.
 * Subscriptions use Server-Sent Events. A query sees every write this client's (or its `readPosition`'s)
 * mutations made, also when the API serves it from a read replica. Importing this loads the tRPC client and
 * types only, never the server.
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
        false: batchPerModule(url, tokens, readPosition),
      }),
    ],
  });
}

export type HuddleClient = ReturnType<typeof createHuddleClient>;
export { ReadPosition } from './read-position.ts';
export type { AppRouter, RouterInputs, RouterOutputs } from './router.ts';
