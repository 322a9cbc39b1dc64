import { ConflictError, type EntityManager, ForbiddenError, parseInput } from '@huddle/db';
import type { PokerActor } from '../actor.ts';
import { PokerVote } from '../entities/vote.ts';
import {
  type CastVoteInput,
  castVoteInputSchema,
  POKER_EVENTS_CHANNEL,
  type PointValue,
  type PokerEvent,
  type SessionStatus,
  type Story,
  type StoryIdInput,
  type StoryStatus,
  storyIdInputSchema,
  type Vote,
} from '../schemas.ts';
import {
  lockStory,
  requireFacilitator,
  requireNoOtherVotingStory,
  requireSessionStatus,
  storyNotFound,
  storyStatusConflict,
} from './access.ts';
import { publishPokerEvent } from './events.ts';
import { toStory } from './outputs.ts';

/** What the voting rules read about a story, its session and the voter, in one row. */
interface VotingState {
  sessionId: number;
  sessionStatus: SessionStatus;
  storyStatus: StoryStatus;
  revealed: boolean;
  /** Null when the voter has not joined the session. */
  isSpectator: boolean | null;
}

/**
 * Casts or changes the actor's vote on a story that is being voted on, in an active session, before the
 * reveal. Only voting participants (not spectators) vote. The hot path, so three statements: lock the
 * story's session `for share` (votes run side by side; a reveal, pause or re-vote waits for them), read
 * everything the rules need under that lock, then write the vote and publish its event in one statement —
 * `insert … on conflict (story_id, user_id) do update`, so simultaneous casts leave one vote.
 */
export async function castVote(em: EntityManager, actor: PokerActor, input: CastVoteInput): Promise<Vote> {
  const { storyId, points } = parseInput(castVoteInputSchema, input);
  const { userId } = actor;
  const locked: unknown[] = await em.execute(
    'select s.id from poker.sessions s join poker.stories st on st.session_id = s.id where st.id = ? for share of s',
    [storyId],
  );
  if (locked.length === 0) throw storyNotFound(storyId);
  // Read after the lock: a reveal or re-vote that committed while this waited is what counts.
  const [state]: VotingState[] = await em.execute(
    `select st.session_id as "sessionId", s.status as "sessionStatus", st.status as "storyStatus",
       st.revealed_at is not null as revealed, p.is_spectator as "isSpectator"
     from poker.stories st join poker.sessions s on s.id = st.session_id
     left join poker.session_participants p on p.session_id = st.session_id and p.user_id = ?
     where st.id = ?`,
    [userId, storyId],
  );
  if (!state) throw storyNotFound(storyId);
  const { sessionId } = state;
  requireSessionStatus({ id: sessionId, status: state.sessionStatus }, ['active'], 'vote');
  if (state.storyStatus !== 'voting') {
    throw storyStatusConflict({ id: storyId, status: state.storyStatus }, 'vote on it', 'voting');
  }
  if (state.revealed) {
    throw new ConflictError(
      `storyId: the votes on story ${storyId} are revealed; the facilitator can start a re-vote`,
      { field: 'storyId' },
    );
  }
  if (state.isSpectator !== false) {
    throw new ForbiddenError(
      `only voting participants of session ${sessionId} may vote (${state.isSpectator ? 'you are a spectator' : 'join it first'})`,
      { field: 'storyId' },
    );
  }
  // The event says who voted, never what: values stay hidden until the reveal.
  const event: PokerEvent = { type: 'vote_cast', sessionId, storyId, userId };
  const [vote]: { points: PointValue; createdAt: Date | string }[] = await em.execute(
    `with vote as (
       insert into poker.votes (story_id, user_id, points) values (?, ?, ?)
       on conflict (story_id, user_id) do update set points = excluded.points
       returning points, created_at)
     select vote.points, vote.created_at as "createdAt", pg_notify(?, ?) from vote`,
    [storyId, userId, points, POKER_EVENTS_CHANNEL, JSON.stringify(event)],
  );
  return { storyId, userId, points: vote!.points, createdAt: new Date(vote!.createdAt).toISOString() };
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
