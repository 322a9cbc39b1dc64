import { createTRPCClient, httpBatchLink, httpSubscriptionLink, splitLink } from '@trpc/client';
import { EventSource } from 'eventsource';
import { MAX_BATCH_CALLS } from './limits.ts';
import type { AppRouter } from './router.ts';

/**
 * A typed client for the Huddle API at `url`. Queries and mutations are batched over HTTP; subscriptions
 * use Server-Sent Events. `token` is a bearer token from `poker.join` or `huddle token issue`.
 */
export function createHuddleClient(url: string, token?: string) {
  const headers = (): Record<string, string> => (token ? { authorization: `Bearer ${token}` } : {});
  return createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (operation) => operation.type === 'subscription',
        true: httpSubscriptionLink({
          url,
          EventSource,
          eventSourceOptions: () => ({
            fetch: (input, init) => fetch(input, { ...init, headers: { ...init.headers, ...headers() } }),
          }),
        }),
        false: httpBatchLink({ url, headers, maxItems: MAX_BATCH_CALLS }),
      }),
    ],
  });
}

export type HuddleClient = ReturnType<typeof createHuddleClient>;
