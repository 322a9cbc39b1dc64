import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatabaseUnavailableError, openDatabase } from '../src/index.ts';

const HOLDER = path.resolve(import.meta.dirname, 'fixtures/hold-embedded-database.ts');

let dataDir: string;
const children = new Set<ChildProcessWithoutNullStreams>();
beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'huddle-lock-'));
});
afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await rm(dataDir, { recursive: true, force: true });
});

/** Runs the holder fixture on `dataDir`; `ready()` resolves once it holds the directory. */
function holder() {
  const child = spawn(process.execPath, [HOLDER, dataDir]);
  children.add(child);
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = () =>
    new Promise<void>((resolve, reject) => {
      const check = () => output.includes('ready\n') && resolve();
      check();
      child.stdout.on('data', check);
      void exited.then((code) => reject(new Error(`holder exited ${code}: ${output}`)));
    });
  return { child, ready, exited, output: () => output };
}

function inUseBy(pid: number | undefined): string {
  return `the embedded database in ${dataDir} is in use by process ${pid} (stop it, or set HUDDLE_DATA_DIR to another directory)`;
}

describe('the embedded data directory belongs to one process at a time', () => {
  // The holder's PGlite initdb in a child process: 22 s under the full `pnpm test` (four suites at a time).
  it('refuses a second process while the first holds it, and opens once the holder is SIGKILLed', async () => {
    const first = holder();
    await first.ready();

    const error = await openDatabase({ modules: [], target: { kind: 'pglite', dataDir } }).catch(
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    expect((error as Error).message).toBe(inUseBy(first.child.pid));

    const second = holder();
    expect(await second.exited).toBe(1);
    expect(second.output()).toBe(`${inUseBy(first.child.pid)}\n`);

    // A crash leaves no stale lock: the kernel drops it with the process.
    first.child.kill('SIGKILL');
    await first.exited;
    const db = await openDatabase({ modules: [], target: { kind: 'pglite', dataDir } });
    try {
      expect(await db.orm.em.fork().execute('select 1 as ok')).toEqual([{ ok: 1 }]);
    } finally {
      await db.close();
    }
  }, 90_000);

  it('refuses a second open in the same process; close hands the directory on', async () => {
    const db = await openDatabase({ modules: [], target: { kind: 'pglite', dataDir } });
    const error = await openDatabase({ modules: [], target: { kind: 'pglite', dataDir } }).catch(
      (reason: unknown) => reason,
    );
    expect((error as Error).message).toBe(inUseBy(process.pid));
    await db.close();

    const next = holder();
    await next.ready();
    next.child.kill('SIGKILL');
    await next.exited;
  });
});
