import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHTTPHandler } from '@trpc/server/adapters/standalone';
import { MAX_BATCH_CALLS } from './limits.ts';
import { logger } from './logger.ts';
import { appRouter } from './router.ts';
import { type ApiResources, createContext } from './trpc.ts';

/** Generous for any real input (a 10,000-story reorder is ~80 kB), small enough that no body can exhaust memory. */
const MAX_BODY_BYTES = 1024 * 1024;
/** How long `close` lets in-flight requests finish by default. */
const DEFAULT_DRAIN_MS = 3_000;

export interface ApiServer {
  /** Base URL of the tRPC endpoint, e.g. http://127.0.0.1:4000 */
  url: string;
  /**
   * Drains the server: stops accepting connections, ends subscription streams cleanly (their clients
   * reconnect elsewhere), lets in-flight requests finish for up to `drainMs`, then closes what is left.
   * Resolves once no request is running, so the database can be closed after it.
   */
  close(options?: { drainMs?: number }): Promise<void>;
}

export interface ApiServerOptions extends ApiResources {
  /** 0 picks a free port. */
  port: number;
  host: string;
}

function isEventStream(req: IncomingMessage): boolean {
  return req.headers.accept?.includes('text/event-stream') ?? false;
}

/**
 * Serves the AppRouter over Node's own HTTP server (tRPC's standalone handler): queries and mutations as
 * HTTP, subscriptions as Server-Sent Events.
 */
export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const handler = createHTTPHandler({
    router: appRouter,
    maxBodySize: MAX_BODY_BYTES,
    maxBatchSize: MAX_BATCH_CALLS,
    createContext: ({ req }) => createContext(options, req.headers.authorization),
    onError({ error, path }) {
      if (error.code === 'INTERNAL_SERVER_ERROR')
        logger.error({ err: error.cause ?? error, path }, 'request failed');
    },
  });
  const inFlight = new Set<{ req: IncomingMessage; res: ServerResponse }>();
  let draining = false;
  const server = createServer((req, res) => {
    if (draining) {
      // A keep-alive connection can still bring a request: serve it, but let the client go elsewhere next.
      res.setHeader('connection', 'close');
      if (isEventStream(req)) {
        res.writeHead(503, { 'retry-after': '1' }).end();
        return;
      }
    }
    const request = { req, res };
    inFlight.add(request);
    res.once('close', () => {
      inFlight.delete(request);
      // Its connection is idle now; while draining, idle connections close so `server.close` can finish.
      if (draining) setImmediate(() => server.closeIdleConnections());
    });
    handler(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;

  return {
    url: `http://${host}:${port}`,
    async close({ drainMs = DEFAULT_DRAIN_MS } = {}) {
      draining = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const { req, res } of inFlight) {
        if (!res.headersSent) res.setHeader('connection', 'close');
        // tRPC ends a subscription when its request is aborted: the generator returns and the response
        // ends with a clean end of stream, which the client's EventSource answers by reconnecting.
        if (isEventStream(req)) req.emit('aborted');
      }
      server.closeIdleConnections();
      let timer: NodeJS.Timeout | undefined;
      const drained = await Promise.race([
        closed.then(() => true),
        new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), drainMs))),
      ]);
      clearTimeout(timer);
      if (!drained) {
        logger.warn(
          { requests: inFlight.size },
          'requests still running after the drain period; closing them',
        );
        server.closeAllConnections();
        await closed;
      }
    },
  };
}
