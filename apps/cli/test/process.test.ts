import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { useTempDir } from './data.ts';
import { huddleProcess, MAIN } from './helpers.ts';

const run = promisify(execFile);
const RECORD_LOADS = path.resolve(import.meta.dirname, 'fixtures/record-loads.ts');
const dir = useTempDir('huddle-cli-process-');

/** The modules a real `huddle <args>` process loads, as URLs. */
async function modulesLoadedBy(args: string[], name: string): Promise<string[]> {
  const loads = path.join(dir.path, `${name}.txt`);
  await run(process.execPath, ['--import', RECORD_LOADS, MAIN, ...args], {
    env: { ...process.env, HUDDLE_TEST_LOADS: loads },
  }).catch(() => undefined);
  return (await readFile(loads, 'utf8')).trim().split('\n');
}

/** The data layer and what it brings: none of it may load before a command runs. */
const DATA_LAYER = /\/@mikro-orm\/|\/@electric-sql\/|\/packages\/db\/|\/packages\/poker\/|\/apps\/api\//;

describe('the huddle process', () => {
  it('loads no data layer (MikroORM, PGlite, @huddle/db, the modules) for --help, --version or a usage error', async () => {
    for (const [name, args] of [
      ['help', ['--help']],
      ['version', ['--version']],
      ['usage-error', ['migrate', 'sideways']],
    ] as const) {
      const loaded = await modulesLoadedBy([...args], name);
      expect(loaded.some((url) => url.includes('/commander/'))).toBe(true);
      expect(loaded.filter((url) => DATA_LAYER.test(url))).toEqual([]);
    }
  });

  it('exits 0 with help on stdout, and non-zero with exactly one huddle: line for a usage error', async () => {
    const help = await huddleProcess(['--help'], {});
    expect(help).toMatchObject({ code: 0, stderr: '' });
    expect(help.stdout).toMatch(/^Usage: huddle /);
    const usage = await huddleProcess(['migrate', 'status', '--jsn'], {});
    expect(usage).toEqual({
      code: 1,
      stdout: '',
      stderr: "huddle: unknown option '--jsn' (Did you mean --json?)\n",
    });
  });

  it('an unreachable server is one line naming it, password masked, exit 1', async () => {
    const result = await huddleProcess(['migrate', 'status'], {
      DATABASE_URL: 'postgres://u:pw@127.0.0.1:1/x',
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^huddle: cannot reach PostgreSQL at postgres:\/\/u:\*\*\*@127\.0\.0\.1:1\/x: [^\n]*\n$/,
    );
  });
});
