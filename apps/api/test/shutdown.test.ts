import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, get } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createHuddleClient } from '@huddle/client';
import { domainModules } from '@huddle/composition';
import { useTestDatabase } from '@huddle/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { killApiProcesses, startApiProcess, TEST_SECRET_TEXT } from './helpers.ts';

const database = useTestDatabase(domainModules);
afterAll(() => killApiProcesses());

async function lockWaiters(): Promise<number> {
  const [row] = await database.db.orm.em
    .fork()
    .execute<{ waiting: number }[]>(
      "select count(*)::int as waiting from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'",
    );
  return row!.waiting;
}

/** Holds the row lock of session `id` in an open transaction until the returned function is called. */
async function holdSessionLock(id: number): Promise<() => Promise<void>> {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let locked!: () => void;
  const lockTaken = new Promise<void>((resolve) => (locked = resolve));
  const holding = database.db.orm.em.fork().transactional(async (em) => {
    await em.execute('select id from poker.sessions where id = ? for update', [id]);
    locked();
    await released;
  });
  await lockTaken;
  return async () => {
    release();
    await holding;
  };
}

/** Resolves with the status of a GET sent on a connection of its own, not a pooled keep-alive one. */
function getOnNewConnection(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false }, (response) => {
      response.resume();
      resolve(response.statusCode!);
    }).once('error', reject);
  });
}

const WRITES = 20;

type WriteOutcome = { title: string; status: number } | { title: string; error: string };

describe('SIGTERM drains the API process (PostgreSQL)', () => {
  it('finishes the writes in flight, ends the event stream cleanly, and exits 0', async () => {
    const api = await startApiProcess({
      DATABASE_URL: database.url,
      HUDDLE_SECRET: TEST_SECRET_TEXT,
      // Room for every write at once: one actor may hold a quarter of the pool (bulkhead.ts), and the writes
      // wait on the row lock for as long as the test holds it (no lock_timeout).
      HUDDLE_DB_POOL_MAX: String(4 * WRITES + 5),
      HUDDLE_LOCK_TIMEOUT_MS: '0',
      HUDDLE_LOG_LEVEL: 'info',
    });
    const { token } = await createHuddleClient(api.url).poker.join.mutate({ name: 'Writer' });
    const authorization = `Bearer ${token}`;
    const session = await createHuddleClient(api.url, token).poker.sessions.create.mutate({ name: 'Drain' });

    // A subscriber, read as raw Server-Sent Events so a clean end of stream and a reset look different.
    const input = encodeURIComponent(JSON.stringify({ sessionId: session.id }));
    const stream = await fetch(`${api.url}/poker.events?input=${input}`, {
      headers: { accept: 'text/event-stream', authorization },
    });
    const reader = stream.body!.pipeThrough(new TextDecoderStream()).getReader();
    let received = '';
    while (!received.includes('"subscribed"')) received += (await reader.read()).value ?? '';
    const streamEnd = (async () => {
      for (;;) if ((await reader.read()).done) return 'clean end';
    })().catch((error: unknown) => `failed: ${String(error)}`);

    // Every write waits on the session's row lock, inside its transaction: truly in flight at SIGTERM.
    const releaseLock = await holdSessionLock(session.id);
    const writes = Array.from({ length: WRITES }, (_, n) => {
      const title = `write ${n}`;
      return fetch(`${api.url}/poker.stories.add`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization },
        body: JSON.stringify({ sessionId: session.id, title }),
      }).then(
        async (response): Promise<WriteOutcome> => {
          await response.arrayBuffer();
          return { title, status: response.status };
        },
        (error: unknown): WriteOutcome => ({ title, error: String((error as Error).cause ?? error) }),
      );
    });
    await expect.poll(lockWaiters, { timeout: 20_000 }).toBe(WRITES);

    api.child.kill('SIGTERM');
    await expect.poll(() => api.output(), { timeout: 10_000 }).toContain('shutting down');
    // No new connections once draining (fetch could reuse one of its pooled keep-alive connections).
    await expect(getOnNewConnection(`${api.url}/health`)).rejects.toThrow();
    await releaseLock();

    // 0, not the forced exit (code 1) that the process takes when the 5 s grace period runs out.
    expect(await api.exited).toBe(0);
    const outcomes = await Promise.all(writes);
    const stored = (
      await database.db.orm.em
        .fork()
        .execute<{ title: string }[]>('select title from poker.stories where session_id = ?', [session.id])
    ).map((row) => row.title);
    // Every write whose client saw success is stored; no client lost the answer to a committed write.
    expect(
      outcomes
        .filter((outcome) => 'status' in outcome && outcome.status === 200)
        .map((o) => o.title)
        .sort(),
    ).toEqual([...stored].sort());
    expect(outcomes).toEqual(
      Array.from({ length: WRITES }, (_, n) => ({ title: `write ${n}`, status: 200 })),
    );
    expect(await streamEnd).toBe('clean end');
  });
});

const KEEP_ALIVE_CONNECTIONS = 50;

type HealthOutcome = { status: number; connection: string | undefined } | { error: string };

describe('SIGTERM drains the API process (embedded database)', () => {
  let dataDir: string;
  afterAll(async () => {
    await killApiProcesses();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('answers a request sent on every open keep-alive connection right after SIGTERM, and exits 0', async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'huddle-drain-'));
    const api = await startApiProcess({
      HUDDLE_DATA_DIR: dataDir,
      DATABASE_URL: '',
      HUDDLE_LOG_LEVEL: 'info',
    });
    const agent = new Agent({ keepAlive: true, maxSockets: KEEP_ALIVE_CONNECTIONS });
    const health = () =>
      new Promise<HealthOutcome>((resolve) => {
        get(`${api.url}/health`, { agent }, (response) => {
          response.resume();
          response.once('end', () =>
            resolve({ status: response.statusCode!, connection: response.headers.connection }),
          );
        }).once('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }));
      });
    const send = () => Promise.all(Array.from({ length: KEEP_ALIVE_CONNECTIONS }, health));

    // As many requests at once as the agent may open sockets: afterwards every one is an idle keep-alive connection.
    expect((await send()).map((outcome) => 'status' in outcome && outcome.status)).toEqual(
      Array(KEEP_ALIVE_CONNECTIONS).fill(200),
    );
    expect(Object.values(agent.freeSockets).flat()).toHaveLength(KEEP_ALIVE_CONNECTIONS);

    api.child.kill('SIGTERM');
    const outcomes = await send();
    agent.destroy();

    // Each request gets an answer: served before the signal arrived, or served during the drain and told to
    // close its connection; never a reset.
    expect(outcomes.filter((outcome) => 'error' in outcome)).toEqual([]);
    for (const outcome of outcomes) {
      expect(outcome).toMatchObject({
        status: expect.toSatisfy((status) => status === 200 || status === 503),
      });
    }
    expect(await api.exited).toBe(0);
  });
});
