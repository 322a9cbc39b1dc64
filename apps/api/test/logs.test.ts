import { createHuddleClient } from '@huddle/client';
import { domainModules } from '@huddle/composition';
import { useTestDatabase } from '@huddle/testing';
import type { TRPCClientError } from '@trpc/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppRouter } from '../src/router.ts';
import { type ApiProcess, killApiProcesses, startApiProcess, TEST_SECRET_TEXT } from './helpers.ts';

const database = useTestDatabase(domainModules);
let api: ApiProcess;

beforeAll(async () => {
  // Debug: the most a process ever logs, so nothing a request carries can hide below the level.
  api = await startApiProcess({
    DATABASE_URL: database.url,
    HUDDLE_SECRET: TEST_SECRET_TEXT,
    HUDDLE_LOG_LEVEL: 'debug',
  });
});
afterAll(() => killApiProcesses());

/** The process's JSON log lines so far (the banner and anything else on stdout left out). */
function logLines(): Record<string, unknown>[] {
  return api
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

const ERROR_LEVEL = 50;

/** The error a subscription to `sessionId`'s events ends with, through the typed client (SSE). */
function subscriptionError(token: string, sessionId: number): Promise<TRPCClientError<AppRouter>> {
  return new Promise((resolve, reject) => {
    const subscription = createHuddleClient(api.url, token).poker.events.subscribe(
      { sessionId },
      {
        onData: () => reject(new Error('expected the subscription to be refused')),
        onError(error) {
          subscription.unsubscribe();
          resolve(error);
        },
      },
    );
  });
}

describe('subscription errors are mapped like a query’s, and a client’s mistake is not logged as an error', () => {
  it('poker.events for a session that does not exist is NOT_FOUND, for one the caller may not see FORBIDDEN', async () => {
    const owner = await createHuddleClient(api.url).poker.join.mutate({ name: 'Owner' });
    const stranger = await createHuddleClient(api.url).poker.join.mutate({ name: 'Stranger' });
    const session = await createHuddleClient(api.url, owner.token).poker.sessions.create.mutate({
      name: 'Private',
    });

    const missing = await subscriptionError(stranger.token, 999_999);
    expect(missing.data).toMatchObject({ code: 'NOT_FOUND', httpStatus: 404, field: 'sessionId' });
    const hidden = await subscriptionError(stranger.token, session.id);
    expect(hidden.data).toMatchObject({ code: 'FORBIDDEN', httpStatus: 403 });

    // The same over raw Server-Sent Events: the stream carries the mapped error as its one event.
    const input = encodeURIComponent(JSON.stringify({ sessionId: 999_999 }));
    const raw = await fetch(`${api.url}/poker.events?input=${input}`, {
      headers: { accept: 'text/event-stream', authorization: `Bearer ${stranger.token}` },
    });
    const events = (await raw.text()).split('\n\n').filter((event) => event.includes('serialized-error'));
    expect(events).toHaveLength(1);
    expect(JSON.parse(events[0]!.split('data: ')[1]!)).toMatchObject({
      message: 'sessionId: session 999999 does not exist',
      data: { code: 'NOT_FOUND', httpStatus: 404, path: 'poker.events' },
    });

    const refused = () => logLines().filter((line) => line.msg === 'request refused');
    await expect.poll(() => refused().length).toBeGreaterThanOrEqual(3);
    expect(new Set(refused().map((line) => `${line.path} ${line.code} ${line.level}`))).toEqual(
      new Set(['poker.events NOT_FOUND 20', 'poker.events FORBIDDEN 20']),
    );
    expect(logLines().filter((line) => (line.level as number) >= ERROR_LEVEL)).toEqual([]);
    expect(api.output()).not.toContain('INTERNAL_SERVER_ERROR');
  });
});

describe('request ids and access logs', () => {
  it('echoes a well-formed x-request-id, puts it on every line of the request, and logs no secret', async () => {
    const password = 'correct-horse-battery-staple-7';
    const joined = await fetch(`${api.url}/poker.join`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'client-chosen.id_1' },
      body: JSON.stringify({ name: 'Logged', email: 'logged@example.com', password }),
    });
    expect(joined.headers.get('x-request-id')).toBe('client-chosen.id_1');
    const { token } = ((await joined.json()) as { result: { data: { token: string } } }).result.data;

    // A refused call, with its input (and a password-like value) in the query string and the token.
    const refusedInput = encodeURIComponent(JSON.stringify({ sessionId: 'x', password }));
    const refused = await fetch(`${api.url}/poker.sessions.get?input=${refusedInput}`, {
      headers: { authorization: `Bearer ${token}`, 'x-request-id': 'not a valid id!' },
    });
    await refused.arrayBuffer();
    expect(refused.status).toBe(400);
    const generatedId = refused.headers.get('x-request-id')!;
    expect(generatedId).toMatch(/^[0-9a-f-]{36}$/);

    await expect
      .poll(() => logLines().filter((line) => line.requestId === generatedId && line.msg === 'request'))
      .toHaveLength(1);
    const joinLines = logLines().filter((line) => line.requestId === 'client-chosen.id_1');
    expect(joinLines).toEqual([
      expect.objectContaining({
        level: 30,
        msg: 'request',
        method: 'POST',
        procedures: ['poker.join'],
        status: 200,
        durationMs: expect.any(Number),
        completed: true,
      }),
    ]);
    const refusedLines = logLines().filter((line) => line.requestId === generatedId);
    expect(refusedLines).toEqual([
      expect.objectContaining({
        level: 20,
        msg: 'request refused',
        path: 'poker.sessions.get',
        code: 'BAD_REQUEST',
      }),
      expect.objectContaining({
        level: 30,
        msg: 'request',
        method: 'GET',
        procedures: ['poker.sessions.get'],
        status: 400,
        actor: { module: 'poker', subject: expect.stringMatching(/^\d+$/) },
        errors: ['BAD_REQUEST'],
      }),
    ]);

    const output = api.output();
    expect(output).not.toContain(token);
    expect(output).not.toContain(token.split('.')[2]);
    expect(output).not.toContain(TEST_SECRET_TEXT);
    expect(output).not.toContain(password);
    expect(output).not.toContain('logged@example.com');
    // Every log line of a request carries its id.
    expect(
      logLines().filter(
        (line) => typeof line.msg === 'string' && line.msg.startsWith('request') && !line.requestId,
      ),
    ).toEqual([]);
  });
});
