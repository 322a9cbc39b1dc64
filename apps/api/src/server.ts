import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { type AddressInfo, Server as NetServer } from 'node:net';
import { IDEMPOTENCY_KEY_HEADER } from '@huddle/client/idempotency-key';
import { MAX_BATCH_CALLS } from '@huddle/client/limits';
import { WAL_POSITION_HEADER } from '@huddle/client/read-position';
import { type SessionPolicy, sessionPolicyFromEnv, UNAVAILABLE_RETRY_AFTER_SECONDS } from '@huddle/db';
import { createHTTPHandler } from '@trpc/server/adapters/standalone';
import type { Logger } from 'pino';
import packageJson from '../package.json' with { type: 'json' };
import { bulkheadsFor } from './bulkhead.ts';
import { clientAddressOf } from './client-address.ts';
import { DEFAULT_IDEMPOTENCY_KEY_HOURS } from './idempotency.ts';
import { logger as processLogger } from './logger.ts';
import { type ApiMetrics, type CallFailure, METRICS_PATH } from './metrics.ts';
import { OPENAPI_PATH, openApiDocument } from './openapi.ts';
import { procedurePaths } from './procedure-paths.ts';
import { appRouter } from './router.ts';
import { checkHealth } from './routers/health.ts';
import {
  createSignInLimiter,
  DEFAULT_SIGN_IN_LIMITS,
  type SignInLimits,
  SignInRateLimitedError,
} from './sign-in-limits.ts';
import { DEFAULT_MAX_STREAMS_PER_ACTOR, OpenStreams } from './stream-limits.ts';
import { type ApiContext, type ApiResources, createContext, retryAfterSeconds } from './trpc.ts';
import { serveWebhook, webhookRouteOf, webhookRoutes } from './webhooks.ts';

/** Generous for any real input (a 10,000-story reorder is ~80 kB), small enough that no body can exhaust memory. */
const MAX_BODY_BYTES = 1024 * 1024;
/**
 * Readiness for a load balancer: the health procedure's check as plain HTTP, 200 only when this process can
 * serve (the database reachable and migrated, not draining), else 503 with Retry-After.
 */
const READINESS_PATH = '/readyz';
/** What `GET /` answers: where a newcomer finds the API's description, its health checks and the docs. */
const API_INDEX = JSON.stringify({
  name: 'Huddle API',
  version: packageJson.version,
  openapi: OPENAPI_PATH,
  health: '/health',
  liveness: '/livez',
  readiness: READINESS_PATH,
  docs: packageJson.homepage,
});
/** Liveness: the process answers (no database work), 200 also while it drains: restarting it would not help. */
const LIVENESS_PATH = '/livez';
/** How long `close` lets in-flight requests finish by default. */
const DEFAULT_DRAIN_MS = 3_000;
/**
 * How long a drain leaves idle keep-alive connections open: a client may already be sending its next request
 * on one, and closing it then resets that request. Requests in this window are answered with `connection: close`.
 */
const IDLE_CONNECTION_GRACE_MS = 1_000;

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

export interface ApiServerOptions extends Omit<ApiResources, 'sessionPolicy'> {
  /** Defaults to sessionPolicyFromEnv (HUDDLE_ACCESS_TOKEN_MINUTES, HUDDLE_SESSION_DAYS). */
  sessionPolicy?: SessionPolicy;
  /** 0 picks a free port. */
  port: number;
  host: string;
  /** Defaults to DEFAULT_SIGN_IN_LIMITS; the process reads them from the environment (signInLimitsFromEnv). */
  signInLimits?: SignInLimits;
  /** Proxies whose X-Forwarded-For names the client (trustedProxiesFromEnv); none by default. */
  trustedProxies?: ReadonlySet<string>;
  /** Event streams one actor may hold open; defaults to DEFAULT_MAX_STREAMS_PER_ACTOR (maxStreamsPerActorFromEnv). */
  maxStreamsPerActor?: number;
  /** Defaults to the process's logger (JSON on stderr). */
  logger?: Logger;
  /** How long a mutation's result is kept for its `Idempotency-Key`; defaults to DEFAULT_IDEMPOTENCY_KEY_HOURS. */
  idempotencyKeyHours?: number;
  /** Records every call and serves `/metrics` (metricsAccessFromEnv); absent, nothing is recorded. */
  metrics?: ApiMetrics;
}

function isEventStream(req: IncomingMessage): boolean {
  return req.headers.accept?.includes('text/event-stream') ?? false;
}

/** A request id a client may choose (to follow its call through the logs); anything else gets a new one. */
const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** What the access line of one request reports, filled in as the request goes. */
interface RequestRecord {
  log: Logger;
  startedAt: number;
  actor?: { module: string; subject: string };
  /** The calls that failed: their tRPC error codes, and procedures. */
  errors: CallFailure[];
  /** The plain HTTP route served (`/readyz`, …), which the metrics count under its path; unset for tRPC. */
  route?: string;
}

function requestIdOf(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

/**
 * Serves the AppRouter over Node's own HTTP server (tRPC's standalone handler): queries and mutations as
 * HTTP, subscriptions as Server-Sent Events.
 */
export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  // Generated once, before listening: the router does not change while the server runs, and a procedure
  // the generator cannot describe (a bug) stops the start rather than a request.
  const apiDescription = JSON.stringify(openApiDocument(appRouter, options.db.modules));
  const logger = options.logger ?? processLogger;
  const signIns = await createSignInLimiter(options.db, options.signInLimits ?? DEFAULT_SIGN_IN_LIMITS);
  const bulkheads = bulkheadsFor(options.db.target);
  const streams = new OpenStreams(options.maxStreamsPerActor ?? DEFAULT_MAX_STREAMS_PER_ACTOR);
  const records = new WeakMap<IncomingMessage, RequestRecord>();
  const idempotencyWindowSeconds = (options.idempotencyKeyHours ?? DEFAULT_IDEMPOTENCY_KEY_HOURS) * 3600;
  const trustedProxies = options.trustedProxies ?? new Set<string>();
  const metrics = options.metrics;
  const webhooks = webhookRoutes(options.db.modules);
  const resources: ApiResources = {
    ...options,
    sessionPolicy: options.sessionPolicy ?? sessionPolicyFromEnv(),
  };
  metrics?.attach({
    db: options.db,
    streams,
    routes: [READINESS_PATH, LIVENESS_PATH, METRICS_PATH, ...webhooks.keys()],
  });
  const handler = createHTTPHandler({
    router: appRouter,
    maxBodySize: MAX_BODY_BYTES,
    maxBatchSize: MAX_BATCH_CALLS,
    async createContext({ req, info }): Promise<ApiContext> {
      const record = records.get(req)!;
      const auth = await createContext(resources, req.headers.authorization);
      if (auth.token) record.actor = { module: auth.token.module, subject: auth.token.subject };
      const after = req.headers[WAL_POSITION_HEADER];
      const key = req.headers[IDEMPOTENCY_KEY_HEADER];
      return {
        ...auth,
        log: record.log,
        clientAddress: clientAddressOf(req, trustedProxies),
        userAgent: req.headers['user-agent'],
        signIns,
        bulkheads,
        draining,
        response: {},
        streams,
        readPosition: { after: Array.isArray(after) ? after.join(', ') : after, written: undefined },
        idempotency: {
          header: Array.isArray(key) ? key.join(', ') : key,
          calls: info.calls.length,
          windowSeconds: idempotencyWindowSeconds,
        },
      };
    },
    onError({ error, path, req }) {
      const record = records.get(req)!;
      record.errors.push({ code: error.code, path });
      if (error.cause instanceof SignInRateLimitedError) metrics?.recordSignInLimited(error.cause.limit);
      // Only a bug is an error; a client's mistake is the client's, worth a debug line at most (a log flood
      // any client could cause otherwise). The message is left out: a parse error may quote the body.
      // The database being away is an operator's concern (a warning), never a bug.
      if (error.code === 'INTERNAL_SERVER_ERROR')
        record.log.error({ err: error.cause ?? error, path }, 'request failed');
      else if (error.code === 'SERVICE_UNAVAILABLE')
        record.log.warn({ path, reason: error.message }, 'request unavailable');
      else record.log.debug({ path, code: error.code }, 'request refused');
    },
    responseMeta({ ctx, paths, errors }) {
      const retryAfter = Math.max(0, ...errors.map((error) => retryAfterSeconds(error.cause) ?? 0));
      const written = ctx?.readPosition.written;
      const status = paths?.length === 1 ? ctx?.response.status : undefined;
      return {
        ...(status !== undefined && { status }),
        headers: {
          ...(retryAfter > 0 && { 'retry-after': String(retryAfter) }),
          ...(status === 503 && { 'retry-after': String(UNAVAILABLE_RETRY_AFTER_SECONDS) }),
          ...(written && { [WAL_POSITION_HEADER]: written }),
        },
      };
    },
  });
  const inFlight = new Set<{ req: IncomingMessage; res: ServerResponse }>();
  let draining = false;
  let closingIdleConnections = false;
  const server = createServer((req, res) => {
    const requestId = requestIdOf(req);
    res.setHeader('x-request-id', requestId);
    const record: RequestRecord = {
      log: logger.child({ requestId }),
      startedAt: performance.now(),
      errors: [],
    };
    records.set(req, record);
    res.once('close', () => {
      const procedures = procedurePaths(req.url);
      const milliseconds = performance.now() - record.startedAt;
      // One access line per request: what was called, by whom, how it ended. Never headers or inputs.
      record.log.info(
        {
          method: req.method,
          procedures,
          status: res.statusCode,
          durationMs: Math.round(milliseconds * 10) / 10,
          actor: record.actor,
          errors: record.errors.length > 0 ? record.errors.map((failure) => failure.code) : undefined,
          completed: res.writableFinished,
        },
        'request',
      );
      metrics?.recordRequest(
        record.route === undefined ? procedures : [record.route],
        record.errors,
        res.writableFinished,
        milliseconds / 1000,
      );
    });
    if (draining) {
      // A keep-alive connection can still bring a request: serve it, but let the client go elsewhere next.
      res.setHeader('connection', 'close');
      if (isEventStream(req)) {
        record.errors.push({ code: 'SERVICE_UNAVAILABLE' });
        res.writeHead(503, { 'retry-after': '1' }).end();
        return;
      }
    }
    const request = { req, res };
    inFlight.add(request);
    res.once('close', () => {
      inFlight.delete(request);
      // Its connection is idle now; once the drain closes idle connections, it closes so the server can finish.
      if (closingIdleConnections) setImmediate(() => server.closeIdleConnections());
    });
    if (req.url === LIVENESS_PATH) {
      record.route = LIVENESS_PATH;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'ok' }));
      return;
    }
    if (req.url === READINESS_PATH) {
      record.route = READINESS_PATH;
      void checkHealth(options.db, draining).then((report) => {
        const ready = report.status === 'ok';
        if (!ready) record.errors.push({ code: 'SERVICE_UNAVAILABLE' });
        res
          .writeHead(ready ? 200 : 503, {
            'content-type': 'application/json',
            ...(!ready && { 'retry-after': String(UNAVAILABLE_RETRY_AFTER_SECONDS) }),
          })
          .end(JSON.stringify({ status: report.status }));
      });
      return;
    }
    if (req.url === '/') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(API_INDEX);
      return;
    }
    if (req.url === OPENAPI_PATH) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(apiDescription);
      return;
    }
    if (metrics && req.url === METRICS_PATH) {
      record.route = METRICS_PATH;
      void metrics.serve(req, res, options.opsToken, record);
      return;
    }
    const webhook = webhookRouteOf(webhooks, req.url);
    if (webhook) {
      record.route = webhook.webhook.path;
      const resources = {
        db: options.db,
        moduleResources: options.moduleResources,
        maxBodyBytes: MAX_BODY_BYTES,
      };
      void serveWebhook(req, res, webhook, resources, record);
      return;
    }
    handler(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  }).catch(async (error: unknown) => {
    await signIns.close();
    throw error;
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;

  return {
    url: `http://${host}:${port}`,
    async close({ drainMs = DEFAULT_DRAIN_MS } = {}) {
      draining = true;
      // The listener only: http's `close` would also close the idle keep-alive connections at once.
      const closed = new Promise<void>((resolve) => NetServer.prototype.close.call(server, () => resolve()));
      for (const { req, res } of inFlight) {
        if (!res.headersSent) res.setHeader('connection', 'close');
        // tRPC ends a subscription when its request is aborted: the generator returns and the response
        // ends with a clean end of stream, which the client's EventSource answers by reconnecting.
        if (isEventStream(req)) req.emit('aborted');
      }
      const idleGrace = setTimeout(
        () => {
          closingIdleConnections = true;
          server.closeIdleConnections();
        },
        Math.min(IDLE_CONNECTION_GRACE_MS, drainMs),
      );
      let timer: NodeJS.Timeout | undefined;
      const drained = await Promise.race([
        closed.then(() => true),
        new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), drainMs))),
      ]);
      clearTimeout(timer);
      clearTimeout(idleGrace);
      if (!drained) {
        logger.warn(
          { requests: inFlight.size },
          'requests still running after the drain period; closing them',
        );
        server.closeAllConnections();
        await closed;
      }
      await signIns.close();
    },
  };
}
