import { type EntityManager, notFound } from '@huddle/db';
import type { PokerActor } from '../actor.ts';
import { PokerSessionParticipant } from '../entities/session-participant.ts';
import { PokerStory } from '../entities/story.ts';
import { PokerVote } from '../entities/vote.ts';
import type { Deck, StoryIdInput, StorySummary, VoteStatistics } from '../schemas.ts';
import { requireParticipant } from './access.ts';
import { sessionDeck } from './decks.ts';
import { STANDARD_DECK, toStory } from './outputs.ts';

const roundToHundredths = (value: number) => Math.round(value * 100) / 100;

/** What the statistics need of a deck. */
type StatisticsDeck = Pick<Deck, 'scale' | 'cards'>;

/**
 * Statistics of one round's cards on `deck`. Estimates are the cards with a value ('?' has none): their
 * spread (lowest and highest card, and how many deck places apart) on every deck, their average and median
 * only on a numeric deck (an ordinal deck's values, T-shirt sizes, only rank). Modes and unanimity count
 * every card. Cards not in the deck (none, as the database keeps them out) count for modes only.
 */
export function votingStatistics(
  points: readonly string[],
  deck: StatisticsDeck = STANDARD_DECK,
): VoteStatistics {
  const place = new Map(deck.cards.map((card, index) => [card.card, index]));
  const value = new Map(deck.cards.map((card) => [card.card, card.value]));
  const estimates = points
    .filter((point) => value.get(point) != null)
    .sort((a, b) => value.get(a)! - value.get(b)! || place.get(a)! - place.get(b)!);
  const numbers = deck.scale === 'numeric' ? estimates.map((point) => value.get(point)!) : [];
  const middle = Math.floor(numbers.length / 2);
  const median =
    numbers.length === 0
      ? null
      : numbers.length % 2 === 1
        ? numbers[middle]!
        : (numbers[middle - 1]! + numbers[middle]!) / 2;
  const counts = new Map<string, number>();
  for (const point of points) counts.set(point, (counts.get(point) ?? 0) + 1);
  const highest = Math.max(0, ...counts.values());
  const lowest = estimates[0];
  const highestEstimate = estimates.at(-1);
  return {
    average:
      numbers.length === 0
        ? null
        : roundToHundredths(numbers.reduce((sum, number) => sum + number, 0) / numbers.length),
    median: median === null ? null : roundToHundredths(median),
    modes: [...counts.keys()]
      .filter((point) => counts.get(point) === highest)
      .sort((a, b) => (place.get(a) ?? deck.cards.length) - (place.get(b) ?? deck.cards.length)),
    spread:
      lowest === undefined || highestEstimate === undefined
        ? null
        : {
            lowest,
            highest: highestEstimate,
            cardsApart: Math.abs(place.get(highestEstimate)! - place.get(lowest)!),
          },
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
  const { sessionId, status, revealedAt, finalPoints, votingDeadline, round } = toStory(story);
  const revealed = revealedAt !== null;
  const deck = revealed ? await sessionDeck(em, story.session.$.deck?.id ?? null) : null;
  const hasVoted = new Set(votes.map((vote) => vote.user.id));
  return {
    storyId,
    sessionId,
    status,
    revealedAt,
    finalPoints,
    votingDeadline,
    round,
    votes: votes.map((vote) => ({
      userId: vote.user.id,
      name: vote.user.$.name,
      points: revealed ? vote.points : null,
    })),
    ownPoints: votes.find((vote) => vote.user.id === userId)?.points ?? null,
    statistics: deck
      ? votingStatistics(
          votes.map((vote) => vote.points),
          deck,
        )
      : null,
    notVoted: voters
      .filter((voter) => !hasVoted.has(voter.user.id))
      .map((voter) => ({ userId: voter.user.id, name: voter.user.$.name })),
  };
}
