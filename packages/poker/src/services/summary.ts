import { type EntityManager, notFound } from '@huddle/db';
import type { PokerActor } from '../actor.ts';
import { PokerSessionParticipant } from '../entities/session-participant.ts';
import { PokerStory } from '../entities/story.ts';
import { PokerVote } from '../entities/vote.ts';
import {
  POINT_VALUES,
  type PointValue,
  type StoryIdInput,
  type StorySummary,
  type VoteStatistics,
} from '../schemas.ts';
import { requireParticipant } from './access.ts';
import { toStory } from './outputs.ts';

const roundToHundredths = (value: number) => Math.round(value * 100) / 100;

/**
 * Statistics of one round's cards: average and median over the numeric cards ('?' is "can't estimate",
 * not a number), modes and unanimity over every card.
 */
export function votingStatistics(points: readonly PointValue[]): VoteStatistics {
  const numbers = points
    .filter((point) => point !== '?')
    .map(Number)
    .sort((a, b) => a - b);
  const middle = Math.floor(numbers.length / 2);
  const median =
    numbers.length === 0
      ? null
      : numbers.length % 2 === 1
        ? numbers[middle]!
        : (numbers[middle - 1]! + numbers[middle]!) / 2;
  const counts = new Map<PointValue, number>();
  for (const point of points) counts.set(point, (counts.get(point) ?? 0) + 1);
  const highest = Math.max(0, ...counts.values());
  return {
    average:
      numbers.length === 0
        ? null
        : roundToHundredths(numbers.reduce((sum, number) => sum + number, 0) / numbers.length),
    median: median === null ? null : roundToHundredths(median),
    modes: POINT_VALUES.filter((point) => highest > 0 && counts.get(point) === highest),
    unanimous: counts.size === 1,
  };
}

/**
 * One story's round for a participant of its session: who voted and who has not, and, once revealed, the
 * values and their statistics. Before the reveal the actor sees only their own card.
 */
export async function getStorySummary(
  em: EntityManager,
  actor: PokerActor,
  input: StoryIdInput,
): Promise<StorySummary> {
  const { storyId } = input;
  const { userId } = actor;
  const story = await em.findOne(PokerStory, storyId, { populate: ['session'] });
  if (!story) throw notFound('storyId', 'story', storyId);
  await requireParticipant(em, story.session.$, userId);
  // idx_votes_story and session_participants_session_id_user_id_unique serve these two reads.
  const votes = await em.find(
    PokerVote,
    { story: storyId },
    { populate: ['user'], orderBy: { createdAt: 'asc', id: 'asc' } },
  );
  const voters = await em.find(
    PokerSessionParticipant,
    { session: story.session.id, isSpectator: false },
    { populate: ['user'], orderBy: { joinedAt: 'asc', id: 'asc' } },
  );
  const { sessionId, status, revealedAt, finalPoints } = toStory(story);
  const revealed = revealedAt !== null;
  const hasVoted = new Set(votes.map((vote) => vote.user.id));
  return {
    storyId,
    sessionId,
    status,
    revealedAt,
    finalPoints,
    votes: votes.map((vote) => ({
      userId: vote.user.id,
      name: vote.user.$.name,
      points: revealed ? vote.points : null,
    })),
    ownPoints: votes.find((vote) => vote.user.id === userId)?.points ?? null,
    statistics: revealed ? votingStatistics(votes.map((vote) => vote.points)) : null,
    notVoted: voters
      .filter((voter) => !hasVoted.has(voter.user.id))
      .map((voter) => ({ userId: voter.user.id, name: voter.user.$.name })),
  };
}
