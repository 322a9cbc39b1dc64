import { createHuddleClient } from '@huddle/client';
import { domainModules } from '@huddle/composition';
import { useTestDatabase } from '@huddle/testing';
import { getMetricsFromIterator, type PromMetrics } from 'prom2javascript';
import { afterAll, describe, expect, it } from 'vitest';
import { metricsAccessFromEnv, UNKNOWN_PROCEDURE } from '../src/metrics.ts';
import { killApiProcesses, startApiProcess, TEST_SECRET_TEXT } from './helpers.ts';

const OPS_TOKEN = 'an-operators-token-of-thirty-two-characters';
const database = useTestDatabase(domainModules);
afterAll(() => killApiProcesses());

/** One scrape of `/metrics` with the operators' token, parsed by a Prometheus text-format parser. */
async function scrape(url: string): Promise<PromMetrics> {
  const response = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${OPS_TOKEN}` } });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return getMetricsFromIterator((await response.text()).split('\n').values());
}

/** The labels of every sample of `name`. */
function labelSets(metrics: PromMetrics, name: string): Record<string, string>[] {
  return (metrics[name]?.data ?? []).map((data) => data.labels);
}

/** The value of the sample of `name` whose labels include `labels` (a histogram's: its count); 0 if none. */
function sample(metrics: PromMetrics, name: string, labels: Record<string, string> = {}): number {
  const found = (metrics[name]?.data ?? []).find((data) =>
    Object.entries(labels).every(([key, value]) => data.labels[key] === value),
  );
  if (!found) return 0;
  return 'value' in found ? found.value : (found.count ?? 0);
}

describe('/metrics on a spawned API process (PostgreSQL, HUDDLE_METRICS=on)', () => {
  it('counts calls by procedure and outcome, sign-in limits, streams, the pool, jobs and the process', async () => {
    const api = await startApiProcess({
      DATABASE_URL: database.url,
      HUDDLE_SECRET: TEST_SECRET_TEXT,
      HUDDLE_OPS_TOKEN: OPS_TOKEN,
      HUDDLE_METRICS: 'on',
      HUDDLE_DB_POOL_MAX: '6',
      HUDDLE_SIGNIN_LIMIT_PER_ADDRESS: '2',
      // The write below waits on a row lock for as long as the test holds it.
      HUDDLE_LOCK_TIMEOUT_MS: '0',
      // Every second, so a run is seen within the test.
      HUDDLE_JOB_SCHEDULES: 'huddle.expire-idempotency-keys=* * * * * *',
    });
    // Only the operators' token reads it.
    for (const authorization of [undefined, `Bearer ${OPS_TOKEN}x`]) {
      const refused = await fetch(`${api.url}/metrics`, {
        headers: authorization ? { authorization } : {},
      });
      expect(refused.status).toBe(401);
      expect(await refused.text()).toContain('HUDDLE_OPS_TOKEN');
    }

    const before = await scrape(api.url);
    const client = createHuddleClient(api.url);
    const { token } = await client.poker.join.mutate({ name: 'Ann' });
    await client.poker.join.mutate({ name: 'Bob' });
    // The third sign-in from this address is over HUDDLE_SIGNIN_LIMIT_PER_ADDRESS.
    await expect(client.poker.join.mutate({ name: 'Cid' })).rejects.toMatchObject({
      data: { code: 'TOO_MANY_REQUESTS' },
    });
    await expect(client.poker.me.query()).rejects.toMatchObject({ data: { code: 'UNAUTHORIZED' } });
    // A batch: each call counts with its own outcome; a path naming no procedure counts as one label.
    const batch = await fetch(`${api.url}/health,no.such.procedure?batch=1`);
    expect(batch.status).toBe(207);
    const after = await scrape(api.url);

    const delta = (labels: Record<string, string>) =>
      sample(after, 'huddle_requests_total', labels) - sample(before, 'huddle_requests_total', labels);
    expect({
      joined: delta({ procedure: 'poker.join', code: 'OK' }),
      limited: delta({ procedure: 'poker.join', code: 'TOO_MANY_REQUESTS' }),
      anonymous: delta({ procedure: 'poker.me', code: 'UNAUTHORIZED' }),
      health: delta({ procedure: 'health', code: 'OK' }),
      unknown: delta({ procedure: UNKNOWN_PROCEDURE, code: 'NOT_FOUND' }),
      refusedScrapes: delta({ procedure: '/metrics', code: 'UNAUTHORIZED' }),
    }).toEqual({ joined: 2, limited: 1, anonymous: 1, health: 1, unknown: 1, refusedScrapes: 0 });
    expect(sample(after, 'huddle_requests_total', { procedure: '/metrics', code: 'UNAUTHORIZED' })).toBe(2);
    // Every label value is a procedure, a plain route or the unknown label: a client cannot add series.
    const procedures = new Set(labelSets(after, 'huddle_requests_total').map((labels) => labels.procedure));
    expect(procedures.has('no.such.procedure')).toBe(false);
    // The latency histogram observed each call.
    expect(
      sample(after, 'huddle_request_duration_seconds', { procedure: 'poker.join' }) -
        sample(before, 'huddle_request_duration_seconds', { procedure: 'poker.join' }),
    ).toBe(3);
    expect(sample(after, 'huddle_sign_in_limited_total', { limit: 'address' })).toBe(1);

    // An open event stream is counted while it is open.
    const session = await createHuddleClient(api.url, token).poker.sessions.create.mutate({ name: 'Watch' });
    const input = encodeURIComponent(JSON.stringify({ sessionId: session.id }));
    const streamAbort = new AbortController();
    const stream = await fetch(`${api.url}/poker.events?input=${input}`, {
      headers: { accept: 'text/event-stream', authorization: `Bearer ${token}` },
      signal: streamAbort.signal,
    });
    const reader = stream.body!.pipeThrough(new TextDecoderStream()).getReader();
    let received = '';
    while (!received.includes('"subscribed"')) received += (await reader.read()).value ?? '';
    expect(sample(await scrape(api.url), 'huddle_event_streams_open')).toBe(1);
    streamAbort.abort();
    await expect.poll(async () => sample(await scrape(api.url), 'huddle_event_streams_open')).toBe(0);

    // A write waiting on a row lock holds a pool connection, and the pool's gauges show it.
    const pool = { pool: 'primary' };
    expect(sample(after, 'huddle_db_pool_max_connections', pool)).toBe(6);
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const lockTaken = new Promise<void>((resolve) => (locked = resolve));
    const holding = database.db.orm.em.fork().transactional(async (em) => {
      await em.execute('select id from poker.sessions where id = ? for update', [session.id]);
      locked();
      await released;
    });
    await lockTaken;
    const write = createHuddleClient(api.url, token).poker.stories.add.mutate({
      sessionId: session.id,
      title: 'Waits for the lock',
    });
    await expect
      .poll(async () =>
        sample(await scrape(api.url), 'huddle_db_pool_connections', { ...pool, state: 'in_use' }),
      )
      .toBeGreaterThanOrEqual(1);
    release();
    await holding;
    await write;
    const later = await scrape(api.url);
    expect(labelSets(later, 'huddle_db_pool_waiting')).toEqual([pool]);

    // The scheduled job ran (each second), with its duration.
    const job = { job: 'huddle.expire-idempotency-keys', outcome: 'ran' };
    await expect
      .poll(async () => sample(await scrape(api.url), 'huddle_job_duration_seconds', job), {
        timeout: 10_000,
      })
      .toBeGreaterThanOrEqual(1);
    // prom-client's process metrics: memory and event-loop lag.
    expect(sample(later, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(labelSets(later, 'nodejs_eventloop_lag_seconds')).toHaveLength(1);
  });
});

describe('HUDDLE_METRICS', () => {
  it('is off by default; on needs the operators’ token; public serves anyone; anything else is refused', () => {
    expect(metricsAccessFromEnv({})).toBeUndefined();
    expect(metricsAccessFromEnv({ HUDDLE_METRICS: 'off', HUDDLE_OPS_TOKEN: OPS_TOKEN })).toBeUndefined();
    expect(metricsAccessFromEnv({ HUDDLE_METRICS: 'on', HUDDLE_OPS_TOKEN: OPS_TOKEN })).toBe('operators');
    expect(metricsAccessFromEnv({ HUDDLE_METRICS: 'public' })).toBe('public');
    expect(() => metricsAccessFromEnv({ HUDDLE_METRICS: 'on' })).toThrow(
      'HUDDLE_METRICS: on needs HUDDLE_OPS_TOKEN',
    );
    expect(() => metricsAccessFromEnv({ HUDDLE_METRICS: 'yes' })).toThrow(/^HUDDLE_METRICS: /);
  });
});
