import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import path from 'node:path';
import type { Database } from '@huddle/db';
import { ModuleResources } from '@huddle/db';
import { PLANNER_ROOTS_VARIABLE } from '@huddle/planner';
import { TRPCClientError } from '@trpc/client';
import { pino } from 'pino';
import { expect } from 'vitest';
import type { AppRouter } from '../src/router.ts';
import { type ApiServer, type ApiServerOptions, startApiServer } from '../src/server.ts';

export const TEST_SECRET_TEXT = 'test-secret-of-at-least-thirty-two-characters';
export const TEST_SECRET = new TextEncoder().encode(TEST_SECRET_TEXT);
const MAIN = path.resolve(import.meta.dirname, '../src/start.ts');

/** Warnings and errors only: an access line per request would bury the test report. */
export const TEST_LOGGER = pino({ name: 'huddle-api', level: 'warn' });

/**
 * An API server on a free port over `db`, inside the test process; planner reads under `plannerRoots` only;
 * `options` adds what a test configures beyond that (a logger, the operators' token, and `env`: settings the
 * modules' resources read, such as a webhook secret).
 */
export async function startTestServer(
  db: Database,
  plannerRoots: readonly string[] = [],
  {
    env = {},
    ...options
  }: Pick<ApiServerOptions, 'logger' | 'opsToken' | 'maxStreamsPerActor'> & { env?: NodeJS.ProcessEnv } = {},
): Promise<ApiServer> {
  return startApiServer({
    db,
    secret: TEST_SECRET,
    moduleResources: await ModuleResources.fromEnv(db.modules, {
      [PLANNER_ROOTS_VARIABLE]: plannerRoots.join(path.delimiter),
      ...env,
    }),
    port: 0,
    host: '127.0.0.1',
    logger: TEST_LOGGER,
    ...options,
  });
}

/** The tRPC error a call failed with; fails the test when the call succeeds or fails otherwise. */
export async function failure(call: Promise<unknown>): Promise<TRPCClientError<AppRouter>> {
  try {
    await call;
  } catch (error) {
    if (error instanceof TRPCClientError) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

export interface ApiProcess {
  child: ChildProcessWithoutNullStreams;
  url: string;
  output(): string;
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
}

const running = new Set<ChildProcessWithoutNullStreams>();

/** Kills every API process this test file started and has not stopped: call in afterAll, so failures don't leak. */
export async function killApiProcesses(): Promise<void> {
  await Promise.all(
    [...running].map(
      (child) =>
        new Promise<void>((resolve) => {
          child.once('exit', () => resolve());
          child.kill('SIGKILL');
        }),
    ),
  );
}

/** Runs the real entry point (what `pnpm start` runs) as its own process on a free port. */
export function runApiProcess(env: NodeJS.ProcessEnv): {
  child: ChildProcessWithoutNullStreams;
  output(): string;
  exited: Promise<number | null>;
} {
  const child = spawn(process.execPath, [MAIN], {
    env: { ...process.env, HUDDLE_PORT: '0', HUDDLE_LOG_LEVEL: 'silent', ...env },
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  running.add(child);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      running.delete(child);
      resolve(code);
    }),
  );
  return { child, output: () => output, exited };
}

/** Like runApiProcess, resolving once the process prints where it listens. */
export async function startApiProcess(env: NodeJS.ProcessEnv): Promise<ApiProcess> {
  const started = runApiProcess(env);
  const url = await new Promise<string>((resolve, reject) => {
    // A first start on a new embedded database (initdb, migrate, seed): ~15 s under the full `pnpm test`.
    const timer = setTimeout(() => reject(new Error(`no banner within 60 s:\n${started.output()}`)), 60_000);
    started.child.stdout.on('data', () => {
      const found = started.output().match(/listening on (http:\/\/\S+)/)?.[1];
      if (found) {
        clearTimeout(timer);
        resolve(found);
      }
    });
    void started.exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`exited ${code} before listening:\n${started.output()}`));
    });
  });
  return { ...started, url };
}

/** How long `collect`'s `next()` waits for an event before failing the test with what it waited for. */
const EVENT_WAIT_MS = 5_000;

/**
 * Collects a subscription's events after its `subscribed` message: `ready` resolves once the server listens,
 * `next()` with the next event (failing after a few seconds, rather than at the test's timeout).
 */
export function collect<Event>(
  subscribe: (handlers: {
    onData(message: Event | { type: 'subscribed' }): void;
    onError(error: unknown): void;
  }) => { unsubscribe(): void },
) {
  const received: Event[] = [];
  const waiting: ((event: Event) => void)[] = [];
  let subscribed: () => void;
  const ready = new Promise<void>((resolve) => (subscribed = resolve));
  const subscription = subscribe({
    onData(message) {
      if ((message as { type: string }).type === 'subscribed') return subscribed();
      const event = message as Event;
      const waiter = waiting.shift();
      if (waiter) waiter(event);
      else received.push(event);
    },
    onError(error) {
      throw error;
    },
  });
  const next = (): Promise<Event> => {
    if (received.length > 0) return Promise.resolve(received.shift()!);
    return new Promise<Event>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiting.splice(waiting.indexOf(waiter), 1);
        reject(new Error(`no event within ${EVENT_WAIT_MS / 1000} s`));
      }, EVENT_WAIT_MS);
      const waiter = (event: Event) => {
        clearTimeout(timer);
        resolve(event);
      };
      waiting.push(waiter);
    });
  };
  return { ready, next, stop: () => subscription.unsubscribe() };
}

export interface JoinAnswer {
  status: number;
  retryAfterHeader: string | null;
  error?: { data: { code: string; httpStatus: number; retryAfter: number | null } };
}

/** A `poker.join` sign-in over plain HTTP, so a test sees the status and the `retry-after` header. */
export async function join(url: string, input: { name: string; email?: string }): Promise<JoinAnswer> {
  const response = await fetch(`${url}/poker.join`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(input),
  });
  const body = (await response.json()) as Pick<JoinAnswer, 'error'>;
  return {
    status: response.status,
    retryAfterHeader: response.headers.get('retry-after'),
    error: body.error,
  };
}

/** Expects a sign-in refused over a limit: 429, TOO_MANY_REQUESTS, and the same retryAfter in body and header. */
export function expectLimited(answer: JoinAnswer, windowSeconds: number): void {
  expect(answer.status).toBe(429);
  expect(answer.error?.data).toMatchObject({ code: 'TOO_MANY_REQUESTS', httpStatus: 429 });
  const retryAfter = answer.error!.data.retryAfter!;
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(windowSeconds);
  expect(answer.retryAfterHeader).toBe(String(retryAfter));
}
