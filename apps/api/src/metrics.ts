import type { IncomingMessage, ServerResponse } from 'node:http';
import { ConfigurationError, type Database, poolUsage, UNAVAILABLE_RETRY_AFTER_SECONDS } from '@huddle/db';
import type { Logger } from 'pino';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { z } from 'zod';
import { isOpsToken, OPS_TOKEN_VARIABLE } from './operator.ts';
import { appRouter } from './router.ts';
import type { SignInLimit } from './sign-in-limits.ts';
import type { OpenStreams } from './stream-limits.ts';

export const METRICS_VARIABLE = 'HUDDLE_METRICS';
export const METRICS_PATH = '/metrics';

/**
 * Who may read `/metrics`: `operators`, a caller with the operators' bearer token (`HUDDLE_OPS_TOKEN`, the
 * scraper's credential); `public`, anyone who reaches the port (a port only the scraper's network reaches).
 */
export type MetricsAccess = 'operators' | 'public';

const envSchema = z.object({ [METRICS_VARIABLE]: z.enum(['off', 'on', 'public']).default('off') });

/**
 * `HUDDLE_METRICS`: `off` (the default: no `/metrics`, nothing recorded), `on` (for the operators' token,
 * which must then be set) or `public`. Read once at start; a bad value is a ConfigurationError naming it.
 */
export function metricsAccessFromEnv(env: NodeJS.ProcessEnv = process.env): MetricsAccess | undefined {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigurationError(`${issue.path.join('.')}: ${issue.message}`);
  }
  const setting = parsed.data[METRICS_VARIABLE];
  if (setting === 'off') return undefined;
  if (setting === 'public') return 'public';
  if (!env[OPS_TOKEN_VARIABLE]) {
    throw new ConfigurationError(
      `${METRICS_VARIABLE}: on needs ${OPS_TOKEN_VARIABLE} (the scraper's bearer token); public serves ${METRICS_PATH} to anyone who reaches the port`,
    );
  }
  return 'operators';
}

/** The label of a call whose path names no procedure: a client can send any path, the series stay few. */
export const UNKNOWN_PROCEDURE = '(unknown)';
/** A call's outcome when it succeeded; otherwise its tRPC error code. */
const OK = 'OK';
/** The outcome of a call whose client went away before its answer was complete (tRPC's code for it). */
const CLIENT_CLOSED = 'CLIENT_CLOSED_REQUEST';

/** A call that failed, as the request's access line records it: its tRPC code, and its procedure if known. */
export interface CallFailure {
  code: string;
  /** Absent when the whole request failed before its calls were told apart (a malformed body, a plain route). */
  path?: string;
}

/** Seconds; from a cached read (sub-millisecond) to the statement timeout (10 s) and beyond. */
const REQUEST_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const JOB_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300];

/**
 * The API process's Prometheus metrics (prom-client), served at `/metrics`. Per call the request path pays
 * one counter increment and one histogram observation, on label sets it reuses; everything else (the pool,
 * the event streams, the process) is read when a scrape asks.
 */
export class ApiMetrics {
  readonly access: MetricsAccess;
  private readonly registry = new Registry();
  /** Label values a call may carry: the router's procedures, and the server's plain routes (`attach`). */
  private readonly known = new Set(Object.keys(appRouter._def.procedures));
  private readonly calls: Counter<'procedure' | 'code'>;
  private readonly latency: Histogram<'procedure'>;
  private readonly jobs: Histogram<'job' | 'outcome'>;
  private readonly signInsLimited: Counter<'limit'>;
  /** `{ procedure }` and `{ procedure, code }` label objects, made once per value. */
  private readonly procedureLabels = new Map<string, { procedure: string }>();
  private readonly callLabels = new Map<string, Map<string, { procedure: string; code: string }>>();

  constructor(access: MetricsAccess) {
    this.access = access;
    const registers = [this.registry];
    this.calls = new Counter({
      name: 'huddle_requests_total',
      help: 'Calls answered, by procedure (or plain HTTP route) and outcome: OK or the tRPC error code',
      labelNames: ['procedure', 'code'],
      registers,
    });
    this.latency = new Histogram({
      name: 'huddle_request_duration_seconds',
      help: 'Time from a request arriving to its answer ending, by procedure (each call of a batch counts the batch)',
      labelNames: ['procedure'],
      buckets: REQUEST_BUCKETS,
      registers,
    });
    this.jobs = new Histogram({
      name: 'huddle_job_duration_seconds',
      help: 'Scheduled job runs by job and outcome (ran, skipped: its slot ran elsewhere, failed), with their duration',
      labelNames: ['job', 'outcome'],
      buckets: JOB_BUCKETS,
      registers,
    });
    this.signInsLimited = new Counter({
      name: 'huddle_sign_in_limited_total',
      help: 'Sign-in attempts refused for going over a limit, by limit',
      labelNames: ['limit'],
      registers,
    });
    collectDefaultMetrics({ register: this.registry });
  }

  /**
   * Reports what a server holds, read at each scrape: the database's pool and its open event streams.
   * `routes` are the server's plain HTTP routes, counted under their own path.
   */
  attach({ db, streams, routes }: { db: Database; streams: OpenStreams; routes: readonly string[] }): void {
    for (const route of routes) this.known.add(route);
    const registers = [this.registry];
    new Gauge({
      name: 'huddle_event_streams_open',
      help: 'Event streams (subscriptions over SSE) open in this process',
      registers,
      collect() {
        this.set(streams.count);
      },
    });
    const pool = { pool: db.target.kind === 'postgresql' ? 'primary' : 'embedded' };
    new Gauge({
      name: 'huddle_db_pool_max_connections',
      help: 'Size of the database pool (the embedded database: its one connection)',
      labelNames: ['pool'],
      registers,
      async collect() {
        this.set(pool, (await poolUsage(db)).max);
      },
    });
    if (db.target.kind !== 'postgresql') return;
    new Gauge({
      name: 'huddle_db_pool_connections',
      help: 'Connections of the PostgreSQL pool by state (in_use, idle)',
      labelNames: ['pool', 'state'],
      registers,
      async collect() {
        const usage = await poolUsage(db);
        if (usage.kind !== 'postgresql') return;
        this.set({ ...pool, state: 'in_use' }, usage.inUse);
        this.set({ ...pool, state: 'idle' }, usage.idle);
      },
    });
    new Gauge({
      name: 'huddle_db_pool_waiting',
      help: 'Requests waiting for a connection of the PostgreSQL pool',
      labelNames: ['pool'],
      registers,
      async collect() {
        const usage = await poolUsage(db);
        if (usage.kind === 'postgresql') this.set(pool, usage.waiting);
      },
    });
  }

  /**
   * Counts one request's calls: each procedure of `procedures` (a batch names several) with its outcome —
   * the code of the failure recorded for it, else of a failure of the whole request, else OK (or
   * CLIENT_CLOSED_REQUEST when the answer did not finish) — and observes the request's duration for each.
   */
  recordRequest(
    procedures: readonly string[],
    failures: readonly CallFailure[],
    finished: boolean,
    seconds: number,
  ): void {
    const whole = failures.find((failure) => failure.path === undefined)?.code;
    const otherwise = whole ?? (finished ? OK : CLIENT_CLOSED);
    // Each failure counts once: a batch may call one procedure twice, and only one of them failed.
    let pending: CallFailure[] | undefined;
    for (const path of procedures) {
      const procedure = this.known.has(path) ? path : UNKNOWN_PROCEDURE;
      let code = otherwise;
      if (failures.length > 0) {
        pending ??= failures.filter((failure) => failure.path !== undefined);
        const index = pending.findIndex((failure) => failure.path === path);
        if (index >= 0) code = pending.splice(index, 1)[0]!.code;
      }
      this.calls.inc(this.callLabelsOf(procedure, code));
      this.latency.observe(this.procedureLabelsOf(procedure), seconds);
    }
  }

  /** Counts a job's run (`ran` or `skipped`) or failure, with how long it took. */
  recordJob(job: string, outcome: 'ran' | 'skipped' | 'failed', seconds: number): void {
    this.jobs.observe({ job, outcome }, seconds);
  }

  recordSignInLimited(limit: SignInLimit): void {
    this.signInsLimited.inc({ limit });
  }

  /**
   * Answers a scrape of `/metrics` in Prometheus's text format; with `operators` access only to the
   * operators' bearer token (401, recorded in the request's access-line `record`, otherwise). A scrape that
   * cannot be collected now (the pool closing) is a 503 the scraper retries.
   */
  async serve(
    req: IncomingMessage,
    res: ServerResponse,
    opsToken: string | undefined,
    record: { log: Logger; errors: CallFailure[] },
  ): Promise<void> {
    const authorization = req.headers.authorization ?? '';
    const bearer = /^bearer /i.test(authorization) ? authorization.slice('bearer '.length).trim() : '';
    if (this.access === 'operators' && !isOpsToken(opsToken, bearer)) {
      record.errors.push({ code: 'UNAUTHORIZED' });
      res
        .writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer' })
        .end(`authorization: ${METRICS_PATH} needs the operators' token (Bearer $${OPS_TOKEN_VARIABLE})\n`);
      return;
    }
    try {
      const body = await this.exposition();
      res.writeHead(200, { 'content-type': this.registry.contentType }).end(body);
    } catch (error) {
      record.errors.push({ code: 'SERVICE_UNAVAILABLE' });
      record.log.warn({ err: error }, 'metrics could not be collected');
      res
        .writeHead(503, {
          'content-type': 'text/plain',
          'retry-after': String(UNAVAILABLE_RETRY_AFTER_SECONDS),
        })
        .end('metrics: could not be collected now; retry\n');
    }
  }

  /** Every metric in Prometheus's text format, as a scrape reads it (collecting the gauges first). */
  exposition(): Promise<string> {
    return this.registry.metrics();
  }

  private procedureLabelsOf(procedure: string): { procedure: string } {
    const cached = this.procedureLabels.get(procedure);
    if (cached) return cached;
    const labels = { procedure };
    this.procedureLabels.set(procedure, labels);
    return labels;
  }

  private callLabelsOf(procedure: string, code: string): { procedure: string; code: string } {
    const byCode = this.callLabels.get(procedure) ?? new Map<string, { procedure: string; code: string }>();
    const cached = byCode.get(code);
    if (cached) return cached;
    const labels = { procedure, code };
    byCode.set(code, labels);
    this.callLabels.set(procedure, byCode);
    return labels;
  }
}
