import type { AddressInfo } from 'node:net';
import type { Database } from '@huddle/db';
import { createHTTPServer } from '@trpc/server/adapters/standalone';
import { MAX_BATCH_CALLS } from './limits.ts';
import { logger } from './logger.ts';
import { appRouter } from './router.ts';
import { createContext } from './trpc.ts';

/** Generous for any real input (a 10,000-story reorder is ~80 kB), small enough that no body can exhaust memory. */
const MAX_BODY_BYTES = 1024 * 1024;

export interface ApiServer {
  /** Base URL of the tRPC endpoint, e.g. http://127.0.0.1:4000 */
  url: string;
  close(): Promise<void>;
}

export interface ApiServerOptions {
  db: Database;
  secret: Uint8Array;
  /** 0 picks a free port. */
  port: number;
  host: string;
}

/**
 * Serves the AppRouter over Node's own HTTP server (tRPC's standalone adapter): queries and mutations as
 * HTTP, subscriptions as Server-Sent Events.
 */
export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const server = createHTTPServer({
    router: appRouter,
    maxBodySize: MAX_BODY_BYTES,
    maxBatchSize: MAX_BATCH_CALLS,
    createContext: ({ req }) => createContext(options.db, options.secret, req.headers.authorization),
    onError({ error, path }) {
      if (error.code === 'INTERNAL_SERVER_ERROR')
        logger.error({ err: error.cause ?? error, path }, 'request failed');
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Open SSE streams would otherwise keep the server alive until clients leave.
        server.closeAllConnections();
      }),
  };
}
