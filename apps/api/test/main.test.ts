import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHuddleClient } from '../src/client.ts';

const MAIN = path.resolve(import.meta.dirname, '../src/main.ts');

interface Started {
  child: ChildProcess;
  url: string;
  output: () => string;
}

/** Starts the real entry point (as `pnpm start` does) on a free port and waits for its banner. */
function startMain(env: NodeJS.ProcessEnv): Promise<Started> {
  const child = spawn(process.execPath, [MAIN], {
    env: { ...process.env, HUDDLE_PORT: '0', HUDDLE_LOG_LEVEL: 'silent', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no banner within 30 s:\n${output}`)), 30_000);
    child.stdout!.on('data', () => {
      const url = output.match(/listening on (http:\/\/\S+)/)?.[1];
      if (url) {
        clearTimeout(timer);
        resolve({ child, url, output: () => output });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited ${code} before listening:\n${output}`));
    });
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** Runs the entry point to completion, for configurations it must refuse. */
async function runMain(env: NodeJS.ProcessEnv): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [MAIN], {
    env: { ...process.env, HUDDLE_PORT: '0', HUDDLE_LOG_LEVEL: 'silent', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  return { code: await exited(child), stderr };
}

describe('pnpm start (apps/api/src/main.ts) on the embedded database', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'huddle-main-'));
  });
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  it('migrates, serves health, exits 0 on SIGTERM within 5 s, and keeps its data across a restart', async () => {
    const env = { HUDDLE_DATA_DIR: dataDir, DATABASE_URL: '' };
    const first = await startMain(env);
    expect(first.output()).toContain(`curl -s ${first.url}/health`);
    const health = await createHuddleClient(first.url).health.query();
    expect(health.status).toBe('ok');
    const secret = await readFile(path.join(dataDir, 'huddle-secret'), 'utf8');

    // Exit code 0 means the graceful path finished: past 5 s the process forces itself out with code 1.
    const stopped = exited(first.child);
    first.child.kill('SIGTERM');
    expect(await stopped).toBe(0);

    const second = await startMain(env);
    try {
      const again = await createHuddleClient(second.url).health.query();
      expect(again.modules).toEqual(health.modules);
      expect(await readFile(path.join(dataDir, 'huddle-secret'), 'utf8')).toBe(secret);
    } finally {
      second.child.kill('SIGINT');
      expect(await exited(second.child)).toBe(0);
    }
  });

  it('refuses a malformed DATABASE_URL with one line', async () => {
    const { code, stderr } = await runMain({ DATABASE_URL: 'mysql://nope' });
    expect(code).toBe(1);
    expect(stderr).toBe('huddle api: DATABASE_URL: must be a postgres:// or postgresql:// URL\n');
  });

  it('reports an unreachable server with one line', async () => {
    const { code, stderr } = await runMain({
      DATABASE_URL: 'postgres://huddle:secret@127.0.0.1:1/huddle',
      HUDDLE_SECRET: 'x'.repeat(32),
    });
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(
      /^huddle api: cannot reach PostgreSQL at postgres:\/\/huddle:\*\*\*@127\.0\.0\.1:1\/huddle: /,
    );
  });
});
