import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { mkdtemp, readFile, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createHuddleClient } from '@huddle/client';
import { DEMO_PLAN_NAME } from '@huddle/planner';
import git from 'isomorphic-git';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killApiProcesses, runApiProcess, startApiProcess } from './helpers.ts';

describe('pnpm start (apps/api/src/start.ts) on the embedded database', () => {
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
    const env = {
      HUDDLE_DATA_DIR: dataDir,
      DATABASE_URL: '',
      HUDDLE_PLANNER_ROOTS: undefined,
      HUDDLE_DECISIONS_WEBHOOK_SECRET: 'a-webhook-secret-for-the-banner',
      HUDDLE_OPS_TOKEN: 'an-operators-token-of-thirty-two-characters',
    };
    const first = await startApiProcess(env);
    expect(first.output()).toContain(`curl -s ${first.url}/health`);
    expect(await createHuddleClient(first.url).health.query()).toEqual({ status: 'ok' });
    const health = await createHuddleClient(first.url, env.HUDDLE_OPS_TOKEN).health.query();
    if (!('modules' in health)) throw new Error('health: an operator is told the details');
    expect(health).toMatchObject({ status: 'ok', database: { kind: 'pglite' } });
    // The banner's example call works as printed: the demo facilitator's token shows the demo session.
    const token = first.output().match(/Bearer (\S+)"/)?.[1];
    expect(token).toBeDefined();
    const sessions = await createHuddleClient(first.url, token).poker.sessions.mine.query();
    expect(sessions.items.map((session) => session.name)).toEqual(['Demo planning session']);
    // Planner's example call too: with HUDDLE_PLANNER_ROOTS unset, the checkout the API runs in is the root,
    // so the minimal seed registered that checkout and its demo plan exports.
    const plannerToken = first.output().match(/Bearer (\S+)" \S+\/planner\.repositories\.list/)?.[1];
    const planner = createHuddleClient(first.url, { planner: plannerToken }).planner;
    const {
      items: [repository, ...others],
    } = await planner.repositories.list.query();
    const checkout = await git.findRoot({ fs, filepath: process.cwd() });
    expect({ path: repository?.path, others }).toEqual({ path: await realpath(checkout), others: [] });
    const {
      items: [demoPlan],
    } = await planner.plans.list.query({ repositoryId: repository!.id });
    const { markdown } = await planner.plans.export.query({ planId: demoPlan!.id });
    expect(markdown.startsWith(`# ${DEMO_PLAN_NAME} — version 1 (draft)`)).toBe(true);
    // Decisions' examples run as printed: the shell lines sign a delivery with the configured secret (curl,
    // openssl), and the seeded director signs in.
    const banner = first.output();
    const webhookExample = banner
      .split('\n')
      .filter((line) => /^ {2}(BODY=|SIG=|curl .*webhooks)/.test(line));
    const delivered = JSON.parse(
      execFileSync('bash', ['-c', webhookExample.join('\n')], {
        env: { ...process.env, HUDDLE_DECISIONS_WEBHOOK_SECRET: env.HUDDLE_DECISIONS_WEBHOOK_SECRET },
        encoding: 'utf8',
      }),
    );
    expect(delivered).toMatchObject({ created: true, transcript: { source: 'webhook' } });
    expect(delivered.proposed.length).toBeGreaterThan(0);
    const signInCurl = banner.split('\n').find((line) => line.includes('/decisions.auth.signIn'))!;
    const signedIn = JSON.parse(execFileSync('bash', ['-c', signInCurl], { encoding: 'utf8' }));
    expect(signedIn.result.data.user.email).toBe('test@example.com');
    const secret = await readFile(path.join(dataDir, 'huddle-secret'), 'utf8');

    // Exit code 0 means the graceful path finished: past 5 s the process forces itself out with code 1.
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);

    const second = await startApiProcess(env);
    try {
      const again = await createHuddleClient(second.url, env.HUDDLE_OPS_TOKEN).health.query();
      expect(again).toMatchObject({ modules: health.modules });
      expect(await readFile(path.join(dataDir, 'huddle-secret'), 'utf8')).toBe(secret);
      // Same secret, same data: the first run's token still works and the seed did not duplicate anything.
      const sessionsAgain = await createHuddleClient(second.url, token).poker.sessions.mine.query();
      expect(sessionsAgain).toEqual(sessions);
    } finally {
      second.child.kill('SIGINT');
      expect(await second.exited).toBe(0);
    }
  }, 90_000);

  it('a second process on the same data directory stops with one line naming the first one’s pid', async () => {
    const env = { HUDDLE_DATA_DIR: dataDir, DATABASE_URL: '' };
    const first = await startApiProcess(env);
    try {
      const second = runApiProcess(env);
      expect(await second.exited).toBe(1);
      expect(second.output()).toBe(
        `huddle api: the embedded database in ${dataDir} is in use by process ${first.child.pid} (stop it, or set HUDDLE_DATA_DIR to another directory)\n`,
      );
    } finally {
      first.child.kill('SIGTERM');
      expect(await first.exited).toBe(0);
    }
  });

  it('refuses a relative HUDDLE_PLANNER_ROOTS at start with one line', async () => {
    const run = runApiProcess({ HUDDLE_DATA_DIR: dataDir, DATABASE_URL: '', HUDDLE_PLANNER_ROOTS: 'repos' });
    expect(await run.exited).toBe(1);
    expect(run.output()).toBe('huddle api: HUDDLE_PLANNER_ROOTS: "repos" is not an absolute path\n');
  });

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
