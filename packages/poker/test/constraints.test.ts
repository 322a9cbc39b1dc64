import { ConflictError, type HuddleError, InvalidInputError, NotFoundError } from '@huddle/db';
import { itRefusesEach, type RefusedRow, sqlProbe, useTestDatabase } from '@huddle/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { pokerModule } from '../src/module.ts';
import { createSession } from '../src/services/sessions.ts';
import { expectHuddleError, inRequest, useSqlClient } from './helpers.ts';

/**
 * Every CHECK, UNIQUE, NOT NULL, foreign key and cascade of the seed and of the second migration: the
 * database itself refuses the bad row, whatever the services do.
 */
const test = useTestDatabase([pokerModule]);
const postgres = useSqlClient(test);
/**
 * Rows the cases refer to: a facilitator (`user`, who also voted and takes part), `otherUser` (nothing yet),
 * `voter` (only voted) and `spectator` (only takes part), a session and its story.
 */
const ids = {
  user: 0,
  otherUser: 0,
  voter: 0,
  spectator: 0,
  session: 0,
  story: 0,
  /** A T-shirt deck of `user`'s, a session on it (facilitated by `user`) and its story. */
  tshirt: 0,
  tshirtSession: 0,
  tshirtStory: 0,
};

const probe = sqlProbe(postgres, ids);
const { insert, count, refusal, withIds } = probe;

beforeAll(async () => {
  ids.user = await insert(`insert into poker.users (name, email) values ('Fay', 'fay@c.test')`);
  ids.otherUser = await insert(`insert into poker.users (name) values ('Gus')`);
  ids.session = await insert(`insert into poker.sessions (name, facilitator_id) values ('Base', $1)`, [
    ids.user,
  ]);
  ids.story = await insert(`insert into poker.stories (session_id, title) values ($1, 'Base story')`, [
    ids.session,
  ]);
  ids.voter = await insert(`insert into poker.users (name) values ('Vic')`);
  ids.spectator = await insert(`insert into poker.users (name) values ('Sue')`);
  await postgres.client.query(
    `insert into poker.votes (story_id, user_id, points) values ($1, $2, '5'), ($1, $3, '8')`,
    [ids.story, ids.user, ids.voter],
  );
  await postgres.client.query(
    `insert into poker.session_participants (session_id, user_id, is_spectator) values ($1, $2, false), ($1, $3, true)`,
    [ids.session, ids.user, ids.spectator],
  );
  ids.tshirt = await insert(
    `insert into poker.decks (name, scale, builtin_key, owner_id) values ('T-shirt sizes', 'ordinal', 'tshirt', $1)`,
    [ids.user],
  );
  await postgres.client.query(
    `insert into poker.deck_cards (deck_id, position, card, value)
     values ($1, 1, 'S', 1), ($1, 2, 'M', 2), ($1, 3, 'L', 3), ($1, 4, 'XL', 4), ($1, 5, '?', null)`,
    [ids.tshirt],
  );
  ids.tshirtSession = await insert(
    `insert into poker.sessions (name, facilitator_id, deck_id) values ('Sizes', $1, $2)`,
    [ids.user, ids.tshirt],
  );
  ids.tshirtStory = await insert(`insert into poker.stories (session_id, title) values ($1, 'Sized story')`, [
    ids.tshirtSession,
  ]);
});

const refusedRows: RefusedRow[] = [
  // users
  {
    rule: 'users.name NOT NULL',
    sql: `insert into poker.users (email) values ('x@c.test')`,
    code: '23502',
    column: 'name',
  },
  {
    rule: 'users.email UNIQUE',
    sql: `insert into poker.users (name, email) values ('Dup', 'fay@c.test')`,
    code: '23505',
    constraint: 'users_email_unique',
  },
  {
    rule: 'users.created_at NOT NULL (tightened)',
    sql: `insert into poker.users (name, created_at) values ('N', null)`,
    code: '23502',
    column: 'created_at',
  },
  {
    rule: 'users.last_active NOT NULL (tightened)',
    sql: `insert into poker.users (name, last_active) values ('N', null)`,
    code: '23502',
    column: 'last_active',
  },
  // sessions
  {
    rule: 'sessions.name NOT NULL',
    sql: `insert into poker.sessions (facilitator_id) values ({user})`,
    code: '23502',
    column: 'name',
  },
  {
    rule: 'sessions.facilitator_id NOT NULL (tightened)',
    sql: `insert into poker.sessions (name) values ('No facilitator')`,
    code: '23502',
    column: 'facilitator_id',
  },
  {
    rule: 'sessions.facilitator_id → users',
    sql: `insert into poker.sessions (name, facilitator_id) values ('Ghost', 999999)`,
    code: '23503',
    constraint: 'sessions_facilitator_id_foreign',
  },
  {
    rule: 'sessions check_status',
    sql: `insert into poker.sessions (name, facilitator_id, status) values ('S', {user}, 'archived')`,
    code: '23514',
    constraint: 'check_status',
  },
  {
    rule: 'sessions.status NOT NULL (tightened: NULL would pass check_status)',
    sql: `insert into poker.sessions (name, facilitator_id, status) values ('S', {user}, null)`,
    code: '23502',
    column: 'status',
  },
  // stories
  {
    rule: 'stories.title NOT NULL',
    sql: `insert into poker.stories (session_id) values ({session})`,
    code: '23502',
    column: 'title',
  },
  {
    rule: 'stories.session_id NOT NULL (tightened)',
    sql: `insert into poker.stories (title) values ('Orphan')`,
    code: '23502',
    column: 'session_id',
  },
  {
    rule: 'stories.session_id → sessions',
    sql: `insert into poker.stories (session_id, title) values (999999, 'T')`,
    code: '23503',
    constraint: 'stories_session_id_foreign',
  },
  {
    rule: 'stories check_story_status',
    sql: `insert into poker.stories (session_id, title, status) values ({session}, 'T', 'estimated')`,
    code: '23514',
    constraint: 'check_story_status',
  },
  {
    rule: 'stories.status NOT NULL (tightened)',
    sql: `insert into poker.stories (session_id, title, status) values ({session}, 'T', null)`,
    code: '23502',
    column: 'status',
  },
  {
    rule: 'stories.story_order NOT NULL (tightened)',
    sql: `insert into poker.stories (session_id, title, story_order) values ({session}, 'T', null)`,
    code: '23502',
    column: 'story_order',
  },
  // votes
  {
    rule: 'votes.points NOT NULL',
    sql: `insert into poker.votes (story_id, user_id) values ({story}, {otherUser})`,
    code: '23502',
    column: 'points',
  },
  {
    rule: 'votes check_points_format',
    sql: `insert into poker.votes (story_id, user_id, points) values ({story}, {otherUser}, '4')`,
    code: '23514',
    constraint: 'check_points_format',
  },
  {
    rule: 'stories round >= 1',
    sql: `update poker.stories set round = 0 where id = {story}`,
    code: '23514',
    constraint: 'stories_round_check',
  },
  {
    rule: 'sessions deck_fixed: a session’s deck does not change (trigger)',
    sql: `update poker.sessions set deck_id = {tshirt} where id = {session}`,
    code: '23514',
    constraint: 'sessions_deck_fixed',
  },
  {
    rule: 'sessions facilitator_participates: the facilitator takes part (trigger)',
    sql: `update poker.sessions set facilitator_id = {otherUser} where id = {session}`,
    code: '23514',
    constraint: 'sessions_facilitator_participates',
  },
  {
    rule: 'sessions.deck_id → decks',
    sql: `insert into poker.sessions (name, facilitator_id, deck_id) values ('D', {user}, 999999)`,
    code: '23503',
    constraint: 'sessions_deck_id_foreign',
  },
  {
    rule: 'a deck a session uses cannot be deleted',
    sql: `delete from poker.decks where id = {tshirt}`,
    code: '23503',
    constraint: 'sessions_deck_id_foreign',
  },
  {
    rule: 'decks.owner_id NOT NULL: every deck row is a user’s',
    sql: `insert into poker.decks (name) values ('Nobody’s')`,
    code: '23502',
    column: 'owner_id',
  },
  {
    rule: 'decks UNIQUE (owner_id, builtin_key): one copy of a built-in deck per user',
    sql: `insert into poker.decks (name, builtin_key, owner_id) values ('Again', 'tshirt', {user})`,
    code: '23505',
    constraint: 'decks_owner_id_builtin_key_unique',
  },
  {
    rule: 'decks scale',
    sql: `insert into poker.decks (name, scale, owner_id) values ('Odd', 'loud', {user})`,
    code: '23514',
    constraint: 'decks_scale_check',
  },
  {
    rule: 'deck_cards position bounds the card count',
    sql: `insert into poker.deck_cards (deck_id, position, card) values ({tshirt}, 31, 'XXXL')`,
    code: '23514',
    constraint: 'deck_cards_position_check',
  },
  {
    rule: 'deck_cards card not blank nor padded',
    sql: `insert into poker.deck_cards (deck_id, position, card) values ({tshirt}, 20, ' XL')`,
    code: '23514',
    constraint: 'deck_cards_card_check',
  },
  {
    rule: 'deck_cards UNIQUE (deck_id, card)',
    sql: `insert into poker.deck_cards (deck_id, position, card) values ({tshirt}, 20, 'XL')`,
    code: '23505',
    constraint: 'deck_cards_deck_id_card_unique',
  },
  {
    rule: 'deck_cards UNIQUE (deck_id, position)',
    sql: `insert into poker.deck_cards (deck_id, position, card) values ({tshirt}, 1, 'XXXL')`,
    code: '23505',
    constraint: 'deck_cards_deck_id_position_unique',
  },
  {
    rule: 'past_votes round >= 1',
    sql: `insert into poker.past_votes (story_id, round, user_id, points, cast_at) values ({story}, 0, {user}, '5', now())`,
    code: '23514',
    constraint: 'past_votes_round_check',
  },
  {
    rule: 'votes UNIQUE (story_id, user_id)',
    sql: `insert into poker.votes (story_id, user_id, points) values ({story}, {user}, '8')`,
    code: '23505',
    constraint: 'votes_story_id_user_id_unique',
  },
  {
    rule: 'votes.story_id → stories',
    sql: `insert into poker.votes (story_id, user_id, points) values (999999, {user}, '1')`,
    code: '23503',
    constraint: 'votes_story_id_foreign',
  },
  {
    rule: 'votes.user_id → users',
    sql: `insert into poker.votes (story_id, user_id, points) values ({story}, 999999, '1')`,
    code: '23503',
    constraint: 'votes_user_id_foreign',
  },
  {
    rule: 'votes.story_id NOT NULL (tightened: NULL would escape the unique pair)',
    sql: `insert into poker.votes (user_id, points) values ({user}, '1')`,
    code: '23502',
    column: 'story_id',
  },
  {
    rule: 'votes.user_id NOT NULL (tightened)',
    sql: `insert into poker.votes (story_id, points) values ({story}, '1')`,
    code: '23502',
    column: 'user_id',
  },
  // session_participants
  {
    rule: 'session_participants UNIQUE (session_id, user_id)',
    sql: `insert into poker.session_participants (session_id, user_id) values ({session}, {user})`,
    code: '23505',
    constraint: 'session_participants_session_id_user_id_unique',
  },
  {
    rule: 'session_participants.session_id → sessions',
    sql: `insert into poker.session_participants (session_id, user_id) values (999999, {user})`,
    code: '23503',
    constraint: 'session_participants_session_id_foreign',
  },
  {
    rule: 'session_participants.user_id → users',
    sql: `insert into poker.session_participants (session_id, user_id) values ({session}, 999999)`,
    code: '23503',
    constraint: 'session_participants_user_id_foreign',
  },
  {
    rule: 'session_participants.session_id NOT NULL',
    sql: `insert into poker.session_participants (user_id) values ({otherUser})`,
    code: '23502',
    column: 'session_id',
  },
  {
    rule: 'session_participants.user_id NOT NULL',
    sql: `insert into poker.session_participants (session_id) values ({session})`,
    code: '23502',
    column: 'user_id',
  },
  {
    rule: 'session_participants.is_spectator NOT NULL',
    sql: `insert into poker.session_participants (session_id, user_id, is_spectator) values ({session}, {otherUser}, null)`,
    code: '23502',
    column: 'is_spectator',
  },
  {
    rule: 'session_participants.joined_at NOT NULL',
    sql: `insert into poker.session_participants (session_id, user_id, joined_at) values ({session}, {otherUser}, null)`,
    code: '23502',
    column: 'joined_at',
  },
  // referenced rows cannot go while referenced (no ON DELETE rule: the seed keeps votes and sessions)
  {
    rule: 'a user who facilitates a session cannot be deleted',
    sql: `delete from poker.users where id = {user}`,
    code: '23503',
    constraint: 'sessions_facilitator_id_foreign',
  },
  {
    rule: 'a user who voted cannot be deleted',
    sql: `delete from poker.users where id = {voter}`,
    code: '23503',
    constraint: 'votes_user_id_foreign',
  },
  {
    rule: 'a user who takes part in a session cannot be deleted',
    sql: `delete from poker.users where id = {spectator}`,
    code: '23503',
    constraint: 'session_participants_user_id_foreign',
  },
];

describe('the database refuses', () => {
  itRefusesEach(probe, refusedRows);

  it('a second voting story in one session (stories_one_voting_per_session), but not in another session', async () => {
    const session = await insert(`insert into poker.sessions (name, facilitator_id) values ('Voting', $1)`, [
      ids.user,
    ]);
    const otherSession = await insert(
      `insert into poker.sessions (name, facilitator_id) values ('Voting too', $1)`,
      [ids.user],
    );
    await insert(`insert into poker.stories (session_id, title, status) values ($1, 'A', 'voting')`, [
      session,
    ]);
    await insert(`insert into poker.stories (session_id, title, status) values ($1, 'B', 'pending')`, [
      session,
    ]);
    await insert(`insert into poker.stories (session_id, title, status) values ($1, 'C', 'voting')`, [
      otherSession,
    ]);
    const error = await refusal(
      `update poker.stories set status = 'voting' where session_id = ${session} and title = 'B'`,
    );
    expect([error.code, error.constraint]).toEqual(['23505', 'stories_one_voting_per_session']);
  });
});

describe('decks', () => {
  it('hold a vote that names its deck to that deck’s cards, and one without a deck to the seed’s list', async () => {
    // The owner (seeders, restore) names the deck; a request's is copied from its session (decks-rounds.test.ts).
    await postgres.client.query(
      `insert into poker.votes (story_id, user_id, points, deck_id) values ($1, $2, 'XL', $3)`,
      [ids.tshirtStory, ids.voter, ids.tshirt],
    );
    const refused = await refusal(
      withIds(
        `insert into poker.votes (story_id, user_id, points) values ({tshirtStory}, {spectator}, 'XL')`,
      ),
    );
    expect(refused.constraint).toBe('check_points_format');
    await postgres.client.query(`update poker.stories set final_points = 'XL' where id = $1`, [
      ids.tshirtStory,
    ]);
    const { rows } = await postgres.client.query(
      `select v.deck_id, st.final_points from poker.votes v join poker.stories st on st.id = v.story_id
       where v.story_id = $1`,
      [ids.tshirtStory],
    );
    expect(rows).toEqual([{ deck_id: ids.tshirt, final_points: 'XL' }]);
  });
});

describe('defaults', () => {
  it('fill status, order, spectator flag and timestamps', async () => {
    const result = await postgres.client.query<Record<string, unknown>>(
      `select s.status as session_status, st.status as story_status, st.story_order, p.is_spectator,
              s.created_at is not null and s.updated_at is not null and st.created_at is not null
                and p.joined_at is not null as stamped
       from poker.sessions s join poker.stories st on st.session_id = s.id
       join poker.session_participants p on p.session_id = s.id where s.id = $1 and p.user_id = $2`,
      [ids.session, ids.user],
    );
    expect(result.rows[0]).toEqual({
      session_status: 'active',
      story_status: 'pending',
      story_order: 0,
      is_spectator: false,
      stamped: true,
    });
  });

  it('keep sessions.updated_at current on every update (trigger)', async () => {
    const session = await insert(
      `insert into poker.sessions (name, facilitator_id, created_at, updated_at)
       values ('Old', $1, '2020-01-01Z', '2020-01-01Z')`,
      [ids.user],
    );
    await postgres.client.query(`update poker.sessions set name = 'Renamed' where id = $1`, [session]);
    const result = await postgres.client.query<{ fresh: boolean; created: Date }>(
      `select updated_at > now() - interval '1 minute' as fresh, created_at as created
       from poker.sessions where id = $1`,
      [session],
    );
    expect(result.rows[0]).toEqual({ fresh: true, created: new Date('2020-01-01Z') });
  });
});

describe('cascades', () => {
  it('deleting a session deletes its stories, their votes and its participants', async () => {
    const session = await insert(`insert into poker.sessions (name, facilitator_id) values ('Doomed', $1)`, [
      ids.user,
    ]);
    const stories = [
      await insert(`insert into poker.stories (session_id, title) values ($1, 'One')`, [session]),
      await insert(`insert into poker.stories (session_id, title) values ($1, 'Two')`, [session]),
    ];
    for (const story of stories) {
      await insert(`insert into poker.votes (story_id, user_id, points) values ($1, $2, '3')`, [
        story,
        ids.user,
      ]);
      await insert(`insert into poker.votes (story_id, user_id, points) values ($1, $2, '?')`, [
        story,
        ids.otherUser,
      ]);
    }
    await insert(`insert into poker.session_participants (session_id, user_id) values ($1, $2), ($1, $3)`, [
      session,
      ids.user,
      ids.otherUser,
    ]);
    expect(await count('poker.votes where story_id = any($1)', [stories])).toBe(4);

    await postgres.client.query('delete from poker.sessions where id = $1', [session]);

    expect(await count('poker.stories where session_id = $1', [session])).toBe(0);
    expect(await count('poker.votes where story_id = any($1)', [stories])).toBe(0);
    expect(await count('poker.session_participants where session_id = $1', [session])).toBe(0);
    // Only that session's rows went: the base session keeps its story, vote and participant.
    expect(await count('poker.votes where story_id = $1', [ids.story])).toBe(2);
    expect(await count('poker.session_participants where session_id = $1', [ids.session])).toBe(2);
  });

  it('deleting a story deletes its votes', async () => {
    const story = await insert(`insert into poker.stories (session_id, title) values ($1, 'Short-lived')`, [
      ids.session,
    ]);
    await insert(`insert into poker.votes (story_id, user_id, points) values ($1, $2, '13')`, [
      story,
      ids.user,
    ]);
    await postgres.client.query('delete from poker.stories where id = $1', [story]);
    expect(await count('poker.votes where story_id = $1', [story])).toBe(0);
  });
});

describe('toHuddleError maps what the database refuses to typed errors', () => {
  const cases: {
    sql: string;
    type: abstract new (...args: never[]) => HuddleError;
    constraint: string | undefined;
  }[] = [
    {
      sql: `insert into poker.votes (story_id, user_id, points) values ({story}, {user}, '8')`,
      type: ConflictError,
      constraint: 'votes_story_id_user_id_unique',
    },
    {
      sql: `insert into poker.votes (story_id, user_id, points) values ({story}, {otherUser}, '4')`,
      type: InvalidInputError,
      constraint: 'check_points_format',
    },
    {
      sql: `insert into poker.stories (session_id, title) values (999999, 'T')`,
      type: NotFoundError,
      constraint: 'stories_session_id_foreign',
    },
    {
      sql: `delete from poker.users where id = {user}`,
      type: ConflictError,
      constraint: 'sessions_facilitator_id_foreign',
    },
    {
      sql: `insert into poker.stories (session_id) values ({session})`,
      type: InvalidInputError,
      constraint: undefined,
    },
  ];

  it.each(cases)('$constraint → $type.name', async ({ sql, type, constraint }) => {
    const error = await expectHuddleError(
      inRequest(test.db, (em) => em.execute(withIds(sql))),
      type,
    );
    expect(error.constraint.constraint).toBe(constraint);
  });

  it('a service hitting a foreign key gets NotFoundError', async () => {
    const error = await expectHuddleError(
      inRequest(test.db, (em) => createSession(em, { module: 'poker', userId: 999_999 }, { name: 'Ghost' })),
      NotFoundError,
    );
    expect(error.constraint.constraint).toBe('sessions_facilitator_id_foreign');
  });
});
