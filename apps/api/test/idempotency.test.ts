import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHuddleClient } from '@huddle/client';
import { domainModules } from '@huddle/composition';
import { runJob } from '@huddle/db';
import { useSqlClient, useTestDatabase } from '@huddle/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiServer } from '../src/server.ts';
import { startTestServer } from './helpers.ts';

const database = useTestDatabase(domainModules);
const sql = useSqlClient(database);
let server: ApiServer;

beforeAll(async () => {
  server = await startTestServer(database.db);
});
afterAll(() => server?.close());

interface Answer {
  status: number;
  retryAfter: string | null;
  body: {
    result?: { data: unknown };
    error?: { message: string; data: { code: string; field: string | null; retryAfter: number | null } };
  };
}

/** A poker user's token and a session of theirs to add stories to. */
async function facilitator(name: string): Promise<{ token: string; sessionId: number; userId: number }> {
  const guest = createHuddleClient(server.url);
  const { token, user } = await guest.poker.join.mutate({ name });
  const session = await createHuddleClient(server.url, token).poker.sessions.create.mutate({ name });
  return { token, sessionId: session.id, userId: user.id };
}

/** A mutation over plain HTTP, with `key` as its Idempotency-Key header (as given: quote it yourself). */
async function post(path: string, token: string, input: unknown, key?: string): Promise<Answer> {
  const response = await fetch(`${server.url}/${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${token}`,
      ...(key !== undefined && { 'idempotency-key': key }),
    },
    body: typeof input === 'string' ? input : JSON.stringify(input),
  });
  return {
    status: response.status,
    retryAfter: response.headers.get('retry-after'),
    body: (await response.json()) as Answer['body'],
  };
}

async function storyTitles(sessionId: number): Promise<string[]> {
  const { rows } = await sql.client.query<{ title: string }>(
    'select title from poker.stories where session_id = $1 order by id',
    [sessionId],
  );
  return rows.map((row) => row.title);
}

/** The keys stored for a poker user's calls to `poker.stories.add` (a facilitator's session has one too). */
async function storyKeys(subject: number): Promise<string[]> {
  const { rows } = await sql.client.query<{ key: string }>(
    `select key from huddle.idempotency_keys
     where module = 'poker' and subject = $1 and procedure = 'poker.stories.add' order by key`,
    [String(subject)],
  );
  return rows.map((row) => row.key);
}

/** Resolves once a session of this database waits for a lock (fails the test after a few seconds). */
async function waitForLockWait(): Promise<void> {
  for (let polls = 0; polls < 250; polls++) {
    const { rows } = await sql.client.query(
      `select 1 from pg_stat_activity where wait_event_type = 'Lock' and datname = current_database()`,
    );
    if (rows.length > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('no session waited for a lock within 5 s');
}

describe('a mutation with an Idempotency-Key', () => {
  it('runs once: a retry with the key and the same input gets the first result, and one row is stored', async () => {
    const fay = await facilitator('Fay');
    const first = await post(
      'poker.stories.add',
      fay.token,
      { sessionId: fay.sessionId, title: 'Login' },
      '"key-1"',
    );
    expect(first.status).toBe(200);
    // The same input with its fields in another order, and the key sent bare: the same call.
    const again = await post(
      'poker.stories.add',
      fay.token,
      `{"title":"Login","sessionId":${fay.sessionId}}`,
      'key-1',
    );
    expect(again).toEqual(first);
    expect(await storyTitles(fay.sessionId)).toEqual(['Login']);
    expect(await storyKeys(fay.userId)).toEqual(['key-1']);
  });

  it('is refused, changing nothing, when the key comes back with another input or procedure', async () => {
    const gil = await facilitator('Gil');
    const input = { sessionId: gil.sessionId, title: 'Search' };
    expect((await post('poker.stories.add', gil.token, input, '"k"')).status).toBe(200);

    const otherInput = await post('poker.stories.add', gil.token, { ...input, title: 'Other' }, '"k"');
    expect(otherInput.status).toBe(422);
    expect(otherInput.body.error).toMatchObject({
      message:
        'Idempotency-Key: this key was first sent with another input; send a new key for a new request',
      data: { code: 'UNPROCESSABLE_CONTENT' },
    });
    const otherProcedure = await post(
      'poker.sessions.rename',
      gil.token,
      { sessionId: gil.sessionId, name: 'Renamed' },
      '"k"',
    );
    expect(otherProcedure.status).toBe(422);
    expect(otherProcedure.body.error?.message).toBe(
      'Idempotency-Key: this key was first sent to poker.stories.add; send a new key for a new request',
    );
    expect(await storyTitles(gil.sessionId)).toEqual(['Search']);
    const { rows } = await sql.client.query('select name from poker.sessions where id = $1', [gil.sessionId]);
    expect(rows).toEqual([{ name: 'Gil' }]);
  });

  it('belongs to its actor: another user’s same key is another key', async () => {
    const hal = await facilitator('Hal');
    const ivy = await facilitator('Ivy');
    await post('poker.stories.add', hal.token, { sessionId: hal.sessionId, title: 'Hal’s' }, '"shared"');
    const ivys = await post(
      'poker.stories.add',
      ivy.token,
      { sessionId: ivy.sessionId, title: 'Ivy’s' },
      '"shared"',
    );
    expect(ivys.status).toBe(200);
    expect(await storyTitles(ivy.sessionId)).toEqual(['Ivy’s']);
  });

  it('answers 409 with Retry-After while the key’s first request runs, then that request’s result', async () => {
    const jo = await facilitator('Jo');
    const input = { sessionId: jo.sessionId, title: 'Blocked' };
    // Another session holds the poker session's row, so the first request waits inside its transaction.
    const blocker = new pg.Client({ connectionString: database.url });
    await blocker.connect();
    try {
      await blocker.query('begin');
      await blocker.query('select 1 from poker.sessions where id = $1 for update', [jo.sessionId]);
      const first = post('poker.stories.add', jo.token, input, '"slow"');
      await waitForLockWait();
      const during = await post('poker.stories.add', jo.token, input, '"slow"');
      expect(during.status).toBe(409);
      expect(during.retryAfter).toBe('1');
      expect(during.body.error?.data).toMatchObject({ code: 'CONFLICT', retryAfter: 1 });
      expect(during.body.error?.message).toMatch(
        /^Idempotency-Key: a request with this key is still running/,
      );
      await blocker.query('commit');
      const answered = await first;
      expect(answered.status).toBe(200);
      expect(await post('poker.stories.add', jo.token, input, '"slow"')).toEqual(answered);
    } finally {
      await blocker.end();
    }
    expect(await storyTitles(jo.sessionId)).toEqual(['Blocked']);
  });

  it('runs once however many requests with the key arrive at the same time', async () => {
    const kit = await facilitator('Kit');
    const input = { sessionId: kit.sessionId, title: 'Burst' };
    const answers = await Promise.all(
      Array.from({ length: 6 }, () => post('poker.stories.add', kit.token, input, '"burst"')),
    );
    const [done] = answers.filter((answer) => answer.status === 200);
    expect(done).toBeDefined();
    for (const answer of answers) {
      if (answer.status === 200) expect(answer).toEqual(done);
      else expect(answer).toMatchObject({ status: 409, retryAfter: '1' });
    }
    expect(await storyTitles(kit.sessionId)).toEqual(['Burst']);
  });

  it('refuses a malformed key, and a key on a batch of several calls, naming the header', async () => {
    const lea = await facilitator('Lea');
    const input = { sessionId: lea.sessionId, title: 'Refused' };
    for (const key of ['"two words"', 'x'.repeat(256), '""', '"a", "b"']) {
      const answer = await post('poker.stories.add', lea.token, input, key);
      expect(answer.status).toBe(400);
      expect(answer.body.error?.data).toMatchObject({ code: 'BAD_REQUEST', field: 'Idempotency-Key' });
      expect(answer.body.error?.message).toMatch(/^Idempotency-Key: must be 1–255 visible ASCII characters/);
    }
    const batch = await fetch(`${server.url}/poker.stories.add,poker.stories.add?batch=1`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${lea.token}`,
        'idempotency-key': '"b"',
      },
      body: JSON.stringify({ 0: input, 1: input }),
    });
    const calls = (await batch.json()) as Answer['body'][];
    expect(calls.map((call) => call.error?.message)).toEqual([
      'Idempotency-Key: names one call, but this request batches 2; send a mutation with a key in a request of its own',
      'Idempotency-Key: names one call, but this request batches 2; send a mutation with a key in a request of its own',
    ]);
    expect(await storyTitles(lea.sessionId)).toEqual([]);
    // Queries ignore the header, whatever it holds.
    const query = await fetch(`${server.url}/poker.me`, {
      headers: { authorization: `Bearer ${lea.token}`, 'idempotency-key': '"two words"' },
    });
    expect(query.status).toBe(200);
  });

  it('without the header runs every time and stores nothing', async () => {
    const max = await facilitator('Max');
    const input = { sessionId: max.sessionId, title: 'Twice' };
    await post('poker.stories.add', max.token, input);
    await post('poker.stories.add', max.token, input);
    expect(await storyTitles(max.sessionId)).toEqual(['Twice', 'Twice']);
    expect(await storyKeys(max.userId)).toEqual([]);
  });

  it('is kept for the window: an expired key runs again, and the platform job deletes expired keys', async () => {
    const ned = await facilitator('Ned');
    const input = { sessionId: ned.sessionId, title: 'Kept' };
    await post('poker.stories.add', ned.token, input, '"old"');
    await post('poker.stories.add', ned.token, input, '"recent"');
    const { rows } = await sql.client.query<{ hours: number }>(
      `select extract(epoch from expires_at - created_at) / 3600 as hours from huddle.idempotency_keys
       where subject = $1 and key = 'old'`,
      [String(ned.userId)],
    );
    expect(Number(rows[0]!.hours)).toBe(24);

    await sql.client.query(
      `update huddle.idempotency_keys set expires_at = now() - interval '1 second' where subject = $1 and key = 'old'`,
      [String(ned.userId)],
    );
    const rerun = await post('poker.stories.add', ned.token, input, '"old"');
    expect(rerun.status).toBe(200);
    expect(await storyTitles(ned.sessionId)).toEqual(['Kept', 'Kept', 'Kept']);
    expect(await storyKeys(ned.userId)).toHaveLength(2);

    const soon = await runJob(database.db, 'huddle.expire-idempotency-keys', {
      now: new Date(Date.now() + 23 * 3600_000),
    });
    expect(soon).toMatchObject({ status: 'ran', rows: 0 });
    const later = await runJob(database.db, 'huddle.expire-idempotency-keys', {
      now: new Date(Date.now() + 25 * 3600_000),
    });
    expect(later).toMatchObject({
      status: 'ran',
      summary: expect.stringMatching(/ expired idempotency keys deleted$/),
    });
    expect(await storyKeys(ned.userId)).toEqual([]);
  });
});

/**
 * A stand-in for what sits between a client and the API (a load balancer, a flaky network): it forwards
 * every request to the API, except that `onMutation` decides, per mutation, to answer 503 itself or to
 * forward it and then lose the API's response.
 */
function proxy(
  target: string,
  onMutation: (attempt: number) => 'forward' | 'unavailable' | 'lose-response' | 'outcome-unknown',
) {
  const mutations: { key: string | undefined; answered: string | undefined }[] = [];
  const server: Server = createServer(async (request: IncomingMessage, response) => {
    let body = '';
    for await (const chunk of request) body += chunk;
    const headers = Object.fromEntries(
      Object.entries(request.headers).filter(
        (entry): entry is [string, string] =>
          typeof entry[1] === 'string' && !['host', 'connection', 'content-length'].includes(entry[0]),
      ),
    );
    const isMutation = request.method === 'POST';
    const action = isMutation ? onMutation(mutations.length + 1) : 'forward';
    const record = { key: headers['idempotency-key'], answered: undefined as string | undefined };
    if (isMutation) mutations.push(record);
    if (action === 'unavailable') {
      response.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' });
      response.end(
        JSON.stringify({
          error: {
            message: 'database unavailable',
            code: -32603,
            data: {
              code: 'SERVICE_UNAVAILABLE',
              httpStatus: 503,
              retryAfter: 1,
              field: null,
              constraint: null,
            },
          },
        }),
      );
      return;
    }
    const answer = await fetch(`${target}${request.url}`, {
      method: request.method,
      headers,
      ...(isMutation && { body }),
    });
    const text = await answer.text();
    record.answered = text;
    // The API committed and answered; the answer never reaches the client.
    if (action === 'lose-response') return void request.socket.destroy();
    if (action === 'outcome-unknown') {
      // What the API answers when the connection fails during COMMIT (the write may or may not be stored).
      response.writeHead(500, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({
          error: {
            message:
              'database connection lost during COMMIT: the outcome is unknown; retry with the same key',
            code: -32603,
            data: {
              code: 'INTERNAL_SERVER_ERROR',
              httpStatus: 500,
              outcome: 'unknown',
              retryAfter: null,
              field: null,
              constraint: null,
            },
          },
        }),
      );
      return;
    }
    response.writeHead(answer.status, { 'content-type': 'application/json' });
    response.end(text);
  });
  return {
    mutations,
    async start(): Promise<string> {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('the typed client', () => {
  it('sends a fresh key with every mutation', async () => {
    const ora = await facilitator('Ora');
    const client = createHuddleClient(server.url, ora.token);
    await client.poker.stories.add.mutate({ sessionId: ora.sessionId, title: 'One' });
    await client.poker.stories.add.mutate({ sessionId: ora.sessionId, title: 'One' });
    const keys = await storyKeys(ora.userId);
    expect(keys).toHaveLength(2);
    for (const key of keys)
      expect(key).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(await storyTitles(ora.sessionId)).toEqual(['One', 'One']);
  });

  it('sends the key a caller chose, so a second process retrying it gets the first result', async () => {
    const sam = await facilitator('Sam');
    const input = { sessionId: sam.sessionId, title: 'Chosen' };
    const context = { idempotencyKey: 'order-42' };
    const first = await createHuddleClient(server.url, sam.token).poker.stories.add.mutate(input, {
      context,
    });
    const again = await createHuddleClient(server.url, sam.token).poker.stories.add.mutate(input, {
      context,
    });
    expect(again).toEqual(first);
    expect(await storyKeys(sam.userId)).toEqual(['order-42']);
    expect(await storyTitles(sam.sessionId)).toEqual(['Chosen']);
  });

  it('retries a mutation the API answered 503, with the same key', async () => {
    const pam = await facilitator('Pam');
    const flaky = proxy(server.url, (attempt) => (attempt === 1 ? 'unavailable' : 'forward'));
    const url = await flaky.start();
    try {
      const story = await createHuddleClient(url, pam.token).poker.stories.add.mutate({
        sessionId: pam.sessionId,
        title: 'Retried',
      });
      expect(story.title).toBe('Retried');
    } finally {
      await flaky.close();
    }
    expect(flaky.mutations).toHaveLength(2);
    expect(flaky.mutations[1]!.key).toBe(flaky.mutations[0]!.key);
    expect(await storyTitles(pam.sessionId)).toEqual(['Retried']);
  });

  it('retries a mutation whose answer says its outcome is unknown: the first result, one row', async () => {
    const rae = await facilitator('Rae');
    const unknown = proxy(server.url, (attempt) => (attempt === 1 ? 'outcome-unknown' : 'forward'));
    const url = await unknown.start();
    let story: { id: number; title: string };
    try {
      story = await createHuddleClient(url, rae.token).poker.stories.add.mutate({
        sessionId: rae.sessionId,
        title: 'Unknown',
      });
    } finally {
      await unknown.close();
    }
    const [first, retried] = unknown.mutations;
    expect(retried!.key).toBe(first!.key);
    expect(retried!.answered).toBe(first!.answered);
    expect(JSON.parse(first!.answered!)).toEqual({ result: { data: story } });
    expect(await storyTitles(rae.sessionId)).toEqual(['Unknown']);
  });

  it('retries a mutation whose response was lost after it committed: the first result, one row', async () => {
    const quin = await facilitator('Quin');
    const lossy = proxy(server.url, (attempt) => (attempt === 1 ? 'lose-response' : 'forward'));
    const url = await lossy.start();
    let story: { id: number; title: string };
    try {
      story = await createHuddleClient(url, quin.token).poker.stories.add.mutate({
        sessionId: quin.sessionId,
        title: 'Committed',
      });
    } finally {
      await lossy.close();
    }
    const [lost, retried] = lossy.mutations;
    expect(retried!.key).toBe(lost!.key);
    // The retry's answer is the answer the client never received.
    expect(JSON.parse(lost!.answered!)).toEqual({ result: { data: story } });
    expect(retried!.answered).toBe(lost!.answered);
    expect(await storyTitles(quin.sessionId)).toEqual(['Committed']);
    expect(await storyKeys(quin.userId)).toEqual([JSON.parse(lost!.key!)]);
  });
});
