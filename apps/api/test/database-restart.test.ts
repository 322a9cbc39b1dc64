import { domainModules } from '@huddle/composition';
import { listJobs } from '@huddle/db';
import { useTestDatabase, withClient } from '@huddle/testing';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { JOB_SCHEDULES_VARIABLE } from '../src/scheduler.ts';
import { type ApiWriter, apiWriter, expectServing, subscribeRaw } from './faults.ts';
import { type ApiProcess, killApiProcesses, startApiProcess, TEST_SECRET_TEXT } from './helpers.ts';

/**
 * A real API process (`main.ts`) whose database connections are all cut — `pg_terminate_backend` of every
 * backend on its database, the CI-fast stand-in for a restart of the shared test server, which other test
 * files use at the same time (database-restart-replicas.test.ts restarts a server of its own) — at start-up,
 * right after a sign-in, during a job and while a subscription is open. Each time the process stays up, and
 * a write succeeds as soon as the database accepts connections again: in the few attempts it takes the
 * process to notice, every failure is a 503, never a 500, and nothing is logged at error level.
 */
const database = useTestDatabase(domainModules);
const [job] = listJobs({ modules: domainModules });
let api: ApiProcess;
let writer: ApiWriter;

beforeAll(async () => {
  api = await startApiProcess({
    DATABASE_URL: database.url,
    HUDDLE_SECRET: TEST_SECRET_TEXT,
    HUDDLE_LOG_LEVEL: 'warn',
    HUDDLE_JOBS: 'on',
    // Every write of this file is a sign-in.
    HUDDLE_SIGNIN_LIMIT_PER_ADDRESS: '1000',
    // One job fires every second, so "during a job" can catch one (it waits on the test's lock below).
    [JOB_SCHEDULES_VARIABLE]: `${job!.id}=* * * * * *`,
  });
  writer = apiWriter(api);
});
afterAll(() => killApiProcesses());

/** Ends every session on the test database but `client`'s own: the API's pools, LISTEN and lock clients. */
async function terminateEveryBackend(client: pg.Client): Promise<number> {
  const { rows } = await client.query<{ ended: number }>(
    `select count(*)::int as ended from pg_stat_activity, pg_terminate_backend(pid) as ended_one
     where datname = current_database() and pid <> pg_backend_pid() and ended_one`,
  );
  return rows[0]!.ended;
}

const onTestDatabase = <T>(work: (client: pg.Client) => Promise<T>) => withClient(database.url, work);

/** Sessions waiting for an advisory lock: the job's first statement, while the test holds its lock. */
const jobsWaiting = () =>
  onTestDatabase(
    async (client) =>
      (
        await client.query<{ waiting: number }>(
          `select count(*)::int as waiting from pg_stat_activity
           where datname = current_database() and wait_event_type = 'Lock' and wait_event = 'advisory'`,
        )
      ).rows[0]!.waiting,
  );

const expectAliveAndWriting = () => expectServing(api, writer);

describe('the API process outlives losing every database connection', () => {
  it('at start-up', async () => {
    expect(await onTestDatabase(terminateEveryBackend)).toBeGreaterThan(0);
    await expectAliveAndWriting();
  });

  it('right after a sign-in', async () => {
    await writer.signIn('Right after');
    expect(await onTestDatabase(terminateEveryBackend)).toBeGreaterThan(0);
    await expectAliveAndWriting();
  });

  it('during a job (it fails as a warning, and a later slot runs)', async () => {
    await onTestDatabase(async (client) => {
      // The job's transaction takes this advisory lock first: holding it keeps the next firing in flight.
      await client.query('begin');
      await client.query('select pg_advisory_xact_lock(hashtext($1))', [`huddle.job:${job!.id}`]);
      // Polled from another session: a transaction reads pg_stat_activity once and keeps that snapshot.
      await expect.poll(jobsWaiting, { timeout: 10_000 }).toBeGreaterThan(0);
      expect(await terminateEveryBackend(client)).toBeGreaterThan(0);
      await client.query('rollback');
    });
    await expect
      .poll(() => api.output(), { timeout: 10_000 })
      .toMatch(new RegExp(`"level":40[^\\n]*"msg":"job ${job!.id} failed"`));
    await expectAliveAndWriting();
    // A later slot runs (huddle.job_runs records each slot a process ran).
    const cut = new Date();
    const ranSince = () =>
      onTestDatabase(
        async (client) =>
          (
            await client.query<{ runs: number }>(
              'select count(*)::int as runs from huddle.job_runs where module || $1 || job = $2 and scheduled_for > $3',
              ['.', job!.id, cut],
            )
          ).rows[0]!.runs,
      );
    await expect.poll(ranSince, { timeout: 10_000 }).toBeGreaterThan(0);
  });

  it('while a subscription is open: it ends with SERVICE_UNAVAILABLE, and a new one gets events', async () => {
    const session = await writer.session('Subscribed');
    const before = await subscribeRaw(api.url, writer.token(), session);
    expect(await onTestDatabase(terminateEveryBackend)).toBeGreaterThan(0);
    expect(await before.ended).toContain('SERVICE_UNAVAILABLE');
    await expectAliveAndWriting();
    const after = await subscribeRaw(api.url, writer.token(), session);
    await writer.story(session, 'After the cut');
    await expect.poll(() => after.received(), { timeout: 5_000 }).toContain('story_changed');
    after.stop();
  });
});

describe('health while the database is away', () => {
  it('answers 503 with Retry-After while the database refuses connections, 200 once it is back', async () => {
    const name = database.url.split('/').pop()!.split('?')[0]!;
    const serverUrl = inject('huddle').serverUrl;
    await withClient(serverUrl, (client) => client.query(`alter database "${name}" allow_connections false`));
    try {
      await withClient(serverUrl, (client) =>
        client.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1', [name]),
      );
      // Sent beside the health checks, not after them: the time without the database stays as short.
      const liveness = fetch(`${api.url}/livez`);
      for (const path of ['/health', '/readyz']) {
        const response = await fetch(`${api.url}${path}`);
        expect(response.status, path).toBe(503);
        expect(response.headers.get('retry-after'), path).toBe('1');
        expect(await response.json(), path).toMatchObject(
          path === '/readyz' ? { status: 'degraded' } : { result: { data: { status: 'degraded' } } },
        );
      }
      // Liveness asks nothing of the database: the process answers, so nothing restarts it for the database.
      const live = await liveness;
      expect({ status: live.status, body: await live.json() }).toEqual({
        status: 200,
        body: { status: 'ok' },
      });
    } finally {
      await withClient(serverUrl, (client) =>
        client.query(`alter database "${name}" allow_connections true`),
      );
    }
    await expectAliveAndWriting();
    expect((await fetch(`${api.url}/health`)).status).toBe(200);
    expect((await fetch(`${api.url}/readyz`)).status).toBe(200);
  });
});
