import { domainModules } from '@huddle/composition';
import { createTestDatabase, type TestDatabase } from '@huddle/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import packageJson from '../package.json' with { type: 'json' };
import { huddle } from './helpers.ts';

let database: TestDatabase;
let env: NodeJS.ProcessEnv;
const moduleNames = ['huddle', ...domainModules.map((module) => module.name)];

beforeAll(async () => {
  database = await createTestDatabase({ migrated: false });
  env = { DATABASE_URL: database.url };
});
afterAll(() => database?.drop());

describe('huddle migrate', () => {
  it('status lists every migration as pending on an empty database; check fails', async () => {
    const status = await huddle(['migrate', 'status', '--json'], env);
    expect(status.code).toBe(0);
    const parsed = JSON.parse(status.stdout) as { module: string; applied: string[]; pending: string[] }[];
    expect(parsed.map((module) => module.module)).toEqual(moduleNames);
    expect(parsed.every((module) => module.applied.length === 0 && module.pending.length > 0)).toBe(true);

    const check = await huddle(['migrate', 'check'], env);
    expect(check.code).toBe(1);
    expect(check.stderr).toMatch(/^huddle: migrations and entities disagree for huddle/);
  });

  it('up applies everything, then check passes and a second up does nothing', async () => {
    const up = await huddle(['migrate', 'up'], env);
    expect(up.code).toBe(0);
    expect(up.stdout).toContain('applied huddle: Migration20261121000000PlatformBase');
    const check = await huddle(['migrate', 'check', '--json'], env);
    expect(check.code).toBe(0);
    expect((JSON.parse(check.stdout) as { ok: boolean }[]).every((module) => module.ok)).toBe(true);
    expect((await huddle(['migrate', 'up'], env)).stdout.trim()).toBe('nothing to do');
  });

  it('down reverts the most recent migration, and status shows it pending again', async () => {
    const down = await huddle(['migrate', 'down', '--json'], env);
    expect(down.code).toBe(0);
    const [reverted] = JSON.parse(down.stdout) as { module: string; pending: string[] }[];
    expect(reverted!.pending).toHaveLength(1);
    const status = JSON.parse((await huddle(['migrate', 'status', '--json'], env)).stdout) as {
      module: string;
      pending: string[];
    }[];
    expect(status.find((module) => module.module === reverted!.module)!.pending).toEqual(reverted!.pending);
    expect((await huddle(['migrate', 'up'], env)).code).toBe(0);
  });

  it('an unknown module is one clear line and exit 1', async () => {
    const result = await huddle(['migrate', 'up', '--module', 'nope'], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^huddle: module: unknown module "nope" \(known: huddle.*\)\n$/);
  });

  it('status and check name an unknown module in one line, before opening the database', async () => {
    for (const command of ['status', 'check']) {
      // An unreachable server: had the command opened the database first, that would be the error.
      const result = await huddle(['migrate', command, '--module', 'typo'], {
        DATABASE_URL: 'postgres://u@127.0.0.1:1/x',
      });
      expect(result).toEqual({
        code: 1,
        stdout: '',
        stderr: `huddle: module: unknown module "typo" (known: ${moduleNames.join(', ')})\n`,
      });
    }
  });

  it('status and check --module report that module only', async () => {
    const status = JSON.parse(
      (await huddle(['migrate', 'status', '--module', 'poker', '--json'], env)).stdout,
    ) as {
      module: string;
    }[];
    expect(status.map((module) => module.module)).toEqual(['poker']);
    const check = await huddle(['migrate', 'check', '--module', 'poker'], env);
    expect(check).toMatchObject({ code: 0, stdout: 'poker: ok\n' });
  });
});

describe('huddle usage errors', () => {
  it.each([
    [['migrate', 'sideways'], "unknown command 'sideways'"],
    [['sideways'], "unknown command 'sideways'"],
    [['migrate', 'status', '--jsn'], "unknown option '--jsn' (Did you mean --json?)"],
    [['backup'], "missing required argument 'file'"],
    [['migrate', 'diff'], "required option '--module <name>' not specified"],
    [
      ['seed', 'bogus'],
      "command-argument value 'bogus' is invalid for argument 'kind'. Allowed choices are minimal, realistic.",
    ],
    [['migrate'], 'migrate: missing command (up, down, status, check, diff); see huddle migrate --help'],
    [
      [],
      'missing command (migrate, seed, backup, restore, schema, maintenance, jobs, token, keys, serve); see huddle --help',
    ],
  ])('huddle %j is one huddle: line and exit 1', async (args, message) => {
    expect(await huddle(args, env)).toEqual({ code: 1, stdout: '', stderr: `huddle: ${message}\n` });
  });

  it('--help and --version print to stdout and exit 0', async () => {
    const help = await huddle(['migrate', 'status', '--help'], env);
    expect(help).toMatchObject({ code: 0, stderr: '' });
    expect(help.stdout).toMatch(/^Usage: huddle migrate status \[options\]/);
    expect(await huddle(['--version'], env)).toEqual({
      code: 0,
      stdout: `${packageJson.version}\n`,
      stderr: '',
    });
  });

  it('token issue refuses an unknown module', async () => {
    const result = await huddle(['token', 'issue', '--module', 'nope', '--user', '1'], {
      ...env,
      HUDDLE_SECRET: 's'.repeat(32),
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `huddle: module: unknown module "nope" (known: ${domainModules.map((module) => module.name).join(', ')})\n`,
    );
  });
});
