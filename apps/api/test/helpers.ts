import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import path from 'node:path';
import type { Database } from '@huddle/db';
import { TRPCClientError } from '@trpc/client';
import type { AppRouter } from '../src/router.ts';
import { type ApiServer, type ApiServerOptions, startApiServer } from '../src/server.ts';

export const TEST_SECRET_TEXT = 'test-secret-of-at-least-thirty-two-characters';
export const TEST_SECRET = new TextEncoder().encode(TEST_SECRET_TEXT);
const MAIN = path.resolve(import.meta.dirname, '../src/main.ts');

/**
 * An API server on a free port over `db`, inside the test process; planner reads under `plannerRoots` only;
 * `options` adds what a test configures beyond that (a webhook secret, a logger).
 */
export function startTestServer(
  db: Database,
  plannerRoots: readonly string[] = [],
  options: Pick<ApiServerOptions, 'decisionsWebhookSecret' | 'logger'> = {},
): Promise<ApiServer> {
  return startApiServer({
    db,
    secret: TEST_SECRET,
    plannerAccess: { roots: plannerRoots },
    port: 0,
    host: '127.0.0.1',
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
