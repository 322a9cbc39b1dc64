import { domainModules } from '@huddle/composition';
import { createTestDatabase, type TestDatabase } from '@huddle/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
});

describe('huddle errors', () => {
  it('an unreachable server is one line naming it, password masked, exit 1', async () => {
    const result = await huddle(['migrate', 'status'], { DATABASE_URL: 'postgres://u:pw@127.0.0.1:1/x' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^huddle: cannot reach PostgreSQL at postgres:\/\/u:\*\*\*@127\.0\.0\.1:1\/x: .*\n$/,
    );
  });

  it('an unknown command exits non-zero with commander’s message', async () => {
    const result = await huddle(['migrate', 'sideways'], env);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("unknown command 'sideways'");
  });

  it('token issue refuses an unknown module', async () => {
    const result = await huddle(['token', 'issue', '--module', 'nope', '--user', '1'], {
      ...env,
      HUDDLE_SECRET: 's'.repeat(32),
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('huddle: module: unknown module "nope" (known: poker)\n');
  });
});
