import { createHuddleClient, type HuddleClient } from '@huddle/client';
import { domainModules } from '@huddle/composition';
import type { PokerEvent } from '@huddle/poker';
import { useTestDatabase } from '@huddle/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiServer } from '../src/server.ts';
import { collect, failure, startTestServer } from './helpers.ts';

const database = useTestDatabase(domainModules);
let server: ApiServer;

beforeAll(async () => {
  server = await startTestServer(database.db);
});
afterAll(() => server?.close());

async function joined(name: string): Promise<{ client: HuddleClient; userId: number; token: string }> {
  const { user, token } = await createHuddleClient(server.url).poker.join.mutate({
    name,
    email: `${name.toLowerCase()}@example.com`,
  });
  return { client: createHuddleClient(server.url, token), userId: user.id, token };
}

describe('poker over HTTP with the typed client', () => {
  it('runs the whole flow; a subscriber receives the events in order', async () => {
    const facilitator = await joined('Fay');
    const ann = await joined('Ann');
    const bob = await joined('Bob');

    const session = await facilitator.client.poker.sessions.create.mutate({ name: 'Sprint 42' });
    await ann.client.poker.sessions.join.mutate({ joinCode: session.joinCode! });
    await bob.client.poker.sessions.join.mutate({ joinCode: session.joinCode! });

    const listener = collect<PokerEvent>((handlers) =>
      ann.client.poker.events.subscribe({ sessionId: session.id }, handlers),
    );
    await listener.ready;

    const login = await facilitator.client.poker.stories.add.mutate({
      sessionId: session.id,
      title: 'Login',
    });
    await facilitator.client.poker.stories.add.mutate({ sessionId: session.id, title: 'Logout' });
    await facilitator.client.poker.stories.startVoting.mutate({ storyId: login.id });
    await facilitator.client.poker.votes.cast.mutate({ storyId: login.id, points: '5' });
    await ann.client.poker.votes.cast.mutate({ storyId: login.id, points: '8' });

    const hidden = await ann.client.poker.stories.summary.query({ storyId: login.id });
    expect(hidden.votes.map((vote) => vote.points)).toEqual([null, null]);
    expect(hidden.ownPoints).toBe('8');
    expect(hidden.statistics).toBeNull();

    // The last vote reveals the round.
    await bob.client.poker.votes.cast.mutate({ storyId: login.id, points: '5' });
    const revealed = await bob.client.poker.stories.summary.query({ storyId: login.id });
    expect(revealed.votes.map((vote) => vote.points)).toEqual(['5', '8', '5']);
    expect(revealed.statistics).toEqual({
      average: 6,
      median: 5,
      modes: ['5'],
      spread: { lowest: '5', highest: '8', cardsApart: 1 },
      unanimous: false,
    });
    expect(revealed.notVoted).toEqual([]);

    const completed = await facilitator.client.poker.stories.complete.mutate({
      storyId: login.id,
      finalPoints: '5',
    });
    expect(completed).toMatchObject({ status: 'completed', finalPoints: '5' });

    const events = await Promise.all(Array.from({ length: 8 }, () => listener.next()));
    listener.stop();
    expect(events).toEqual([
      { type: 'story_changed', sessionId: session.id, storyId: login.id, change: 'added' },
      { type: 'story_changed', sessionId: session.id, storyId: expect.any(Number), change: 'added' },
      { type: 'story_changed', sessionId: session.id, storyId: login.id, change: 'voting_started' },
      { type: 'vote_cast', sessionId: session.id, storyId: login.id, userId: facilitator.userId },
      { type: 'vote_cast', sessionId: session.id, storyId: login.id, userId: ann.userId },
      { type: 'vote_cast', sessionId: session.id, storyId: login.id, userId: bob.userId },
      { type: 'revealed', sessionId: session.id, storyId: login.id, reason: 'all_voted' },
      { type: 'story_changed', sessionId: session.id, storyId: login.id, change: 'completed' },
    ]);

    const em = database.db.orm.em.fork();
    expect(
      await em.execute(
        'select status, final_points, (select count(*)::int from poker.votes where story_id = s.id) as votes from poker.stories s where id = ?',
        [login.id],
      ),
    ).toEqual([{ status: 'completed', final_points: '5', votes: 3 }]);
  });
});

describe('poker decks, rounds, participants, export and import over HTTP', () => {
  it('a T-shirt session: sizes, the automatic reveal, a handover, a spectator, CSV out and in', async () => {
    const fay = await joined('Faye');
    const ann = await joined('Anne');
    const decks = await fay.client.poker.decks.list.query();
    expect(decks.items.map((deck) => deck.key)).toEqual(['fibonacci', 'tshirt', 'powers_of_two']);
    const session = await fay.client.poker.sessions.create.mutate({ name: 'Sizes', deckKey: 'tshirt' });
    await ann.client.poker.sessions.join.mutate({ joinCode: session.joinCode! });
    const [story] = await fay.client.poker.stories.import.mutate({
      sessionId: session.id,
      csv: 'title,description\nCheckout,"pay, ship"\n',
    });
    const listener = collect<PokerEvent>((handlers) =>
      ann.client.poker.events.subscribe({ sessionId: session.id }, handlers),
    );
    await listener.ready;
    const started = await fay.client.poker.stories.startVoting.mutate({
      storyId: story!.id,
      votingSeconds: 120,
    });
    expect(started.votingDeadline).not.toBeNull();
    const offDeck = await failure(ann.client.poker.votes.cast.mutate({ storyId: story!.id, points: '5' }));
    expect(offDeck.data?.code).toBe('BAD_REQUEST');
    expect(offDeck.data?.field).toBe('points');
    await fay.client.poker.votes.cast.mutate({ storyId: story!.id, points: 'M' });
    await ann.client.poker.votes.cast.mutate({ storyId: story!.id, points: 'L' });
    const events = await Promise.all(Array.from({ length: 4 }, () => listener.next()));
    expect(events.at(-1)).toEqual({
      type: 'revealed',
      sessionId: session.id,
      storyId: story!.id,
      reason: 'all_voted',
    });
    const summary = await ann.client.poker.stories.summary.query({ storyId: story!.id });
    expect(summary.statistics).toMatchObject({
      average: null,
      median: null,
      spread: { lowest: 'M', highest: 'L' },
    });

    await fay.client.poker.sessions.handOver.mutate({ sessionId: session.id, userId: ann.userId });
    await ann.client.poker.sessions.setSpectator.mutate({
      sessionId: session.id,
      userId: fay.userId,
      spectator: true,
    });
    const detail = await fay.client.poker.sessions.get.query({ sessionId: session.id });
    expect(detail.facilitatorId).toBe(ann.userId);
    expect(detail.participants.find((participant) => participant.userId === fay.userId)?.isSpectator).toBe(
      true,
    );
    await ann.client.poker.stories.complete.mutate({ storyId: story!.id, finalPoints: 'L' });

    const { csv, nextCursor } = await fay.client.poker.sessions.exportCsv.query({ sessionId: session.id });
    expect(nextCursor).toBeNull();
    expect(csv.split('\n')[0]).toBe(
      'story_id,story_order,title,description,status,final_points,round,user_id,user_name,points',
    );
    expect(csv).toContain(`Checkout,"pay, ship",completed,L,1,${ann.userId},Anne,L`);

    const stories = async () =>
      database.db.orm.em
        .fork()
        .execute('select count(*)::int as n from poker.stories where session_id = ?', [session.id]);
    const before = await stories();
    const refused = await failure(
      ann.client.poker.stories.import.mutate({ sessionId: session.id, csv: 'title\nFine\n""\n' }),
    );
    expect(refused.data?.code).toBe('BAD_REQUEST');
    expect(refused.message).toBe('csv: row 3 title: Too small: expected string to have >=1 characters');
    expect(await stories()).toEqual(before);
    listener.stop();
  });
});

describe('the event connection dropping', () => {
  it('ends the stream with SERVICE_UNAVAILABLE; the typed client subscribes again and gets the events after', async () => {
    const dora = await joined('Dora');
    const session = await dora.client.poker.sessions.create.mutate({ name: 'Outage' });
    let subscribed = 0;
    const events: PokerEvent[] = [];
    const errors: { message: string; code: unknown }[] = [];
    const subscription = dora.client.poker.events.subscribe(
      { sessionId: session.id },
      {
        onData: (message) => (message.type === 'subscribed' ? subscribed++ : events.push(message)),
        onConnectionStateChange: ({ error }) => {
          if (error) errors.push({ message: error.message, code: error.data?.code });
        },
      },
    );
    await expect.poll(() => subscribed).toBe(1);
    await database.db.orm.em
      .fork()
      .execute(
        "select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'huddle-events' and datname = current_database()",
      );
    // A new `subscribed` tells the client to read again what it shows: events in the gap are gone.
    await expect.poll(() => subscribed, { timeout: 10_000 }).toBe(2);
    expect(errors[0]).toEqual({
      message: 'the event connection was lost: subscribe again',
      code: 'SERVICE_UNAVAILABLE',
    });
    const story = await dora.client.poker.stories.add.mutate({ sessionId: session.id, title: 'After' });
    await expect
      .poll(() => events)
      .toEqual([{ type: 'story_changed', sessionId: session.id, storyId: story.id, change: 'added' }]);
    subscription.unsubscribe();
  });
});

describe('bad input through the API changes nothing', () => {
  let facilitator: Awaited<ReturnType<typeof joined>>;
  let member: Awaited<ReturnType<typeof joined>>;
  let sessionId: number;
  let storyId: number;

  beforeAll(async () => {
    facilitator = await joined('Frida');
    member = await joined('Mia');
    const session = await facilitator.client.poker.sessions.create.mutate({ name: 'Guarded' });
    sessionId = session.id;
    await member.client.poker.sessions.join.mutate({ joinCode: session.joinCode! });
    storyId = (await facilitator.client.poker.stories.add.mutate({ sessionId, title: 'Original' })).id;
    await facilitator.client.poker.stories.startVoting.mutate({ storyId });
  });

  async function snapshot() {
    return database.db.orm.em
      .fork()
      .execute(
        "select (select count(*) from poker.stories) as stories, (select count(*) from poker.votes) as votes, (select count(*) from poker.sessions) as sessions, (select string_agg(title, ',' order by id) from poker.stories) as titles",
      );
  }

  it.each([
    [
      'points 4',
      () => member.client.poker.votes.cast.mutate({ storyId, points: '4' as '5' }),
      'BAD_REQUEST',
      'points',
    ],
    [
      'a 10 kB title',
      () => facilitator.client.poker.stories.add.mutate({ sessionId, title: 'x'.repeat(10_240) }),
      'BAD_REQUEST',
      'title',
    ],
    [
      'a wrong type',
      () =>
        facilitator.client.poker.stories.add.mutate({ sessionId: 'one' as unknown as number, title: 'T' }),
      'BAD_REQUEST',
      'sessionId',
    ],
    [
      'an unknown story',
      () => member.client.poker.votes.cast.mutate({ storyId: 999_999, points: '5' }),
      'NOT_FOUND',
      null,
    ],
    [
      'a non-facilitator reveal',
      () => member.client.poker.stories.reveal.mutate({ storyId }),
      'FORBIDDEN',
      null,
    ],
    ['no token', () => createHuddleClient(server.url).poker.sessions.mine.query(), 'UNAUTHORIZED', null],
    [
      'a body over 1 MiB',
      () => facilitator.client.poker.stories.add.mutate({ sessionId, title: 'x'.repeat(1_100_000) }),
      'PAYLOAD_TOO_LARGE',
      null,
    ],
  ])('%s', async (_case, call, code, field) => {
    const before = await snapshot();
    const error = await failure(call());
    expect(error.data?.code).toBe(code);
    if (field) {
      expect(error.message.startsWith(`${field}: `)).toBe(true);
      expect(error.data?.field).toBe(field);
    }
    expect(await snapshot()).toEqual(before);
  });
});

describe('signing in with poker.join', () => {
  it('an email already taken is refused to anyone but its user, who signs in again with their token', async () => {
    const owner = await joined('Erin');
    const anonymous = createHuddleClient(server.url);
    await expect(
      anonymous.poker.join.mutate({ name: 'Impostor', email: 'erin@example.com' }),
    ).rejects.toMatchObject({ data: { code: 'CONFLICT', httpStatus: 409, field: 'email' } });
    const again = await owner.client.poker.join.mutate({ name: 'Erin', email: 'erin@example.com' });
    expect(again.user.id).toBe(owner.userId);
  });
});

describe('one client for a person', () => {
  it('holds a token per module and sends each call, batched, with its module’s token', async () => {
    const holder = await joined('Holder');
    const client = createHuddleClient(server.url, { poker: holder.token });
    const [me, health] = await Promise.all([client.poker.me.query(), client.health.query()]);
    expect(me.id).toBe(holder.userId);
    expect(health.status).toBe('ok');
    await expect(createHuddleClient(server.url, {}).poker.me.query()).rejects.toThrow(
      'authorization: a bearer token for module poker is required',
    );
  });
});
