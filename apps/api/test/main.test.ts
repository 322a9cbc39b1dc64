import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHuddleClient } from '../src/client.ts';
import { killApiProcesses, runApiProcess, startApiProcess } from './helpers.ts';

describe('pnpm start (apps/api/src/main.ts) on the embedded database', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'huddle-main-'));
  });
  afterAll(async () => {
    await killApiProcesses();
    await rm(dataDir, { recursive: true, force: true });
  });

  // Two API processes on a new embedded database (initdb): 25 s under the full `pnpm test` on 2 cores.
  it('migrates, seeds, serves health and the demo, exits 0 on SIGTERM, and keeps its data across a restart', async () => {
    const env = { HUDDLE_DATA_DIR: dataDir, DATABASE_URL: '' };
    const first = await startApiProcess(env);
    expect(first.output()).toContain(`curl -s ${first.url}/health`);
    const health = await createHuddleClient(first.url).health.query();
    expect(health.status).toBe('ok');
    // The banner's example call works as printed: the demo facilitator's token shows the demo session.
    const token = first.output().match(/Bearer (\S+)"/)?.[1];
    expect(token).toBeDefined();
    const sessions = await createHuddleClient(first.url, token).poker.sessions.mine.query();
    expect(sessions.map((session) => session.name)).toEqual(['Demo planning session']);
    const secret = await readFile(path.join(dataDir, 'huddle-secret'), 'utf8');

    // Exit code 0 means the graceful path finished: past 5 s the process forces itself out with code 1.
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);

    const second = await startApiProcess(env);
    try {
      const again = await createHuddleClient(second.url).health.query();
      expect(again.modules).toEqual(health.modules);
      expect(await readFile(path.join(dataDir, 'huddle-secret'), 'utf8')).toBe(secret);
      // Same secret, same data: the first run's token still works and the seed did not duplicate anything.
      const sessionsAgain = await createHuddleClient(second.url, token).poker.sessions.mine.query();
      expect(sessionsAgain).toEqual(sessions);
    } finally {
      second.child.kill('SIGINT');
      expect(await second.exited).toBe(0);
    }
  }, 90_000);

  it('refuses a malformed DATABASE_URL with one line', async () => {
    const run = runApiProcess({ DATABASE_URL: 'mysql://nope' });
    expect(await run.exited).toBe(1);
    expect(run.output()).toBe('huddle api: DATABASE_URL: must be a postgres:// or postgresql:// URL\n');
  });

  it('reports an unreachable server with one line', async () => {
    const run = runApiProcess({
      DATABASE_URL: 'postgres://huddle:secret@127.0.0.1:1/huddle',
      HUDDLE_SECRET: 'x'.repeat(32),
    });
    expect(await run.exited).toBe(1);
    expect(run.output().trim().split('\n')).toHaveLength(1);
    expect(run.output()).toMatch(
      /^huddle api: cannot reach PostgreSQL at postgres:\/\/huddle:\*\*\*@127\.0\.0\.1:1\/huddle: /,
    );
  });
});
