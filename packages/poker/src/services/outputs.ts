import { isoTimestampSql, type Loaded, type OutputColumns, outputObjectSql } from '@huddle/db';
import type { PokerSession } from '../entities/session.ts';
import type { PokerSessionParticipant } from '../entities/session-participant.ts';
import type { PokerStory } from '../entities/story.ts';
import type { PokerUser } from '../entities/user.ts';
import {
  type Deck,
  type DeckCard,
  type Participant,
  POINT_VALUES,
  type Session,
  type Story,
  type User,
} from '../schemas.ts';

/**
 * The plain, serialisable shapes of schemas.ts that services return: reads render them in the database from
 * the column maps here (`outputColumnsSql` / `outputObjectSql` of @huddle/db, checked against the output
 * types); writes, which hold the entities their unit of work changed, map those (`toUser`, …).
 */

export function toUser(user: PokerUser): User {
  return {
    id: user.id,
    name: user.name,
    email: user.email ?? null,
    createdAt: user.createdAt.toISOString(),
    lastActive: user.lastActive.toISOString(),
  };
}

/** A session as `viewerId` sees it: only its facilitator sees the join code. */
export function toSession(session: PokerSession, viewerId: number): Session {
  return {
    id: session.id,
    name: session.name,
    facilitatorId: session.facilitator.id,
    status: session.status,
    deckId: session.deck?.id ?? null,
    joinCode: session.facilitator.id === viewerId ? session.joinCode : null,
    createdAt: session.createdAt.toISOString(),
    updatedAt: session.updatedAt.toISOString(),
  };
}

export function toStory(story: PokerStory): Story {
  return {
    id: story.id,
    sessionId: story.session.id,
    title: story.title,
    description: story.description ?? null,
    storyOrder: story.storyOrder,
    status: story.status,
    finalPoints: story.finalPoints ?? null,
    revealedAt: story.revealedAt?.toISOString() ?? null,
    votingDeadline: story.votingDeadline?.toISOString() ?? null,
    round: story.round,
    createdAt: story.createdAt.toISOString(),
  };
}

export function toParticipant(participant: Loaded<PokerSessionParticipant, 'user'>): Participant {
  return {
    sessionId: participant.session.id,
    userId: participant.user.id,
    name: participant.user.$.name,
    isSpectator: participant.isSpectator,
    joinedAt: participant.joinedAt.toISOString(),
  };
}

/** A `User` from the poker.users row aliased `u`. */
export function userColumns(u: string): OutputColumns<User> {
  return {
    id: `${u}.id`,
    name: `${u}.name`,
    email: `${u}.email`,
    createdAt: isoTimestampSql(`${u}.created_at`),
    lastActive: isoTimestampSql(`${u}.last_active`),
  };
}

/** A `Session` from the poker.sessions row aliased `s`, as the user whose id is `viewerId` sees it. */
export function sessionColumns(s: string, viewerId: string): OutputColumns<Session> {
  return {
    id: `${s}.id`,
    name: `${s}.name`,
    facilitatorId: `${s}.facilitator_id`,
    status: `${s}.status`,
    deckId: `${s}.deck_id`,
    joinCode: `case when ${s}.facilitator_id = ${viewerId} then ${s}.join_code end`,
    createdAt: isoTimestampSql(`${s}.created_at`),
    updatedAt: isoTimestampSql(`${s}.updated_at`),
  };
}

/** A `Story` from the poker.stories row aliased `st`. */
export function storyColumns(st: string): OutputColumns<Story> {
  return {
    id: `${st}.id`,
    sessionId: `${st}.session_id`,
    title: `${st}.title`,
    description: `${st}.description`,
    storyOrder: `${st}.story_order`,
    status: `${st}.status`,
    finalPoints: `${st}.final_points`,
    revealedAt: isoTimestampSql(`${st}.revealed_at`),
    votingDeadline: isoTimestampSql(`${st}.voting_deadline`),
    round: `${st}.round`,
    createdAt: isoTimestampSql(`${st}.created_at`),
  };
}

/** A `Participant` from the poker.session_participants row aliased `p` and its poker.users row `u`. */
export function participantColumns(p: string, u: string): OutputColumns<Participant> {
  return {
    sessionId: `${p}.session_id`,
    userId: `${p}.user_id`,
    name: `${u}.name`,
    isSpectator: `${p}.is_spectator`,
    joinedAt: isoTimestampSql(`${p}.joined_at`),
  };
}

/** The seed's deck, which is no row: every session without a deck of its own votes with it. */
export const STANDARD_DECK: Deck = {
  id: null,
  key: 'standard',
  name: 'Planning poker',
  scale: 'numeric',
  ownerId: null,
  cards: POINT_VALUES.map((card) => ({ card, value: card === '?' ? null : Number(card) })),
};

/** A `Deck` from the poker.decks row aliased `d`, its cards in deck order. */
export function deckColumns(d: string): OutputColumns<Deck> {
  return {
    id: `${d}.id`,
    key: `${d}.builtin_key`,
    name: `${d}.name`,
    scale: `${d}.scale`,
    ownerId: `${d}.owner_id`,
    cards: `(select json_agg(${outputObjectSql<DeckCard>({ card: 'c.card', value: 'c.value' })} order by c.position)
      from poker.deck_cards c where c.deck_id = ${d}.id)`,
  };
}

/** The deck of the poker.sessions row aliased `s` as one JSON value: its row's, or STANDARD_DECK without one. */
export function sessionDeckSql(s: string): string {
  const standard = JSON.stringify(STANDARD_DECK).replaceAll("'", "''");
  return `coalesce((select ${outputObjectSql(deckColumns('d'))} from poker.decks d where d.id = ${s}.deck_id), '${standard}'::json)`;
}
