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
 * token: a batch never mixes two modules' calls, so it needs one Authorization header.
 */
function batchPerModule(url: string, tokens: HuddleTokens | undefined): TRPCLink<AppRouter> {
  return (runtime) => {
    const links = new Map<string, OperationLink<AppRouter>>();
    return (call) => {
      const module = moduleOf(call.op.path);
      let link = links.get(module);
      if (!link) {
        link = httpBatchLink<AppRouter>({
          url,
          maxItems: MAX_BATCH_CALLS,
          headers: () => bearer(tokenFor(tokens, call.op.path)),
        })(runtime);
        links.set(module, link);
      }
      return link(call);
    };
  };
}

/**
 * A typed client for the Huddle API at `url`. `tokens` is one bearer token (from a sign-in such as
 * `poker.join`, or `huddle token issue`) or one per module; each call goes with its module's token.
 * Subscriptions use Server-Sent Events. Importing this loads the tRPC client and types only, never the server.
 */
export function createHuddleClient(url: string, tokens?: HuddleTokens) {
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
        false: batchPerModule(url, tokens),
      }),
    ],
  });
}

export type HuddleClient = ReturnType<typeof createHuddleClient>;
export type { AppRouter, RouterInputs, RouterOutputs } from './router.ts';
