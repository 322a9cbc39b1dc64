import {
  ConflictError,
  ForbiddenError,
  InvalidInputError,
  NotFoundError,
  parseInput,
  UnauthorizedError,
} from '@huddle/db';
import { useTestDatabase } from '@huddle/testing';
import { describe, expect, it } from 'vitest';
import { type PokerActor, pokerActor } from '../src/actor.ts';
import { pokerModule } from '../src/module.ts';
import { pokerOperations } from '../src/operations.ts';
import {
  joinInputSchema,
  listMySessionsInputSchema,
  mySessionPageSchema,
  POKER_EVENTS_CHANNEL,
  type PointValue,
  type PokerEvent,
  participantSchema,
  pokerEventSchema,
  sessionDetailSchema,
  sessionSchema,
  storySchema,
  storySummarySchema,
  userSchema,
  voteSchema,
} from '../src/schemas.ts';
import {
  completeSession,
  createSession,
  getSession,
  joinSession,
  listMySessions,
  pauseSession,
  renameSession,
  resumeSession,
  rotateJoinCode,
} from '../src/services/sessions.ts';
import {
  addStory,
  completeStory,
  deleteStory,
  editStory,
  reorderStories,
  startVoting,
} from '../src/services/stories.ts';
import { getStorySummary, votingStatistics } from '../src/services/summary.ts';
import { createDeviceLink, getCurrentUser, join } from '../src/services/users.ts';
import { castVote, revealVotes, revote } from '../src/services/votes.ts';
import {
  actorOf,
  asActor,
  call,
  eventually,
  expectHuddleError,
  inRequest,
  newUser,
  useSqlClient,
} from './helpers.ts';

const test = useTestDatabase([pokerModule]);
const postgres = useSqlClient(test);

async function rows<Row extends Record<string, unknown>>(
  sql: string,
  params: unknown[] = [],
): Promise<Row[]> {
  return (await postgres.client.query<Row>(sql, params)).rows;
}

type TestUser = Awaited<ReturnType<typeof newUser>>;

/**
 * A session run by `facilitator` with voters `ann` and `bob`, spectator `sam`, and three pending stories;
 * `outsider` has not joined.
 */
async function sessionWithStories() {
  const db = test.db;
  const [facilitator, ann, bob, sam, outsider] = (await Promise.all(
    ['Fran', 'Ann', 'Bob', 'Sam', 'Otto'].map((name) => newUser(db, name)),
  )) as [TestUser, TestUser, TestUser, TestUser, TestUser];
  const session = await asActor(db, facilitator.actor, (em, actor) =>
    createSession(em, actor, { name: 'Sprint 7' }),
  );
  await asActor(db, ann.actor, (em, actor) =>
    joinSession(em, actor, { joinCode: session.joinCode!, role: 'voter' }),
  );
  await asActor(db, bob.actor, (em, actor) =>
    joinSession(em, actor, { joinCode: session.joinCode!, role: 'voter' }),
  );
  await asActor(db, sam.actor, (em, actor) =>
    joinSession(em, actor, { joinCode: session.joinCode!, role: 'spectator' }),
  );
  const stories = [];
  for (const title of ['Login', 'Logout', 'Profile']) {
    stories.push(
      await asActor(db, facilitator.actor, (em, actor) =>
        addStory(em, actor, { sessionId: session.id, title }),
      ),
    );
  }
  return {
    session,
    stories: stories as [(typeof stories)[0], ...typeof stories],
    facilitator,
    ann,
    bob,
    sam,
    outsider,
  };
}

/** A session whose first story is open for voting. */
async function votingSession() {
  const setup = await sessionWithStories();
  const story = setup.stories[0];
  await asActor(test.db, setup.facilitator.actor, (em, actor) =>
    startVoting(em, actor, { storyId: story.id }),
  );
  return { ...setup, story };
}

function vote(actor: PokerActor, storyId: number, points: PointValue) {
  return asActor(test.db, actor, (em, actor) => castVote(em, actor, { storyId, points }));
}

async function storyRow(storyId: number) {
  const [row] = await rows<{ status: string; revealed_at: Date | null; final_points: string | null }>(
    'select status, revealed_at, final_points from poker.stories where id = $1',
    [storyId],
  );
  return row;
}

describe('join (temporary identity)', () => {
  it('creates a user by email; only that user (by their token) signs in with it again, whatever its case', async () => {
    const first = await inRequest(test.db, (em) =>
      join(em, parseInput(joinInputSchema, { name: 'Quinn', email: 'Quinn@Example.test' }), null),
    );
    const again = await inRequest(test.db, (em) =>
      join(em, parseInput(joinInputSchema, { name: 'Q.', email: 'quinn@example.test' }), actorOf(first)),
    );
    expect(again.id).toBe(first.id);
    expect(again.name).toBe('Quinn');
    expect(Date.parse(again.lastActive)).toBeGreaterThanOrEqual(Date.parse(first.lastActive));
    expect(await rows('select name, email from poker.users where id = $1', [first.id])).toEqual([
      { name: 'Quinn', email: 'quinn@example.test' },
    ]);
  });

  it('knowing an email is not enough: anyone else joining with it is refused, and nothing changes', async () => {
    const owner = await inRequest(test.db, (em) =>
      join(em, { name: 'Olga', email: 'olga@example.test' }, null),
    );
    const stranger = await newUser(test.db, 'Stan');
    for (const caller of [null, stranger.actor]) {
      const error = await expectHuddleError(
        inRequest(test.db, (em) => join(em, { name: 'Impostor', email: 'olga@example.test' }, caller)),
        ConflictError,
      );
      expect(error.constraint.field).toBe('email');
    }
    expect(await rows('select id, name from poker.users where email = $1', ['olga@example.test'])).toEqual([
      { id: owner.id, name: 'Olga' },
    ]);
  });

  it('brings a player back on a new device with a device link they made where signed in: once, before it expires', async () => {
    const owner = await inRequest(test.db, (em) =>
      join(em, { name: 'Dee', email: 'dee@example.test' }, null),
    );
    const comeBack = (deviceLink: string) =>
      inRequest(test.db, (em) =>
        join(em, parseInput(joinInputSchema, { name: 'D', email: 'Dee@example.test', deviceLink }), null),
      );
    const refused = await expectHuddleError(
      inRequest(test.db, (em) => join(em, { name: 'D', email: 'dee@example.test' }, null)),
      ConflictError,
    );
    expect(refused.message).toBe(
      'email: dee@example.test already has a player; to sign in as them here, make a device link (poker.deviceLink) where they are signed in and join with its code as deviceLink, or join without an email',
    );
    const link = await asActor(test.db, actorOf(owner), createDeviceLink);
    expect(link.code).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const stored = await rows<{ code_hash: string; minutes: number }>(
      `select code_hash, round(extract(epoch from expires_at - created_at) / 60)::int as minutes
       from poker.device_links where user_id = $1`,
      [owner.id],
    );
    expect(stored).toEqual([{ code_hash: expect.stringMatching(/^[0-9a-f]{64}$/), minutes: 10 }]);
    expect(stored[0]!.code_hash).not.toContain(link.code);

    const wrong = await expectHuddleError(
      comeBack(link.code.replace(/^./, (c) => (c === 'A' ? 'B' : 'A'))),
      UnauthorizedError,
    );
    expect(wrong.message).toMatch(/^deviceLink: is not a device link of dee@example.test /);
    expect((await comeBack(link.code)).id).toBe(owner.id);
    await expectHuddleError(comeBack(link.code), UnauthorizedError);
    expect(await rows('select 1 from poker.device_links where user_id = $1', [owner.id])).toEqual([]);

    // A new link replaces the last; an expired one is refused.
    const replaced = await asActor(test.db, actorOf(owner), createDeviceLink);
    const latest = await asActor(test.db, actorOf(owner), createDeviceLink);
    await expectHuddleError(comeBack(replaced.code), UnauthorizedError);
    await rows(`update poker.device_links set expires_at = now() - interval '1 second' where user_id = $1`, [
      owner.id,
    ]);
    await expectHuddleError(comeBack(latest.code), UnauthorizedError);
    expect(await rows('select name, email from poker.users where id = $1', [owner.id])).toEqual([
      { name: 'Dee', email: 'dee@example.test' },
    ]);
  });

  it('makes no device link for a guest, and refuses a device link without the email it is for', async () => {
    const guest = await inRequest(test.db, (em) => join(em, { name: 'Guest' }, null));
    const error = await expectHuddleError(asActor(test.db, actorOf(guest), createDeviceLink), ConflictError);
    expect(error.message).toMatch(/^email: you joined as a guest/);
    const missing = await expectHuddleError(
      inRequest(test.db, async (em) =>
        join(em, parseInput(joinInputSchema, { name: 'X', deviceLink: 'a'.repeat(43) }), null),
      ),
      InvalidInputError,
    );
    expect(missing.message).toMatch(/^email: is required with deviceLink/);
  });

  it('creates a new user each time without an email', async () => {
    const one = await inRequest(test.db, (em) => join(em, { name: 'Anon' }, null));
    const two = await inRequest(test.db, (em) => join(em, { name: 'Anon' }, null));
    expect(one.id).not.toBe(two.id);
    expect(one).toMatchObject({ name: 'Anon', email: null });
  });

  it('names the offending field of invalid input', async () => {
    const error = await expectHuddleError(
      inRequest(test.db, async (em) =>
        join(em, parseInput(joinInputSchema, { name: 'X', email: 'not an email' }), null),
      ),
      InvalidInputError,
    );
    expect(error.constraint.field).toBe('email');
    expect(error.message).toMatch(/^email: /);
  });

  it('refuses a token subject that is no poker user: malformed at parsing, unknown when the request loads it', async () => {
    for (const subject of ['admin', '', '0', '-1', '01', '1 or 1=1', '2147483648', '1.5']) {
      expect(() => pokerActor.parse(subject), subject).toThrow(UnauthorizedError);
    }
    await expectHuddleError(
      asActor(test.db, pokerActor.parse('987654'), (em, actor) => getCurrentUser(em, actor)),
      UnauthorizedError,
    );
  });
});

describe('sessions', () => {
  it('the creator facilitates and votes; joiners vote or spectate', async () => {
    const { session, facilitator, sam } = await sessionWithStories();
    const participants = await rows(
      `select user_id, is_spectator from poker.session_participants where session_id = $1 order by id`,
      [session.id],
    );
    expect(participants).toHaveLength(4);
    expect(participants[0]).toEqual({ user_id: facilitator.id, is_spectator: false });
    expect(participants[3]).toEqual({ user_id: sam.id, is_spectator: true });
    expect(session).toMatchObject({ facilitatorId: facilitator.id, status: 'active' });
  });

  it('pause, resume and complete move the status, and only along the allowed transitions', async () => {
    const { session, facilitator } = await sessionWithStories();
    const input = { sessionId: session.id };
    await expectHuddleError(
      asActor(test.db, facilitator.actor, (em, actor) => resumeSession(em, actor, input)),
      ConflictError,
    );
    expect(
      await asActor(test.db, facilitator.actor, (em, actor) => pauseSession(em, actor, input)),
    ).toMatchObject({
      status: 'paused',
    });
    expect(
      await asActor(test.db, facilitator.actor, (em, actor) => resumeSession(em, actor, input)),
    ).toMatchObject({
      status: 'active',
    });
    await asActor(test.db, facilitator.actor, (em, actor) => completeSession(em, actor, input));
    expect(await rows('select status from poker.sessions where id = $1', [session.id])).toEqual([
      { status: 'completed' },
    ]);
    // A completed session is read-only.
    await expectHuddleError(
      asActor(test.db, facilitator.actor, (em, actor) => pauseSession(em, actor, input)),
      ConflictError,
    );
    await expectHuddleError(
      asActor(test.db, facilitator.actor, (em, actor) =>
        addStory(em, actor, { sessionId: session.id, title: 'Late' }),
      ),
      ConflictError,
    );
  });

  it('rename returns the updated_at the database trigger set', async () => {
    const { session, facilitator } = await sessionWithStories();
    const renamed = await asActor(test.db, facilitator.actor, (em, actor) =>
      renameSession(em, actor, { sessionId: session.id, name: 'Sprint 7 (moved)' }),
    );
    const [row] = await rows<{ name: string; updated_at: Date }>(
      'select name, updated_at from poker.sessions where id = $1',
      [session.id],
    );
    expect(row!.name).toBe('Sprint 7 (moved)');
    expect(renamed.updatedAt).toBe(row!.updated_at.toISOString());
    expect(renamed.updatedAt > session.updatedAt).toBe(true);
  });

  it('only the facilitator changes the session, its stories and its rounds', async () => {
    const { session, story, ann, stories } = await votingSession();
    const sessionId = session.id;
    const storyId = story.id;
    const attempts = {
      rename: () =>
        asActor(test.db, ann.actor, (em, actor) => renameSession(em, actor, { sessionId, name: 'Mine' })),
      pause: () => asActor(test.db, ann.actor, (em, actor) => pauseSession(em, actor, { sessionId })),
      complete: () => asActor(test.db, ann.actor, (em, actor) => completeSession(em, actor, { sessionId })),
      addStory: () =>
        asActor(test.db, ann.actor, (em, actor) => addStory(em, actor, { sessionId, title: 'Sneaky' })),
      editStory: () =>
        asActor(test.db, ann.actor, (em, actor) => editStory(em, actor, { storyId, title: 'Edited' })),
      deleteStory: () => asActor(test.db, ann.actor, (em, actor) => deleteStory(em, actor, { storyId })),
      reorder: () =>
        asActor(test.db, ann.actor, (em, actor) =>
          reorderStories(em, actor, { sessionId, storyIds: stories.map((s) => s.id).reverse() }),
        ),
      startVoting: () =>
        asActor(test.db, ann.actor, (em, actor) => startVoting(em, actor, { storyId: stories[1]!.id })),
      reveal: () => asActor(test.db, ann.actor, (em, actor) => revealVotes(em, actor, { storyId })),
      revote: () => asActor(test.db, ann.actor, (em, actor) => revote(em, actor, { storyId })),
      completeStory: () =>
        asActor(test.db, ann.actor, (em, actor) => completeStory(em, actor, { storyId, finalPoints: '3' })),
    };
    for (const [name, attempt] of Object.entries(attempts)) {
      const error = await expectHuddleError(attempt(), ForbiddenError);
      expect(error.message, name).toMatch(/only the facilitator/);
    }
    const before = await rows('select * from poker.stories where session_id = $1 order by id', [sessionId]);
    expect(before.map((row) => [row.title, row.status, row.story_order])).toEqual([
      ['Login', 'voting', 1],
      ['Logout', 'pending', 2],
      ['Profile', 'pending', 3],
    ]);
    expect(await rows('select name, status from poker.sessions where id = $1', [sessionId])).toEqual([
      { name: 'Sprint 7', status: 'active' },
    ]);
  });

  it('getSession is for participants; it lists stories in order and participants with names', async () => {
    const { session, stories, outsider, sam, facilitator } = await sessionWithStories();
    await expectHuddleError(
      asActor(test.db, outsider.actor, (em, actor) => getSession(em, actor, { sessionId: session.id })),
      ForbiddenError,
    );
    const detail = await asActor(test.db, sam.actor, (em, actor) =>
      getSession(em, actor, { sessionId: session.id }),
    );
    expect(detail.stories.map((story) => story.id)).toEqual(stories.map((story) => story.id));
    expect(detail.participants.map((participant) => [participant.name, participant.isSpectator])).toEqual([
      ['Fran', false],
      ['Ann', false],
      ['Bob', false],
      ['Sam', true],
    ]);
    expect(detail.facilitatorId).toBe(facilitator.id);
    await expectHuddleError(
      asActor(test.db, sam.actor, (em, actor) => getSession(em, actor, { sessionId: 987_654 })),
      NotFoundError,
    );
  });

  it('listMySessions gives facilitated and joined sessions with the role, filtered by status', async () => {
    const { session, facilitator, sam } = await sessionWithStories();
    const other = await asActor(test.db, sam.actor, (em, actor) =>
      createSession(em, actor, { name: "Sam's own" }),
    );
    await asActor(test.db, sam.actor, (em, actor) => pauseSession(em, actor, { sessionId: other.id }));
    const samSessions = await asActor(test.db, sam.actor, (em, actor) =>
      listMySessions(em, actor, listMySessionsInputSchema.parse({})),
    );
    expect(samSessions.items.map((mine) => [mine.id, mine.role])).toEqual([
      [other.id, 'facilitator'],
      [session.id, 'spectator'],
    ]);
    const paused = await asActor(test.db, sam.actor, (em, actor) =>
      listMySessions(em, actor, listMySessionsInputSchema.parse({ status: 'paused' })),
    );
    expect(paused.items.map((mine) => mine.id)).toEqual([other.id]);
    const fran = await asActor(test.db, facilitator.actor, (em, actor) =>
      listMySessions(em, actor, listMySessionsInputSchema.parse({})),
    );
    expect(fran.items.map((mine) => [mine.id, mine.role])).toEqual([[session.id, 'facilitator']]);
  });

  it('listMySessions pages newest first through its cursor: each session once, the page size bounded', async () => {
    const { session, sam } = await sessionWithStories();
    const own = [];
    for (const name of ['One', 'Two', 'Three']) {
      own.push(await asActor(test.db, sam.actor, (em, actor) => createSession(em, actor, { name })));
    }
    const pages: [number, string][][] = [];
    let cursor: string | undefined;
    do {
      const page = await asActor(test.db, sam.actor, (em, actor) =>
        listMySessions(em, actor, listMySessionsInputSchema.parse({ limit: 2, cursor })),
      );
      pages.push(page.items.map((mine) => [mine.id, mine.role]));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(pages).toEqual([
      [
        [own[2]!.id, 'facilitator'],
        [own[1]!.id, 'facilitator'],
      ],
      [
        [own[0]!.id, 'facilitator'],
        [session.id, 'spectator'],
      ],
    ]);
    expect(listMySessionsInputSchema.safeParse({ limit: 201 }).success).toBe(false);
    expect(listMySessionsInputSchema.safeParse({ cursor: 'bm90IGEga2V5' }).error?.issues[0]?.message).toBe(
      'must be a nextCursor this list returned',
    );
  });
});

describe('stories', () => {
  it('reorder applies the whole new order', async () => {
    const { session, stories, facilitator } = await sessionWithStories();
    const [login, logout, profile] = stories.map((story) => story.id) as [number, number, number];
    const reordered = await asActor(test.db, facilitator.actor, (em, actor) =>
      reorderStories(em, actor, { sessionId: session.id, storyIds: [profile, login, logout] }),
    );
    expect(reordered.map((story) => [story.id, story.storyOrder])).toEqual([
      [profile, 1],
      [login, 2],
      [logout, 3],
    ]);
    expect(
      await rows('select id from poker.stories where session_id = $1 order by story_order', [session.id]),
    ).toEqual([{ id: profile }, { id: login }, { id: logout }]);
  });

  it('reorder refuses a list that is not exactly the session’s stories, and changes nothing', async () => {
    const { session, stories, facilitator } = await sessionWithStories();
    const foreign = await sessionWithStories();
    const [login, logout, profile] = stories.map((story) => story.id) as [number, number, number];
    const orderBefore = await rows(
      'select id, story_order from poker.stories where session_id = $1 order by id',
      [session.id],
    );
    const badLists = [
      [profile, login],
      [profile, login, logout, foreign.stories[0].id],
      [profile, login, foreign.stories[0].id],
      [profile, login, login],
      [],
    ];
    for (const storyIds of badLists) {
      const error = await expectHuddleError(
        asActor(test.db, facilitator.actor, (em, actor) =>
          reorderStories(em, actor, { sessionId: session.id, storyIds }),
        ),
        InvalidInputError,
      );
      expect(error.constraint.field).toBe('storyIds');
    }
    expect(
      await rows('select id, story_order from poker.stories where session_id = $1 order by id', [session.id]),
    ).toEqual(orderBefore);
  });

  it('add appends; edit and delete change the database (delete takes the votes with it)', async () => {
    const { session, story, facilitator, ann } = await votingSession();
    const added = await asActor(test.db, facilitator.actor, (em, actor) =>
      addStory(em, actor, { sessionId: session.id, title: 'Search', description: 'Full text' }),
    );
    expect(added.storyOrder).toBe(4);
    await asActor(test.db, facilitator.actor, (em, actor) =>
      editStory(em, actor, { storyId: added.id, description: null }),
    );
    expect(await rows('select title, description from poker.stories where id = $1', [added.id])).toEqual([
      { title: 'Search', description: null },
    ]);
    await expectHuddleError(
      call(test.db, facilitator.actor, pokerOperations.stories.edit, {
        storyId: added.id,
      }),
      InvalidInputError,
    );
    await vote(ann.actor, story.id, '5');
    await asActor(test.db, facilitator.actor, (em, actor) => deleteStory(em, actor, { storyId: story.id }));
    expect(await rows('select id from poker.stories where id = $1', [story.id])).toEqual([]);
    expect(await rows('select id from poker.votes where story_id = $1', [story.id])).toEqual([]);
    await expectHuddleError(
      asActor(test.db, facilitator.actor, (em, actor) => deleteStory(em, actor, { storyId: story.id })),
      NotFoundError,
    );
  });

  it('one story votes at a time per session; completing it frees the session for the next', async () => {
    const { stories, story, facilitator } = await votingSession();
    const next = stories[1]!;
    const error = await expectHuddleError(
      asActor(test.db, facilitator.actor, (em, actor) => startVoting(em, actor, { storyId: next.id })),
      ConflictError,
    );
    expect(error.message).toContain(`already voting on story ${story.id}`);
    const completed = await asActor(test.db, facilitator.actor, (em, actor) =>
      completeStory(em, actor, { storyId: story.id, finalPoints: '8' }),
    );
    expect(completed).toMatchObject({ status: 'completed', finalPoints: '8' });
    await asActor(test.db, facilitator.actor, (em, actor) => startVoting(em, actor, { storyId: next.id }));
    expect(await storyRow(next.id)).toMatchObject({ status: 'voting' });
    expect(await storyRow(story.id)).toMatchObject({ status: 'completed', final_points: '8' });
  });
});

describe('votes', () => {
  it('are accepted only while the story is voting', async () => {
    const { stories, story, facilitator, ann } = await votingSession();
    const pending = stories[1]!;
    await expectHuddleError(vote(ann.actor, pending.id, '3'), ConflictError);
    await asActor(test.db, facilitator.actor, (em, actor) =>
      completeStory(em, actor, { storyId: story.id, finalPoints: '3' }),
    );
    await expectHuddleError(vote(ann.actor, story.id, '3'), ConflictError);
    expect(
      await rows('select * from poker.votes where story_id = any($1)', [[pending.id, story.id]]),
    ).toEqual([]);
  });

  it('are refused while the session is paused, and accepted again after resume', async () => {
    const { session, story, facilitator, ann } = await votingSession();
    await asActor(test.db, facilitator.actor, (em, actor) =>
      pauseSession(em, actor, { sessionId: session.id }),
    );
    const error = await expectHuddleError(vote(ann.actor, story.id, '5'), ConflictError);
    expect(error.message).toContain('paused');
    expect(await rows('select * from poker.votes where story_id = $1', [story.id])).toEqual([]);
    await asActor(test.db, facilitator.actor, (em, actor) =>
      resumeSession(em, actor, { sessionId: session.id }),
    );
    await vote(ann.actor, story.id, '5');
    expect(await rows('select user_id, points from poker.votes where story_id = $1', [story.id])).toEqual([
      { user_id: ann.id, points: '5' },
    ]);
  });

  it('are refused from spectators and from users who have not joined', async () => {
    const { story, sam, outsider } = await votingSession();
    expect((await expectHuddleError(vote(sam.actor, story.id, '2'), ForbiddenError)).message).toContain(
      'spectator',
    );
    await expectHuddleError(vote(outsider.actor, story.id, '2'), ForbiddenError);
    expect(await rows('select * from poker.votes where story_id = $1', [story.id])).toEqual([]);
  });

  it('change in place: a second cast replaces the first', async () => {
    const { story, ann } = await votingSession();
    await vote(ann.actor, story.id, '3');
    const changed = await vote(ann.actor, story.id, '13');
    expect(changed).toMatchObject({ storyId: story.id, userId: ann.id, points: '13' });
    expect(await rows('select points from poker.votes where story_id = $1', [story.id])).toEqual([
      { points: '13' },
    ]);
  });

  it('stay hidden from everyone, facilitator included, until the reveal', async () => {
    const { story, facilitator, ann, bob, sam } = await votingSession();
    await vote(ann.actor, story.id, '5');
    await vote(bob.actor, story.id, '8');
    for (const viewer of [facilitator, bob, sam]) {
      const summary = await asActor(test.db, viewer.actor, (em, actor) =>
        getStorySummary(em, actor, { storyId: story.id }),
      );
      expect(summary.votes.map((entry) => entry.points)).toEqual([null, null]);
      expect(summary.statistics).toBeNull();
      expect(summary.revealedAt).toBeNull();
      expect(summary.ownPoints).toBe(viewer === bob ? '8' : null);
    }
    await expectHuddleError(
      asActor(test.db, ann.actor, (em, actor) => revealVotes(em, actor, { storyId: story.id })),
      ForbiddenError,
    );
    await asActor(test.db, facilitator.actor, (em, actor) => revealVotes(em, actor, { storyId: story.id }));
    expect((await storyRow(story.id))!.revealed_at).toBeInstanceOf(Date);
    const revealed = await asActor(test.db, sam.actor, (em, actor) =>
      getStorySummary(em, actor, { storyId: story.id }),
    );
    expect(revealed.votes).toEqual([
      { userId: ann.id, name: 'Ann', points: '5' },
      { userId: bob.id, name: 'Bob', points: '8' },
    ]);
    // After the reveal the round is closed to votes until a re-vote.
    await expectHuddleError(vote(facilitator.actor, story.id, '1'), ConflictError);
    await expectHuddleError(
      asActor(test.db, facilitator.actor, (em, actor) => revealVotes(em, actor, { storyId: story.id })),
      ConflictError,
    );
  });

  it('re-vote clears the round: votes deleted, hidden again, voting again', async () => {
    const { story, facilitator, ann, bob } = await votingSession();
    await vote(ann.actor, story.id, '5');
    await vote(bob.actor, story.id, '21');
    await asActor(test.db, facilitator.actor, (em, actor) => revealVotes(em, actor, { storyId: story.id }));
    const reopened = await asActor(test.db, facilitator.actor, (em, actor) =>
      revote(em, actor, { storyId: story.id }),
    );
    expect(reopened).toMatchObject({ status: 'voting', revealedAt: null, finalPoints: null });
    expect(await rows('select * from poker.votes where story_id = $1', [story.id])).toEqual([]);
    expect(await storyRow(story.id)).toEqual({ status: 'voting', revealed_at: null, final_points: null });
    await vote(ann.actor, story.id, '8');
    expect(await rows('select points from poker.votes where story_id = $1', [story.id])).toEqual([
      { points: '8' },
    ]);
  });

  it('re-vote also reopens a completed story', async () => {
    const { story, facilitator } = await votingSession();
    await asActor(test.db, facilitator.actor, (em, actor) =>
      completeStory(em, actor, { storyId: story.id, finalPoints: '2' }),
    );
    await asActor(test.db, facilitator.actor, (em, actor) => revote(em, actor, { storyId: story.id }));
    expect(await storyRow(story.id)).toEqual({ status: 'voting', revealed_at: null, final_points: null });
  });
});

describe('summary', () => {
  it('gives average, median, modes, unanimity and who has not voted (3, 5, 5, ?)', async () => {
    const { session, story, facilitator, ann, bob } = await votingSession();
    const [cy, di] = [await newUser(test.db, 'Cy'), await newUser(test.db, 'Di')];
    for (const user of [cy, di]) {
      await asActor(test.db, user.actor, (em, actor) =>
        joinSession(em, actor, { joinCode: session.joinCode!, role: 'voter' }),
      );
    }
    await vote(facilitator.actor, story.id, '3');
    await vote(ann.actor, story.id, '5');
    await vote(bob.actor, story.id, '5');
    await vote(cy.actor, story.id, '?');
    await asActor(test.db, facilitator.actor, (em, actor) => revealVotes(em, actor, { storyId: story.id }));
    const summary = await asActor(test.db, ann.actor, (em, actor) =>
      getStorySummary(em, actor, { storyId: story.id }),
    );
    expect(summary.statistics).toEqual({
      average: 4.33,
      median: 5,
      modes: ['5'],
      spread: { lowest: '3', highest: '5', cardsApart: 1 },
      unanimous: false,
    });
    // Sam spectates, so only Di is missing.
    expect(summary.notVoted).toEqual([{ userId: di.id, name: 'Di' }]);
    expect(summary.votes.map((entry) => entry.points)).toEqual(['3', '5', '5', '?']);
  });

  it('statistics on edge cases', () => {
    expect(votingStatistics([])).toEqual({
      average: null,
      median: null,
      modes: [],
      spread: null,
      unanimous: false,
    });
    expect(votingStatistics(['?', '?'])).toEqual({
      average: null,
      median: null,
      modes: ['?'],
      spread: null,
      unanimous: true,
    });
    expect(votingStatistics(['8', '3'])).toEqual({
      average: 5.5,
      median: 5.5,
      modes: ['3', '8'],
      spread: { lowest: '3', highest: '8', cardsApart: 2 },
      unanimous: false,
    });
    expect(votingStatistics(['13', '13', '13'])).toEqual({
      average: 13,
      median: 13,
      modes: ['13'],
      spread: { lowest: '13', highest: '13', cardsApart: 0 },
      unanimous: true,
    });
    expect(votingStatistics(['1', '2', '21'])).toMatchObject({ average: 8, median: 2 });
  });

  it('is refused for a story that does not exist and for non-participants', async () => {
    const { story, outsider } = await votingSession();
    const missing = await expectHuddleError(
      asActor(test.db, outsider.actor, (em, actor) => getStorySummary(em, actor, { storyId: 987_654 })),
      NotFoundError,
    );
    expect(missing.constraint.field).toBe('storyId');
    await expectHuddleError(
      asActor(test.db, outsider.actor, (em, actor) => getStorySummary(em, actor, { storyId: story.id })),
      ForbiddenError,
    );
  });
});

describe('join codes', () => {
  it('only the facilitator sees the code; joining needs it, and a wrong code says nothing about the session', async () => {
    const { session, facilitator, ann } = await votingSession();
    expect(session.joinCode).toMatch(/^[0-9a-f]{32}$/);
    const seenByAnn = await asActor(test.db, ann.actor, (em, actor) =>
      getSession(em, actor, { sessionId: session.id }),
    );
    expect(seenByAnn.joinCode).toBeNull();
    const stranger = await newUser(test.db, 'Stranger');
    const guessed = await expectHuddleError(
      asActor(test.db, stranger.actor, (em, actor) =>
        joinSession(em, actor, { joinCode: 'f'.repeat(32), role: 'voter' }),
      ),
      NotFoundError,
    );
    expect(guessed.message).toBe('joinCode: no session has this join code');
    await expectHuddleError(
      asActor(test.db, stranger.actor, (em, actor) => getSession(em, actor, { sessionId: session.id })),
      ForbiddenError,
    );
    const seenByFacilitator = await asActor(test.db, facilitator.actor, (em, actor) =>
      getSession(em, actor, { sessionId: session.id }),
    );
    expect(seenByFacilitator.joinCode).toBe(session.joinCode);
  });

  it('rotating the code (facilitator only) stops the old link; those who joined stay', async () => {
    const { session, facilitator, ann } = await votingSession();
    await expectHuddleError(
      asActor(test.db, ann.actor, (em, actor) => rotateJoinCode(em, actor, { sessionId: session.id })),
      ForbiddenError,
    );
    const rotated = await asActor(test.db, facilitator.actor, (em, actor) =>
      rotateJoinCode(em, actor, { sessionId: session.id }),
    );
    expect(rotated.joinCode).toMatch(/^[0-9a-f]{32}$/);
    expect(rotated.joinCode).not.toBe(session.joinCode);
    const late = await newUser(test.db, 'Late');
    await expectHuddleError(
      asActor(test.db, late.actor, (em, actor) =>
        joinSession(em, actor, { joinCode: session.joinCode!, role: 'voter' }),
      ),
      NotFoundError,
    );
    await asActor(test.db, late.actor, (em, actor) =>
      joinSession(em, actor, { joinCode: rotated.joinCode!, role: 'voter' }),
    );
    const detail = await asActor(test.db, ann.actor, (em, actor) =>
      getSession(em, actor, { sessionId: session.id }),
    );
    expect(detail.participants.map((participant) => participant.userId)).toEqual(
      expect.arrayContaining([ann.id, late.id]),
    );
  });
});

describe('outputs', () => {
  it('are plain JSON that matches the published output schemas', async () => {
    const { session, story, facilitator, ann } = await votingSession();
    const input = { sessionId: session.id };
    const outputs = [
      [userSchema, await asActor(test.db, ann.actor, (em, actor) => getCurrentUser(em, actor))],
      [
        sessionSchema,
        await asActor(test.db, facilitator.actor, (em, actor) =>
          renameSession(em, actor, { ...input, name: 'X' }),
        ),
      ],
      [
        mySessionPageSchema,
        await asActor(test.db, ann.actor, (em, actor) =>
          listMySessions(em, actor, listMySessionsInputSchema.parse({})),
        ),
      ],
      [
        participantSchema,
        await asActor(test.db, ann.actor, (em, actor) =>
          joinSession(em, actor, { joinCode: session.joinCode!, role: 'voter' }),
        ),
      ],
      [voteSchema, await vote(ann.actor, story.id, '?')],
      [
        storySchema,
        await asActor(test.db, facilitator.actor, (em, actor) =>
          revealVotes(em, actor, { storyId: story.id }),
        ),
      ],
      [
        storySummarySchema,
        await asActor(test.db, ann.actor, (em, actor) => getStorySummary(em, actor, { storyId: story.id })),
      ],
      [
        storySchema,
        await asActor(test.db, facilitator.actor, (em, actor) =>
          completeStory(em, actor, { storyId: story.id, finalPoints: '1' }),
        ),
      ],
      [sessionDetailSchema, await asActor(test.db, ann.actor, (em, actor) => getSession(em, actor, input))],
    ] as const;
    for (const [schema, output] of outputs) {
      expect(schema.parse(output)).toEqual(output);
      expect(JSON.parse(JSON.stringify(output))).toEqual(output);
    }
    const added = await asActor(test.db, facilitator.actor, (em, actor) =>
      addStory(em, actor, { ...input, title: 'New' }),
    );
    expect(added).toMatchObject({ status: 'pending', storyOrder: 4, finalPoints: null, revealedAt: null });
  });
});

describe('events', () => {
  it('publishes every change on commit, never a vote’s value, and nothing for a refused change', async () => {
    const received: PokerEvent[] = [];
    const unlisten = await test.db.events.listen(POKER_EVENTS_CHANNEL, (payload) => {
      received.push(pokerEventSchema.parse(payload));
    });
    try {
      const { session, stories, story, facilitator, ann, sam } = await votingSession();
      const sessionId = session.id;
      await vote(ann.actor, story.id, '5');
      await expectHuddleError(vote(sam.actor, story.id, '5'), ForbiddenError);
      await asActor(test.db, facilitator.actor, (em, actor) => revealVotes(em, actor, { storyId: story.id }));
      await asActor(test.db, facilitator.actor, (em, actor) => pauseSession(em, actor, { sessionId }));
      const expected: PokerEvent[] = [
        { type: 'session_changed', sessionId, change: 'created' },
        { type: 'session_changed', sessionId, change: 'participant_joined' },
        { type: 'session_changed', sessionId, change: 'participant_joined' },
        { type: 'session_changed', sessionId, change: 'participant_joined' },
        ...stories.map((added) => ({
          type: 'story_changed' as const,
          sessionId,
          storyId: added.id,
          change: 'added' as const,
        })),
        { type: 'story_changed', sessionId, storyId: story.id, change: 'voting_started' },
        { type: 'vote_cast', sessionId, storyId: story.id, userId: ann.id },
        { type: 'revealed', sessionId, storyId: story.id, reason: 'facilitator' },
        { type: 'session_status_changed', sessionId, status: 'paused' },
      ];
      await eventually(() => {
        expect(received.filter((event) => event.sessionId === sessionId)).toEqual(expected);
      });
    } finally {
      await unlisten();
    }
  });
});
