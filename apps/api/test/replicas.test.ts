import { createHuddleClient, type HuddleClient, ReadPosition } from '@huddle/client';
import { WAL_POSITION_HEADER } from '@huddle/client/read-position';
import { domainModules } from '@huddle/composition';
import { useReplicatedDatabase, useSqlClient, waitForReplay } from '@huddle/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiServer } from '../src/server.ts';
import { failure, startTestServer } from './helpers.ts';

/**
 * The API over a primary and a streaming replica of it (DATABASE_REPLICA_URLS): queries read on the replica,
 * mutations write on the primary, and a client reads its own writes. Pausing the replica's replay makes it
 * lag on purpose; a row changed behind the API's back on the primary then shows which server a query read:
 * the replica still has the old value.
 */
const pair = useReplicatedDatabase(domainModules);
const primary = useSqlClient({
  get url() {
    return pair.primaryUrl;
  },
});
const replica = useSqlClient({
  get url() {
    return pair.replicaUrl;
  },
});
let server: ApiServer;

beforeAll(async () => {
  server = await startTestServer(pair.db);
});
afterAll(async () => {
  await server?.close();
});

/** Runs `work` with the replica's replay paused: whatever the primary writes meanwhile, it does not see. */
async function whileReplicaLags(work: () => Promise<void>): Promise<void> {
  await replica.client.query('select pg_wal_replay_pause()');
  try {
    await work();
  } finally {
    await replica.client.query('select pg_wal_replay_resume()');
  }
}

/** A poker user's client, sharing the read position of the sign-in that created the user. */
async function joined(name: string): Promise<{ client: HuddleClient; token: string }> {
  const readPosition = new ReadPosition();
  const { token } = await createHuddleClient(server.url, undefined, { readPosition }).poker.join.mutate({
    name,
    email: `${name.toLowerCase()}@example.com`,
  });
  return { client: createHuddleClient(server.url, token, { readPosition }), token };
}

const renameBehindTheApi = (sessionId: number, name: string) =>
  primary.client.query('update poker.sessions set name = $2 where id = $1', [sessionId, name]);

describe('routing and read-your-writes', () => {
  it('queries read on the replica, mutations write on the primary, and a client reads its own writes', async () => {
    const fay = await joined('Fay');
    const session = await fay.client.poker.sessions.create.mutate({ name: 'Sprint 1' });
    expect((await fay.client.poker.sessions.get.query({ sessionId: session.id })).name).toBe('Sprint 1');
    await waitForReplay(pair.primaryUrl, pair.replicaUrl);
    // A client that has written nothing: any replica will do.
    const stranger = createHuddleClient(server.url, fay.token);

    await whileReplicaLags(async () => {
      await renameBehindTheApi(session.id, 'Only on the primary');
      expect((await stranger.poker.sessions.get.query({ sessionId: session.id })).name).toBe('Sprint 1');

      // The replica cannot write: the mutation ran on the primary, and its response named the position.
      const renamed = await fay.client.poker.sessions.rename.mutate({
        sessionId: session.id,
        name: 'Sprint 1b',
      });
      expect(renamed.name).toBe('Sprint 1b');
      expect(
        (await primary.client.query('select name from poker.sessions where id = $1', [session.id])).rows,
      ).toEqual([{ name: 'Sprint 1b' }]);

      // Fay's next query reads past her write, so the lagging replica leaves it to the primary ...
      expect((await fay.client.poker.sessions.get.query({ sessionId: session.id })).name).toBe('Sprint 1b');
      // ... while the replica still serves callers who have not written since it stopped.
      expect((await stranger.poker.sessions.get.query({ sessionId: session.id })).name).toBe('Sprint 1');
    });

    // Caught up, the replica serves Fay again: a change behind the API's back is invisible to her queries.
    await waitForReplay(pair.primaryUrl, pair.replicaUrl);
    await whileReplicaLags(async () => {
      await renameBehindTheApi(session.id, 'Only on the primary again');
      expect((await fay.client.poker.sessions.get.query({ sessionId: session.id })).name).toBe('Sprint 1b');
    });
    await waitForReplay(pair.primaryUrl, pair.replicaUrl);
  });

  it('a client given the read position of a sign-in sees the user it created', async () => {
    await whileReplicaLags(async () => {
      const ann = await joined('Ann');
      expect(await ann.client.poker.me.query()).toMatchObject({ name: 'Ann' });
      // Without the sign-in's position, the lagging replica does not know Ann yet.
      const unaware = createHuddleClient(server.url, ann.token);
      expect((await failure(unaware.poker.me.query())).data?.code).toBe('UNAUTHORIZED');
    });
    await waitForReplay(pair.primaryUrl, pair.replicaUrl);
  });

  it('refuses a malformed position with a 400 naming the header', async () => {
    const { token } = await joined('Bob');
    const response = await fetch(`${server.url}/poker.me`, {
      headers: { authorization: `Bearer ${token}`, [WAL_POSITION_HEADER]: 'yesterday' },
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      error: {
        message: `${WAL_POSITION_HEADER}: must be a WAL position such as 16/B374D848`,
        data: { code: 'BAD_REQUEST', field: WAL_POSITION_HEADER },
      },
    });
  });
});
