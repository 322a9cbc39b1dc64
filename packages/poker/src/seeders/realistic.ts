import {
  ConflictError,
  type Dictionary,
  type EntityManager,
  insertInChunks,
  type RequiredEntityData,
  reserveIds,
  type SeedContext,
  type SeededRandom,
  Seeder,
  seededRandom,
} from '@huddle/db';
import { PokerSession } from '../entities/session.ts';
import { PokerSessionParticipant } from '../entities/session-participant.ts';
import { PokerStory } from '../entities/story.ts';
import { PokerUser } from '../entities/user.ts';
import { PokerVote } from '../entities/vote.ts';
import type { PointValue, SessionStatus, StoryStatus } from '../schemas.ts';

/** Per unit of scale. */
export const REALISTIC_PER_SCALE = { users: 20, sessions: 10, storiesPerSession: 20 } as const;

const VOTE_PROBABILITY = 0.85;
const SPECTATOR_PROBABILITY = 0.15;
/** Every timestamp is an offset from here, so a seed gives the same rows on every run. */
const EPOCH = Date.UTC(2026, 0, 5, 9, 0, 0);
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const NUMERIC_CARDS = ['1', '2', '3', '5', '8', '13', '21'] as const satisfies readonly PointValue[];

const FIRST_NAMES = [
  'Ada',
  'Ben',
  'Chloe',
  'Dev',
  'Elif',
  'Femi',
  'Greta',
  'Hiro',
  'Ines',
  'Jonas',
  'Kira',
  'Luis',
];
const LAST_NAMES = [
  'Achebe',
  'Brandt',
  'Costa',
  'Dubois',
  'Eriksen',
  'Fischer',
  'Garcia',
  'Haddad',
  'Ito',
  'Jensen',
];
const TEAMS = ['Falcon', 'Otter', 'Nimbus', 'Quartz', 'Atlas', 'Ember', 'Juniper', 'Pixel'];
const ROLES = ['shopper', 'admin', 'support agent', 'team lead', 'new user', 'auditor'];
const ACTIONS = [
  'reset my password',
  'export my invoices',
  'filter orders by status',
  'see an audit trail of changes',
  'invite a colleague',
  'undo the last change',
  'get notified when a build fails',
  'search the help center',
  'pay with a saved card',
  'archive old projects',
];

/** A row of `Entity` as planned: its links (`Links`) are indexes into the plan's arrays, not ids yet. */
type Planned<Entity extends object, Links extends string = never> = Omit<RequiredEntityData<Entity>, Links> &
  Record<Links, number>;

/** The rows to write, related by index into the plan's arrays (ids exist only once rows are reserved). */
interface RealisticPlan {
  users: Planned<PokerUser>[];
  sessions: Planned<PokerSession, 'facilitator'>[];
  participants: Planned<PokerSessionParticipant, 'session' | 'user'>[];
  stories: Planned<PokerStory, 'session'>[];
  votes: Planned<PokerVote, 'story' | 'user'>[];
}

/** The email of realistic user `index`; scale and seed in it keep runs with other seeds from colliding. */
export function realisticUserEmail(seed: number, scale: number, index: number): string {
  return `poker-s${seed}-x${scale}-u${index}@example.test`;
}

/** A voter's card: mostly near the story's "true" size, sometimes one card off, rarely '?'. */
function voteNear(rng: SeededRandom, size: number): PointValue {
  if (rng.chance(0.05)) return '?';
  const offset = rng.chance(0.6) ? 0 : rng.chance(0.5) ? -1 : 1;
  return NUMERIC_CARDS[Math.min(NUMERIC_CARDS.length - 1, Math.max(0, size + offset))]!;
}

function planRealisticData(scale: number, seed: number): RealisticPlan {
  const rng = seededRandom(seed);
  const at = (offset: number) => new Date(EPOCH + offset);
  const plan: RealisticPlan = { users: [], sessions: [], participants: [], stories: [], votes: [] };

  const userCount = REALISTIC_PER_SCALE.users * scale;
  for (let index = 0; index < userCount; index++) {
    const createdAt = at(rng.integer(0, 30) * DAY);
    plan.users.push({
      name: `${rng.pick(FIRST_NAMES)} ${rng.pick(LAST_NAMES)}`,
      email: realisticUserEmail(seed, scale, index),
      createdAt,
      lastActive: new Date(createdAt.getTime() + rng.integer(0, 60) * DAY),
    });
  }

  for (let sessionIndex = 0; sessionIndex < REALISTIC_PER_SCALE.sessions * scale; sessionIndex++) {
    const status: SessionStatus = rng.chance(0.6) ? 'completed' : rng.chance(0.75) ? 'active' : 'paused';
    const createdAt = at((31 + sessionIndex) * DAY + rng.integer(0, 8 * 60) * MINUTE);
    const facilitator = rng.integer(0, userCount - 1);
    plan.sessions.push({
      facilitator,
      name: `${rng.pick(TEAMS)} sprint ${rng.integer(1, 60)} planning`,
      status,
      // Drawn here rather than by the column's random default, so a seed writes the same rows every time.
      joinCode: rng.hex(32),
      createdAt,
      updatedAt: new Date(createdAt.getTime() + 90 * MINUTE),
    });

    // The facilitator votes; 4–8 other users join, some of them only to watch.
    const voters = [facilitator];
    plan.participants.push({
      session: sessionIndex,
      user: facilitator,
      isSpectator: false,
      joinedAt: createdAt,
    });
    const others = new Set<number>();
    const wanted = Math.min(rng.integer(4, 8), userCount - 1);
    while (others.size < wanted) {
      const user = rng.integer(0, userCount - 1);
      if (user !== facilitator) others.add(user);
    }
    for (const user of others) {
      const isSpectator = rng.chance(SPECTATOR_PROBABILITY);
      if (!isSpectator) voters.push(user);
      const joinedAt = new Date(createdAt.getTime() + rng.integer(0, 10) * MINUTE);
      plan.participants.push({ session: sessionIndex, user, isSpectator, joinedAt });
    }

    // A completed session estimated everything; an open one is part-way through, voting on one story.
    const { storiesPerSession } = REALISTIC_PER_SCALE;
    const votingAt = status === 'completed' ? storiesPerSession : rng.integer(0, storiesPerSession - 1);
    for (let order = 0; order < storiesPerSession; order++) {
      const storyStatus: StoryStatus =
        order < votingAt ? 'completed' : order === votingAt ? 'voting' : 'pending';
      const storyCreatedAt = new Date(createdAt.getTime() + order * MINUTE);
      const votedAt = new Date(createdAt.getTime() + (20 + order * 3) * MINUTE);
      const revealed = storyStatus === 'completed' || (storyStatus === 'voting' && rng.chance(0.5));
      const size = rng.integer(0, NUMERIC_CARDS.length - 1);
      const storyIndex = plan.stories.length;
      plan.stories.push({
        session: sessionIndex,
        title: `As a ${rng.pick(ROLES)}, I can ${rng.pick(ACTIONS)}`,
        description: rng.chance(0.7) ? `Acceptance criteria agreed with team ${rng.pick(TEAMS)}.` : null,
        storyOrder: order + 1,
        status: storyStatus,
        finalPoints: storyStatus === 'completed' ? NUMERIC_CARDS[size]! : null,
        revealedAt: revealed ? new Date(votedAt.getTime() + 2 * MINUTE) : null,
        createdAt: storyCreatedAt,
      });
      if (storyStatus === 'pending') continue;
      for (const voter of voters) {
        if (rng.chance(VOTE_PROBABILITY)) {
          plan.votes.push({
            story: storyIndex,
            user: voter,
            points: voteNear(rng, size),
            createdAt: votedAt,
          });
        }
      }
    }
  }
  return plan;
}

/**
 * `scale` × (20 users, 10 sessions, 200 stories, votes from most voting participants), the same rows for the
 * same `seed`. Runs beside the minimal data and beside other seeds' data; a second run with the same seed
 * and scale is refused, as its users would already exist.
 */
export class PokerRealisticSeeder extends Seeder<SeedContext & Dictionary> {
  async run(em: EntityManager, context: SeedContext): Promise<void> {
    const { scale, seed, progress } = context;
    const plan = planRealisticData(scale, seed);
    if ((await em.count(PokerUser, { email: plan.users[0]!.email })) > 0) {
      throw new ConflictError(
        `seed: poker already has the realistic data of seed ${seed} at scale ${scale}; use another seed`,
        { field: 'seed' },
      );
    }
    const userIds = await reserveIds(em, 'poker.users', plan.users.length);
    const sessionIds = await reserveIds(em, 'poker.sessions', plan.sessions.length);
    const storyIds = await reserveIds(em, 'poker.stories', plan.stories.length);
    await insertInChunks(
      em,
      PokerUser,
      'poker.users',
      plan.users.map((user, index) => ({ ...user, id: userIds[index]! })),
      progress,
    );
    await insertInChunks(
      em,
      PokerSession,
      'poker.sessions',
      plan.sessions.map((session, index) => ({
        ...session,
        id: sessionIds[index]!,
        facilitator: userIds[session.facilitator]!,
      })),
      progress,
    );
    await insertInChunks(
      em,
      PokerSessionParticipant,
      'poker.session_participants',
      plan.participants.map((row) => ({
        ...row,
        session: sessionIds[row.session]!,
        user: userIds[row.user]!,
      })),
      progress,
    );
    await insertInChunks(
      em,
      PokerStory,
      'poker.stories',
      plan.stories.map((story, index) => ({
        ...story,
        id: storyIds[index]!,
        session: sessionIds[story.session]!,
      })),
      progress,
    );
    await insertInChunks(
      em,
      PokerVote,
      'poker.votes',
      plan.votes.map((vote) => ({ ...vote, story: storyIds[vote.story]!, user: userIds[vote.user]! })),
      progress,
    );
  }
}
