import { domainModules } from '@huddle/composition';
import { useReplicatedDatabase, waitForReplay, withClient } from '@huddle/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiWriter, apiWriter, expectServing } from './faults.ts';
import { type ApiProcess, killApiProcesses, startApiProcess, TEST_SECRET_TEXT } from './helpers.ts';

/**
 * A real API process with a read replica (DATABASE_REPLICA_URLS) on a primary and a replica of its own, so
 * they can truly restart (`pg_ctl restart`) without disturbing other test files: the process outlives a
 * restart of each, and of both at once losing every session, and serves a write and a replica read as soon
 * as the servers accept connections again.
 */
const pair = useReplicatedDatabase(domainModules);
let api: ApiProcess;
let writer: ApiWriter;

beforeAll(async () => {
  api = await startApiProcess({
    DATABASE_URL: pair.primaryUrl,
    DATABASE_REPLICA_URLS: pair.replicaUrl,
    HUDDLE_SECRET: TEST_SECRET_TEXT,
    HUDDLE_LOG_LEVEL: 'warn',
    HUDDLE_JOBS: 'off',
    HUDDLE_SIGNIN_LIMIT_PER_ADDRESS: '1000',
  });
  writer = apiWriter(api);
  await writer.signIn('Replicated');
  // The reads below send no read position: the replica must have the writer's row before the first one.
  await waitForReplay(pair.primaryUrl, pair.replicaUrl);
});
afterAll(() => killApiProcesses());

/** A query (on the replica when it has replayed the caller's writes), as plain HTTP: its status. */
async function readMySessions(): Promise<number> {
  const response = await fetch(`${api.url}/poker.sessions.mine`, {
    headers: { authorization: `Bearer ${writer.token()}` },
  });
  await response.arrayBuffer();
  return response.status;
}

describe('the API process with a read replica outlives its servers restarting', () => {
  it('the replica restarts: reads and writes go on', async () => {
    expect(await readMySessions()).toBe(200);
    await pair.restart('replica');
    await expectServing(api, writer);
    expect(await readMySessions()).toBe(200);
  });

  it('the primary restarts: the process stays up and writes again', async () => {
    expect(await readMySessions()).toBe(200);
    await pair.restart('primary');
    await expectServing(api, writer);
    await waitForReplay(pair.primaryUrl, pair.replicaUrl);
    expect(await readMySessions()).toBe(200);
  });

  it('every session on both servers is terminated at once', async () => {
    expect(await readMySessions()).toBe(200);
    for (const url of [pair.primaryUrl, pair.replicaUrl]) {
      await withClient(url, (client) =>
        client.query(
          'select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()',
        ),
      );
    }
    await expectServing(api, writer);
    expect(await readMySessions()).toBe(200);
  });
});
