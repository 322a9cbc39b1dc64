import { createHuddleClient } from '@huddle/client';
import { domainModules } from '@huddle/composition';
import { useTestDatabase } from '@huddle/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiServer } from '../src/server.ts';
import { DEFAULT_MAX_STREAMS_PER_ACTOR, maxStreamsPerActorFromEnv } from '../src/stream-limits.ts';
import { startTestServer } from './helpers.ts';

const LIMIT = 3;
const database = useTestDatabase(domainModules);
let server: ApiServer;
beforeAll(async () => {
  server = await startTestServer(database.db, [], { maxStreamsPerActor: LIMIT });
});
afterAll(() => server?.close());

interface OpenedStream {
  /** The first message: `subscribed`, or the error the stream ended with. */
  first: { subscribed: true } | { error: { message: string; data: { code: string; httpStatus: number } } };
  close(): void;
}

/** `poker.events` over plain SSE, read up to its first message. */
async function openStream(token: string, sessionId: number): Promise<OpenedStream> {
  const controller = new AbortController();
  const input = encodeURIComponent(JSON.stringify({ sessionId }));
  const response = await fetch(`${server.url}/poker.events?input=${input}`, {
    headers: { accept: 'text/event-stream', authorization: `Bearer ${token}` },
    signal: controller.signal,
  });
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the stream ended before a message: ${text}`);
    text += value;
    for (const event of text.split('\n\n').slice(0, -1)) {
      const data = event.match(/^data: (.*)$/m)?.[1];
      if (!data || /^event: (connected|ping)/m.test(event)) continue;
      const close = () => controller.abort();
      if (/^event: serialized-error/m.test(event)) return { first: { error: JSON.parse(data) }, close };
      expect(JSON.parse(data)).toEqual({ type: 'subscribed' });
      return { first: { subscribed: true }, close };
    }
  }
}

async function pokerUser(name: string) {
  const { token } = await createHuddleClient(server.url).poker.join.mutate({ name });
  const session = await createHuddleClient(server.url, token).poker.sessions.create.mutate({ name });
  return { token, sessionId: session.id };
}

describe('open event streams per actor', () => {
  it(`refuses a stream over the limit with TOO_MANY_REQUESTS naming it, per actor; a closed stream frees its place`, async () => {
    const ann = await pokerUser('Ann');
    const bob = await pokerUser('Bob');
    const open = await Promise.all(Array.from({ length: LIMIT }, () => openStream(ann.token, ann.sessionId)));
    expect(open.map((stream) => stream.first)).toEqual(Array(LIMIT).fill({ subscribed: true }));

    const refused = await openStream(ann.token, ann.sessionId);
    expect(refused.first).toMatchObject({
      error: {
        message: `subscriptions: at most ${LIMIT} open event streams per actor (HUDDLE_MAX_STREAMS_PER_ACTOR); close one before opening another`,
        data: { code: 'TOO_MANY_REQUESTS', httpStatus: 429 },
      },
    });
    refused.close();
    // Another actor has places of its own.
    const other = await openStream(bob.token, bob.sessionId);
    expect(other.first).toEqual({ subscribed: true });
    other.close();

    open[0]!.close();
    await expect
      .poll(async () => {
        const again = await openStream(ann.token, ann.sessionId);
        again.close();
        return again.first;
      })
      .toEqual({ subscribed: true });
    for (const stream of open) stream.close();
  });

  it(`reads the limit from HUDDLE_MAX_STREAMS_PER_ACTOR (default ${DEFAULT_MAX_STREAMS_PER_ACTOR})`, () => {
    expect(maxStreamsPerActorFromEnv({})).toBe(DEFAULT_MAX_STREAMS_PER_ACTOR);
    expect(maxStreamsPerActorFromEnv({ HUDDLE_MAX_STREAMS_PER_ACTOR: '4' })).toBe(4);
    expect(() => maxStreamsPerActorFromEnv({ HUDDLE_MAX_STREAMS_PER_ACTOR: '0' })).toThrow(
      'HUDDLE_MAX_STREAMS_PER_ACTOR: must be a positive integer',
    );
  });
});
