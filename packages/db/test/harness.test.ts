import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, inject, it } from 'vitest';
import { listDatabases } from '../../testing/src/index.ts';

const run = promisify(execFile);
const packageRoot = path.resolve(import.meta.dirname, '..');

/** Runs the harness fixture suite (two files, one failing test) in a child vitest. */
async function runFixtureSuite(env: NodeJS.ProcessEnv) {
  const vitest = path.join(packageRoot, 'node_modules/vitest/vitest.mjs');
  const config = path.join(packageRoot, 'test/harness-fixture/vitest.config.ts');
  try {
    const { stdout } = await run(process.execPath, [vitest, 'run', '--config', config], {
      cwd: packageRoot,
      env: { ...env, HUDDLE_HARNESS_FIXTURE_FAIL: '1', CI: 'true' },
    });
    return { exitCode: 0, stdout };
  } catch (error) {
    const failed = error as { code: number; stdout: string };
    return { exitCode: failed.code, stdout: failed.stdout };
  }
}

function databasesNamed(stdout: string): string[] {
  return [...stdout.matchAll(/HARNESS_DATABASE=(\w+)/g)].map((match) => match[1]!);
}

async function runningClusters(directory: string): Promise<string[]> {
  const { stdout } = await run('ps', ['-eo', 'args']).catch(() => ({ stdout: '' }));
  return stdout.split('\n').filter((line) => line.includes(`-D ${directory}`));
}

describe('the test harness', () => {
  // A child vitest run: 7–13 s under the full `pnpm test` on 2 cores.
  it('gives each test file its own database and drops everything after a failing run', async () => {
    const { serverUrl } = inject('huddle');
    // Other test files of this run create databases concurrently, so compare only what the child made:
    // its template (no other template is created during a run) and the databases its files reported.
    const templatesBefore = await listDatabases(serverUrl, 'huddle_test_tpl_');
    const result = await runFixtureSuite({ ...process.env, TEST_DATABASE_URL: serverUrl });
    expect(result.exitCode).not.toBe(0);
    const used = databasesNamed(result.stdout);
    expect(used).toHaveLength(2);
    expect(new Set(used).size).toBe(2);
    expect(await listDatabases(serverUrl, 'huddle_test_tpl_')).toEqual(templatesBefore);
    const remaining = await listDatabases(serverUrl, 'huddle_test_db_');
    expect(remaining.filter((name) => used.includes(name))).toEqual([]);
  }, 60_000);

  // A child vitest run that starts its own cluster: 11 s under the full `pnpm test` on 2 cores.
  it.runIf(inject('huddle').source === 'local cluster')(
    'stops and removes its throwaway cluster after a failing run',
    async () => {
      // A private TMPDIR: other suites of the same `pnpm test` start clusters in the shared one meanwhile.
      const privateTmp = await mkdtemp(path.join(tmpdir(), 'huddle-harness-'));
      try {
        // The cluster runs as `postgres` when we are root, and must be able to reach its directory.
        await chmod(privateTmp, 0o755);
        const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: privateTmp };
        delete env.TEST_DATABASE_URL;
        const result = await runFixtureSuite(env);
        expect(result.exitCode).not.toBe(0);
        expect(databasesNamed(result.stdout)).toHaveLength(2);
        expect(await readdir(privateTmp)).toEqual([]);
        expect(await runningClusters(privateTmp)).toEqual([]);
      } finally {
        await rm(privateTmp, { recursive: true, force: true });
      }
    },
    60_000,
  );
});
