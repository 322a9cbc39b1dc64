import { ConflictError, type EntityManager, ForbiddenError, parseInput } from '@huddle/db';
import type { PokerActor } from '../actor.ts';
import { PokerVote } from '../entities/vote.ts';
import {
  type CastVoteInput,
  castVoteInputSchema,
  type Story,
  type StoryIdInput,
  storyIdInputSchema,
  type Vote,
} from '../schemas.ts';
import {
  findParticipant,
  lockStory,
  requireFacilitator,
  requireNoOtherVotingStory,
  requireSessionStatus,
  storyStatusConflict,
} from './access.ts';
import { publishPokerEvent } from './events.ts';
import { toStory } from './outputs.ts';

/**
 * Casts or changes the actor's vote on a story that is being voted on, in an active session, before the
 * reveal. Only voting participants (not spectators) vote. Race-safe: one
 * `insert … on conflict (story_id, user_id) do update`, so simultaneous casts leave one vote.
 */
export async function castVote(em: EntityManager, actor: PokerActor, input: CastVoteInput): Promise<Vote> {
  const { storyId, points } = parseInput(castVoteInputSchema, input);
  const { userId } = actor;
  const { story, session } = await lockStory(em, storyId, 'share');
  requireSessionStatus(session, ['active'], 'vote');
  if (story.status !== 'voting') throw storyStatusConflict(story, 'vote on it', 'voting');
  if (story.revealedAt) {
    throw new ConflictError(
      `storyId: the votes on story ${storyId} are revealed; the facilitator can start a re-vote`,
      { field: 'storyId' },
    );
  }
  const participant = await findParticipant(em, session.id, userId);
  if (!participant || participant.isSpectator) {
    throw new ForbiddenError(
      `only voting participants of session ${session.id} may vote (${participant ? 'you are a spectator' : 'join it first'})`,
      { field: 'storyId' },
    );
  }
  const vote = await em.upsert(
    PokerVote,
    { story: storyId, user: userId, points },
    { onConflictFields: ['story', 'user'], onConflictAction: 'merge', onConflictMergeFields: ['points'] },
  );
  // The event says who voted, never what: values stay hidden until the reveal.
  await publishPokerEvent(em, { type: 'vote_cast', sessionId: session.id, storyId, userId });
  return { storyId, userId, points: vote.points, createdAt: vote.createdAt.toISOString() };
}

/** Shows the round's votes to everyone (sets revealed_at). */
export async function revealVotes(em: EntityManager, actor: PokerActor, input: StoryIdInput): Promise<Story> {
  const { storyId } = parseInput(storyIdInputSchema, input);
  const { userId } = actor;
  const { story, session } = await lockStory(em, storyId, 'write');
  requireFacilitator(session, userId, 'reveal votes');
  requireSessionStatus(session, ['active'], 'reveal votes');
  if (story.status !== 'voting') throw storyStatusConflict(story, 'reveal its votes', 'voting');
  if (story.revealedAt) {
    throw new ConflictError(`storyId: the votes on story ${storyId} are already revealed`, {
      field: 'storyId',
    });
  }
  story.revealedAt = new Date();
  await publishPokerEvent(em, { type: 'revealed', sessionId: session.id, storyId });
  return toStory(story);
}

/**
 * Starts the story's round again: its votes are deleted, hidden state and final points cleared, and the
 * story is voting again (also from completed, when no other story of the session is voting).
 */
export async function revote(em: EntityManager, actor: PokerActor, input: StoryIdInput): Promise<Story> {
  const { storyId } = parseInput(storyIdInputSchema, input);
  const { userId } = actor;
  const { story, session } = await lockStory(em, storyId, 'write');
  requireFacilitator(session, userId, 'start a re-vote');
  requireSessionStatus(session, ['active'], 'start a re-vote');
  if (story.status === 'pending') throw storyStatusConflict(story, 'start a re-vote', 'voting or completed');
  await requireNoOtherVotingStory(em, story);
  await em.nativeDelete(PokerVote, { story: storyId });
  story.status = 'voting';
  story.revealedAt = null;
  story.finalPoints = null;
  await publishPokerEvent(em, { type: 'story_changed', sessionId: session.id, storyId, change: 'revote' });
  return toStory(story);
}
