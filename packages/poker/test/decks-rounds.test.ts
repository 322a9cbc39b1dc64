import { setTimeout } from 'node:timers/promises';
import {
  ConflictError,
  ForbiddenError,
  InvalidInputError,
  NotFoundError,
  parseInput,
  runJob,
} from '@huddle/db';
import { useTestDatabase } from '@huddle/testing';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import type { PokerActor } from '../src/actor.ts';
import { pokerModule } from '../src/module.ts';
import {
  type BuiltinDeckKey,
  createDeckInputSchema,
  exportSessionInputSchema,
  listDecksInputSchema,
  MAX_IMPORT_ROWS,
  POKER_EVENTS_CHANNEL,
  type PokerEvent,
  pokerEventSchema,
} from '../src/schemas.ts';
import { createDeck, deleteDeck, listDecks } from '../src/services/decks.ts';
import { exportSession, exportSessionCsv } from '../src/services/export.ts';
import {
  createSession,
  getSession,
  handOverSession,
  joinSession,
  removeParticipant,
  setSpectator,
} from '../src/services/sessions.ts';
import { completeStory, importStories, startVoting } from '../src/services/stories.ts';
import { getStorySummary } from '../src/services/summary.ts';
import { castVote, revealVotes, revote } from '../src/services/votes.ts';
import { asActor, eventually, expectHuddleError, newUser, settleAll, useSqlClient } from './helpers.ts';

/** Decks, voting timers and automatic reveals, participant changes, export and import, through the services. */
const test = useTestDatabase([pokerModule]);
const postgres = useSqlClient(test);

type TestUser = Awaited<ReturnType<typeof newUser>>;

/** A session of `facilitator` (on a built-in deck, or the seed's) with voters ann and bob, spectator sam. */
async function session(deckKey?: BuiltinDeckKey) {
  const [facilitator, ann, bob, sam] = (await Promise.all(
    ['Fran', 'Ann', 'Bob', 'Sam'].map((name) => newUser(test.db, name)),
  )) as [TestUser, TestUser, TestUser, TestUser];
  const created = await asActor(test.db, facilitator.actor, (em, actor) =>
    createSession(em, actor, { name: 'Sprint', ...(deckKey === undefined ? {} : { deckKey }) }),
  );
  for (const [user, role] of [
    [ann, 'voter'],
    [bob, 'voter'],
    [sam, 'spectator'],
  ] as const) {
    await asActor(test.db, user.actor, (em, actor) =>
      joinSession(em, actor, { joinCode: created.joinCode!, role }),
    );
  }
  const [story, next] = await asActor(test.db, facilitator.actor, (em, actor) =>
    importStories(em, actor, { sessionId: created.id, csv: 'title\nLogin\nLogout\n' }),
  );
  return { session: created, story: story!, next: next!, facilitator, ann, bob, sam };
}

function start(actor: PokerActor, storyId: number, votingSeconds?: number) {
  return asActor(test.db, actor, (em, actor) => startVoting(em, actor, { storyId, votingSeconds }));
}

function vote(actor: PokerActor, storyId: number, points: string) {
  return asActor(test.db, actor, (em, actor) => castVote(em, actor, { storyId, points }));
}

async function revealedAt(storyId: number): Promise<Date | null> {
  const { rows } = await postgres.client.query<{ revealed_at: Date | null }>(
    'select revealed_at from poker.stories where id = $1',
    [storyId],
  );
  return rows[0]!.revealed_at;
}

/** The events published on a session while `work` runs (after they all arrived: `expected` of them). */
async function eventsDuring(sessionId: number, work: () => Promise<unknown>, expected: number) {
  const received: PokerEvent[] = [];
  const unlisten = await test.db.events.listen(POKER_EVENTS_CHANNEL, (payload) => {
    const event = pokerEventSchema.parse(payload);
    if (event.sessionId === sessionId) received.push(event);
  });
  try {
    await work();
    await eventually(() => expect(received.length).toBeGreaterThanOrEqual(expected));
    return received;
  } finally {
    await unlisten();
  }
}

/** Polls until `count` statements of this database wait for a lock, or gives up after 200 polls. */
async function untilLockWaits(count: number): Promise<void> {
  for (let poll = 0; poll < 200; poll++) {
    const { rows } = await postgres.client.query<{ waiting: number }>(
      `select count(*)::int as waiting from pg_stat_activity
       where datname = current_database() and wait_event_type = 'Lock'`,
    );
    if (rows[0]!.waiting >= count) return;
    await setTimeout(25);
  }
}

describe('decks', () => {
  it('a session on the T-shirt deck takes sizes, refuses numbers (service and database), and has no average', async () => {
    const { session: created, story, facilitator, ann, bob } = await session('tshirt');
    const detail = await asActor(test.db, ann.actor, (em, actor) =>
      getSession(em, actor, { sessionId: created.id }),
    );
    // The facilitator's copy of the built-in deck, used again by their next session.
    expect(detail.deck).toMatchObject({
      id: created.deckId,
      key: 'tshirt',
      ownerId: facilitator.id,
      scale: 'ordinal',
    });
    expect(detail.deck.cards.map((card) => card.card)).toEqual(['XS', 'S', 'M', 'L', 'XL', 'XXL', '?']);
    const again = await asActor(test.db, facilitator.actor, (em, actor) =>
      createSession(em, actor, { name: 'Next sprint', deckKey: 'tshirt' }),
    );
    expect(again.deckId).toBe(created.deckId);
    await start(facilitator.actor, story.id);
    const refused = await expectHuddleError(vote(ann.actor, story.id, '5'), InvalidInputError);
    expect(refused.message).toMatch(/^points: "5" is not a card of session \d+'s deck/);
    await vote(facilitator.actor, story.id, 'M');
    await vote(ann.actor, story.id, 'XL');
    await vote(bob.actor, story.id, 'XL');
    const summary = await asActor(test.db, ann.actor, (em, actor) =>
      getStorySummary(em, actor, { storyId: story.id }),
    );
    expect(summary.statistics).toEqual({
      average: null,
      median: null,
      modes: ['XL'],
      spread: { lowest: 'M', highest: 'XL', cardsApart: 2 },
      unanimous: false,
    });
    await expectHuddleError(
      asActor(test.db, facilitator.actor, (em, actor) =>
        completeStory(em, actor, { storyId: story.id, finalPoints: '8' }),
      ),
      InvalidInputError,
    );
    const completed = await asActor(test.db, facilitator.actor, (em, actor) =>
      completeStory(em, actor, { storyId: story.id, finalPoints: 'XL' }),
    );
    expect(completed.finalPoints).toBe('XL');
  });

  it('a request’s own SQL cannot put a card outside the session’s deck, nor name another deck (triggers)', async () => {
    const { story, next, facilitator, ann } = await session('tshirt');
    await start(facilitator.actor, story.id);
    const asAnn = (sql: string, params: unknown[]) =>
      asActor(test.db, ann.actor, (em) => em.execute(sql, params));
    const offDeck = await expectHuddleError(
      asAnn('insert into poker.votes (story_id, user_id, points) values (?, ?, ?)', [story.id, ann.id, '5']),
      InvalidInputError,
    );
    expect(offDeck.constraint.constraint).toBe('votes_points_in_deck');
    // A deck_id sent along is replaced by the session's: the T-shirt deck's rule holds.
    const forged = await expectHuddleError(
      asAnn('insert into poker.votes (story_id, user_id, points, deck_id) values (?, ?, ?, null)', [
        story.id,
        ann.id,
        '8',
      ]),
      InvalidInputError,
    );
    expect(forged.constraint.constraint).toBe('votes_points_in_deck');
    const estimate = await expectHuddleError(
      asActor(test.db, facilitator.actor, (em) =>
        em.execute(`update poker.stories set final_points = '13' where id = ?`, [next.id]),
      ),
      InvalidInputError,
    );
    expect(estimate.constraint.constraint).toBe('stories_final_points_in_deck');
    const seedDeck = await session();
    const four = await expectHuddleError(
      asActor(test.db, seedDeck.facilitator.actor, (em) =>
        em.execute(`update poker.stories set final_points = '4' where id = ?`, [seedDeck.story.id]),
      ),
      InvalidInputError,
    );
    expect(four.constraint.constraint).toBe('stories_final_points_in_deck');
  });

  it('the seed’s deck stays the default: a vote of 4 is refused', async () => {
    const { session: created, story, facilitator } = await session();
    expect(created.deckId).toBeNull();
    await start(facilitator.actor, story.id);
    await expectHuddleError(vote(facilitator.actor, story.id, '4'), InvalidInputError);
    const { rows } = await postgres.client.query('select * from poker.votes where story_id = $1', [story.id]);
    expect(rows).toEqual([]);
  });

  it('a user’s own deck: listed and usable by its owner only (row-level security), deleted unless in use', async () => {
    const [owner, other] = await Promise.all([newUser(test.db, 'Olga'), newUser(test.db, 'Per')]);
    const input = parseInput(createDeckInputSchema, {
      name: 'Hours',
      scale: 'numeric',
      cards: [{ card: '½h', value: 0.5 }, { card: '1h', value: 1 }, { card: '4h', value: 4 }, { card: '☕' }],
    });
    const deck = await asActor(test.db, owner.actor, (em, actor) => createDeck(em, actor, input));
    expect(deck).toMatchObject({ name: 'Hours', ownerId: owner.id, key: null });
    expect(deck.cards).toEqual([
      { card: '½h', value: 0.5 },
      { card: '1h', value: 1 },
      { card: '4h', value: 4 },
      { card: '☕', value: null },
    ]);
    const list = (user: TestUser) =>
      asActor(test.db, user.actor, (em, actor) => listDecks(em, actor, parseInput(listDecksInputSchema, {})));
    expect((await list(owner)).items.map((item) => item.key ?? item.name)).toEqual([
      'fibonacci',
      'tshirt',
      'powers_of_two',
      'Hours',
    ]);
    expect((await list(other)).items.map((item) => item.key)).toEqual([
      'fibonacci',
      'tshirt',
      'powers_of_two',
    ]);
    // The database, not only the service: the other user's request sees no row and cannot write one.
    const seen = await asActor(test.db, other.actor, (em) =>
      em.execute('select * from poker.deck_cards where deck_id = ?', [deck.id!]),
    );
    expect(seen).toEqual([]);
    await expectHuddleError(
      asActor(test.db, other.actor, (em) =>
        em.execute(`insert into poker.decks (name, owner_id) values ('Forged', ?)`, [owner.id]),
      ),
      ForbiddenError,
    );
    await expectHuddleError(
      asActor(test.db, other.actor, (em) =>
        em.execute(`insert into poker.deck_cards (deck_id, position, card) values (?, 9, 'X')`, [deck.id!]),
      ),
      ForbiddenError,
    );
    await expectHuddleError(
      asActor(test.db, other.actor, (em, actor) => createSession(em, actor, { name: 'S', deckId: deck.id! })),
      NotFoundError,
    );
    const used = await asActor(test.db, owner.actor, (em, actor) =>
      createSession(em, actor, { name: 'Estimates in hours', deckId: deck.id! }),
    );
    await expectHuddleError(
      asActor(test.db, other.actor, (em, actor) => deleteDeck(em, actor, { deckId: deck.id! })),
      NotFoundError,
    );
    const inUse = await expectHuddleError(
      asActor(test.db, owner.actor, (em, actor) => deleteDeck(em, actor, { deckId: deck.id! })),
      ConflictError,
    );
    expect(inUse.message).toMatch(/^deckId: deck \d+ is used by a session/);
    const unused = await asActor(test.db, owner.actor, (em, actor) => createDeck(em, actor, input));
    await asActor(test.db, owner.actor, (em, actor) => deleteDeck(em, actor, { deckId: unused.id! }));
    const { rows: left } = await postgres.client.query(
      'select count(*)::int as n from poker.deck_cards where deck_id = $1',
      [unused.id],
    );
    expect(left).toEqual([{ n: 0 }]);
    // A participant of the session sees the deck it uses.
    await asActor(test.db, other.actor, (em, actor) =>
      joinSession(em, actor, { joinCode: used.joinCode!, role: 'voter' }),
    );
    const detail = await asActor(test.db, other.actor, (em, actor) =>
      getSession(em, actor, { sessionId: used.id }),
    );
    expect(detail.deck.name).toBe('Hours');
  });
});

describe('automatic reveal', () => {
  it('reveals once when every voter has voted (spectators aside), and announces why', async () => {
    const { session: created, story, facilitator, ann, bob } = await session();
    await start(facilitator.actor, story.id);
    const events = await eventsDuring(
      created.id,
      async () => {
        await vote(facilitator.actor, story.id, '5');
        await vote(ann.actor, story.id, '8');
        expect(await revealedAt(story.id)).toBeNull();
        await vote(bob.actor, story.id, '8');
      },
      4,
    );
    expect(events.filter((event) => event.type === 'revealed')).toEqual([
      { type: 'revealed', sessionId: created.id, storyId: story.id, reason: 'all_voted' },
    ]);
    expect(await revealedAt(story.id)).not.toBeNull();
    await expectHuddleError(
      asActor(test.db, facilitator.actor, (em, actor) => revealVotes(em, actor, { storyId: story.id })),
      ConflictError,
    );
  });

  it('reveals exactly once when the last two votes arrive together', async () => {
    // Three times: whether two unserialised votes would miss each other depends on how they interleave.
    for (let attempt = 0; attempt < 3; attempt++) {
      const { session: created, story, facilitator, ann, bob } = await session();
      await start(facilitator.actor, story.id);
      await vote(facilitator.actor, story.id, '3');
      // Hold the session's row so both last votes are in flight at once, then let them go together.
      await postgres.client.query('begin');
      await postgres.client.query('select 1 from poker.sessions where id = $1 for update', [created.id]);
      const events = await eventsDuring(
        created.id,
        async () => {
          const votes = settleAll([
            () => vote(ann.actor, story.id, '5'),
            () => vote(bob.actor, story.id, '8'),
          ]);
          try {
            await untilLockWaits(2);
          } finally {
            await postgres.client.query('commit');
          }
          expect((await votes).errors).toEqual([]);
        },
        3,
      );
      expect(events.filter((event) => event.type === 'revealed')).toHaveLength(1);
      expect(await revealedAt(story.id)).not.toBeNull();
    }
  });

  it('reveals when the timer runs out (the job, once), and refuses votes after it', async () => {
    const { session: created, story, facilitator, ann } = await session();
    const before = Date.now();
    const started = await start(facilitator.actor, story.id, 60);
    const deadline = new Date(started.votingDeadline!);
    expect(deadline.getTime()).toBeGreaterThanOrEqual(before + 60_000);
    expect(deadline.getTime()).toBeLessThanOrEqual(Date.now() + 60_000);
    await vote(ann.actor, story.id, '5');
    const early = await runJob(test.db, 'poker.reveal-expired-rounds', {
      now: new Date(deadline.getTime() - 1000),
    });
    expect(early).toMatchObject({ status: 'ran', rows: 0 });
    const events = await eventsDuring(
      created.id,
      async () => {
        const due = await runJob(test.db, 'poker.reveal-expired-rounds', {
          now: new Date(deadline.getTime() + 1000),
        });
        expect(due).toMatchObject({ status: 'ran', rows: 1 });
        const again = await runJob(test.db, 'poker.reveal-expired-rounds', {
          now: new Date(deadline.getTime() + 2000),
        });
        expect(again).toMatchObject({ status: 'ran', rows: 0 });
      },
      1,
    );
    expect(events).toEqual([
      { type: 'revealed', sessionId: created.id, storyId: story.id, reason: 'deadline' },
    ]);
    // A round whose time is over takes no vote, even before the job reveals it.
    const other = await session();
    await start(other.facilitator.actor, other.story.id, 10);
    await postgres.client.query(
      `update poker.stories set voting_deadline = now() - interval '1 second' where id = $1`,
      [other.story.id],
    );
    const late = await expectHuddleError(vote(other.ann.actor, other.story.id, '5'), ConflictError);
    expect(late.message).toMatch(/voting time on story \d+ is over/);
  });
});

describe('participants', () => {
  it('the facilitator hands the role over to a participant; only a participant can take it', async () => {
    const { session: created, story, facilitator, ann } = await session();
    const outsider = await newUser(test.db, 'Otto');
    await expectHuddleError(
      asActor(test.db, facilitator.actor, (em, actor) =>
        handOverSession(em, actor, { sessionId: created.id, userId: outsider.id }),
      ),
      NotFoundError,
    );
    const handed = await asActor(test.db, facilitator.actor, (em, actor) =>
      handOverSession(em, actor, { sessionId: created.id, userId: ann.id }),
    );
    expect(handed).toMatchObject({ facilitatorId: ann.id, joinCode: null });
    await expectHuddleError(start(facilitator.actor, story.id), ForbiddenError);
    await start(ann.actor, story.id);
    const { rows } = await postgres.client.query('select facilitator_id from poker.sessions where id = $1', [
      created.id,
    ]);
    expect(rows).toEqual([{ facilitator_id: ann.id }]);
  });

  it('removing a voter drops their open vote and reveals when everyone left has voted', async () => {
    const { session: created, story, facilitator, ann, bob } = await session();
    await start(facilitator.actor, story.id);
    await vote(facilitator.actor, story.id, '5');
    await vote(bob.actor, story.id, '8');
    await expectHuddleError(
      asActor(test.db, ann.actor, (em, actor) =>
        removeParticipant(em, actor, { sessionId: created.id, userId: bob.id }),
      ),
      ForbiddenError,
    );
    await expectHuddleError(
      asActor(test.db, facilitator.actor, (em, actor) =>
        removeParticipant(em, actor, { sessionId: created.id, userId: facilitator.id }),
      ),
      ConflictError,
    );
    const events = await eventsDuring(
      created.id,
      () =>
        asActor(test.db, facilitator.actor, (em, actor) =>
          removeParticipant(em, actor, { sessionId: created.id, userId: ann.id }),
        ),
      2,
    );
    expect(events).toEqual([
      { type: 'revealed', sessionId: created.id, storyId: story.id, reason: 'all_voted' },
      { type: 'session_changed', sessionId: created.id, change: 'participant_removed' },
    ]);
    const { rows } = await postgres.client.query(
      'select user_id from poker.session_participants where session_id = $1 order by id',
      [created.id],
    );
    expect(rows.map((row) => row.user_id)).not.toContain(ann.id);
  });

  it('spectator on and off: anyone for themselves, the facilitator for anyone; a spectator’s open vote goes', async () => {
    const { session: created, story, facilitator, ann, bob } = await session();
    await start(facilitator.actor, story.id);
    await vote(ann.actor, story.id, '5');
    await expectHuddleError(
      asActor(test.db, ann.actor, (em, actor) =>
        setSpectator(em, actor, { sessionId: created.id, userId: bob.id, spectator: true }),
      ),
      ForbiddenError,
    );
    const watching = await asActor(test.db, ann.actor, (em, actor) =>
      setSpectator(em, actor, { sessionId: created.id, userId: ann.id, spectator: true }),
    );
    expect(watching.isSpectator).toBe(true);
    await expectHuddleError(vote(ann.actor, story.id, '5'), ForbiddenError);
    const { rows } = await postgres.client.query('select user_id from poker.votes where story_id = $1', [
      story.id,
    ]);
    expect(rows).toEqual([]);
    const back = await asActor(test.db, facilitator.actor, (em, actor) =>
      setSpectator(em, actor, { sessionId: created.id, userId: ann.id, spectator: false }),
    );
    expect(back.isSpectator).toBe(false);
    await vote(ann.actor, story.id, '3');
    // Joining again as a spectator does the same.
    await vote(bob.actor, story.id, '8');
    await asActor(test.db, bob.actor, (em, actor) =>
      joinSession(em, actor, { joinCode: created.joinCode!, role: 'spectator' }),
    );
    const { rows: left } = await postgres.client.query(
      'select user_id from poker.votes where story_id = $1 order by user_id',
      [story.id],
    );
    expect(left).toEqual([{ user_id: ann.id }]);
  });
});

describe('export and import', () => {
  it('exports stories, final estimates and every round’s votes as JSON and CSV, a page at a time', async () => {
    const { session: created, story, next, facilitator, ann, bob, sam } = await session();
    await asActor(test.db, facilitator.actor, (em, actor) =>
      importStories(em, actor, { sessionId: created.id, csv: 'title\n"=HYPERLINK(""http://x"")"\n' }),
    );
    // A round never revealed is not kept: nobody was to see its cards.
    await start(facilitator.actor, next.id);
    await vote(ann.actor, next.id, '13');
    await asActor(test.db, facilitator.actor, (em, actor) => revote(em, actor, { storyId: next.id }));
    await asActor(test.db, facilitator.actor, (em, actor) =>
      completeStory(em, actor, { storyId: next.id, finalPoints: '?' }),
    );
    await start(facilitator.actor, story.id);
    await vote(facilitator.actor, story.id, '3');
    await vote(ann.actor, story.id, '8');
    await vote(bob.actor, story.id, '13');
    await asActor(test.db, facilitator.actor, (em, actor) => revote(em, actor, { storyId: story.id }));
    await vote(facilitator.actor, story.id, '8');
    await vote(ann.actor, story.id, '8');
    await vote(bob.actor, story.id, '8');
    await asActor(test.db, facilitator.actor, (em, actor) =>
      completeStory(em, actor, { storyId: story.id, finalPoints: '8' }),
    );
    const page = (cursor?: string) =>
      asActor(test.db, sam.actor, (em, actor) =>
        exportSession(
          em,
          actor,
          parseInput(exportSessionInputSchema, { sessionId: created.id, limit: 2, cursor }),
        ),
      );
    const first = await page();
    expect(first.stories.map((exported) => [exported.title, exported.finalPoints])).toEqual([
      ['Login', '8'],
      ['Logout', '?'],
    ]);
    expect(first.stories[0]!.rounds).toEqual([
      {
        round: 1,
        votes: [
          { userId: facilitator.id, name: 'Fran', points: '3' },
          { userId: ann.id, name: 'Ann', points: '8' },
          { userId: bob.id, name: 'Bob', points: '13' },
        ],
      },
      {
        round: 2,
        votes: [
          { userId: facilitator.id, name: 'Fran', points: '8' },
          { userId: ann.id, name: 'Ann', points: '8' },
          { userId: bob.id, name: 'Bob', points: '8' },
        ],
      },
    ]);
    expect(first.stories[1]!.rounds).toEqual([{ round: 2, votes: [] }]);
    const second = await page(first.nextCursor!);
    expect(second.stories.map((exported) => exported.title)).toEqual(['=HYPERLINK("http://x")']);
    expect(second.nextCursor).toBeNull();

    const { csv } = await asActor(test.db, ann.actor, (em, actor) =>
      exportSessionCsv(em, actor, parseInput(exportSessionInputSchema, { sessionId: created.id })),
    );
    const lines = parse(csv, { columns: true }) as Record<string, string>[];
    expect(lines).toHaveLength(8);
    expect(lines[0]).toEqual({
      story_id: String(story.id),
      story_order: '1',
      title: 'Login',
      description: '',
      status: 'completed',
      final_points: '8',
      round: '1',
      user_id: String(facilitator.id),
      user_name: 'Fran',
      points: '3',
    });
    expect(lines[6]).toMatchObject({ title: 'Logout', round: '', points: '' });
    // A spreadsheet would run it: escaped.
    expect(lines[7]!.title).toBe(`'=HYPERLINK("http://x")`);

    const outsider = await newUser(test.db, 'Otto');
    await expectHuddleError(
      asActor(test.db, outsider.actor, (em, actor) =>
        exportSession(em, actor, parseInput(exportSessionInputSchema, { sessionId: created.id })),
      ),
      ForbiddenError,
    );
  });

  it('imports all rows or none; a refusal names each wrong row and field', async () => {
    const { session: created, facilitator } = await session();
    const imported = await asActor(test.db, facilitator.actor, (em, actor) =>
      importStories(em, actor, {
        sessionId: created.id,
        csv: 'Title,Description\r\n"Search, with filters","line one\nline two"\r\nExport,\r\n',
      }),
    );
    expect(imported.map((story) => [story.title, story.description, story.storyOrder])).toEqual([
      ['Search, with filters', 'line one\nline two', 3],
      ['Export', null, 4],
    ]);
    const storiesNow = async () =>
      (
        await postgres.client.query('select count(*)::int as n from poker.stories where session_id = $1', [
          created.id,
        ])
      ).rows[0].n;
    const refused = async (csv: string) =>
      (
        await expectHuddleError(
          asActor(test.db, facilitator.actor, (em, actor) =>
            importStories(em, actor, { sessionId: created.id, csv }),
          ),
          InvalidInputError,
        )
      ).message;
    expect(
      await refused(`title,description\nFine,\n   ,blank title\nOK,\n${'x'.repeat(501)},long\nA,b,c\n`),
    ).toBe(
      'csv: row 3 title: Too small: expected string to have >=1 characters; ' +
        'row 5 title: Too big: expected string to have <=500 characters; ' +
        'row 6: has 3 fields, the header names 2',
    );
    expect(await refused('name,points\nA,3\n')).toMatch(/^csv: row 1: unknown column\(s\) "name", "points"/);
    expect(await refused('title\n"unclosed\n')).toMatch(/^csv: is not valid CSV/);
    expect(await refused(`title\n${'Story\n'.repeat(MAX_IMPORT_ROWS + 1)}`)).toBe(
      `csv: has more than ${MAX_IMPORT_ROWS} stories (split it)`,
    );
    expect(await storiesNow()).toBe(4);
  });
});
