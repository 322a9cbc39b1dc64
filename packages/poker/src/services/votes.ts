import {
  ConflictError,
  type EntityManager,
  executePrepared,
  ForbiddenError,
  notFound,
  preparedStatement,
  publish,
} from '@huddle/db';
import type { PokerActor } from '../actor.ts';
import { PokerVote } from '../entities/vote.ts';
import {
  type CastVoteInput,
  POKER_EVENTS_CHANNEL,
  type PointValue,
  type PokerEvent,
  type SessionStatus,
  type Story,
  type StoryIdInput,
  type StoryStatus,
  type Vote,
} from '../schemas.ts';
import {
  lockStory,
  requireFacilitator,
  requireNoOtherVotingStory,
  requireSessionStatus,
  storyStatusConflict,
} from './access.ts';
import { toStory } from './outputs.ts';

/** What the voting rules read about a story, its session and the voter, and the vote if it was cast. */
interface VotingOutcome {
  sessionId: number;
  sessionStatus: SessionStatus;
  storyStatus: StoryStatus;
  revealed: boolean;
  isSpectator: boolean;
  /** Null when a rule refused the vote. */
  points: PointValue | null;
  createdAt: Date | string | null;
}

/**
 * `castVote`'s statement: `$1` the voter, `$2` the story, `$3` the card, `$4` the events channel, `$5` the
 * event without its sessionId.
 */
const castVoteStatement = preparedStatement<VotingOutcome>(
  'poker.cast_vote',
  `with state as (
       select st.session_id, s.status as session_status, st.status as story_status,
              st.revealed_at is not null as revealed, p.is_spectator
       from poker.stories st
       join poker.sessions s on s.id = st.session_id
       join poker.session_participants p on p.session_id = st.session_id and p.user_id = $1
       where st.id = $2
       for share of st, s, p),
     vote as (
       insert into poker.votes (story_id, user_id, points)
       select $2::int, $1::int, $3::text from state
       where session_status = 'active' and story_status = 'voting' and not revealed and not is_spectator
       on conflict (story_id, user_id) do update set points = excluded.points
       returning points, created_at)
     select state.session_id as "sessionId", state.session_status as "sessionStatus",
            state.story_status as "storyStatus", state.revealed, state.is_spectator as "isSpectator",
            vote.points, vote.created_at as "createdAt",
            case when vote.points is not null
              then pg_notify($4, ($5::jsonb || jsonb_build_object('sessionId', state.session_id))::text) end
     from state left join vote on true`,
);

/**
 * Casts or changes the actor's vote on a story that is being voted on, in an active session, before the
 * reveal. Only voting participants (not spectators) vote. The hot path, so one statement: it locks the
 * story, its session and the voter's participation `for share` (votes run side by side; a reveal, pause,
 * re-vote or role change waits for them, and a vote that waited reads their committed rows — PostgreSQL
 * re-reads locked rows after a wait), writes the vote only when every rule holds — `insert … on conflict
 * (story_id, user_id) do update`, so simultaneous casts leave one vote — and publishes its event. A
 * refusal says which rule from the rows it read; only a missing story or participation costs a second read.
 */
export async function castVote(em: EntityManager, actor: PokerActor, input: CastVoteInput): Promise<Vote> {
  const { storyId, points } = input;
  const { userId } = actor;
  // The event says who voted, never what: values stay hidden until the reveal. The statement adds sessionId.
  const event: Omit<Extract<PokerEvent, { type: 'vote_cast' }>, 'sessionId'> = {
    type: 'vote_cast',
    storyId,
    userId,
  };
  const [outcome] = await executePrepared(em, castVoteStatement, [
    userId,
    storyId,
    points,
    POKER_EVENTS_CHANNEL,
    JSON.stringify(event),
  ]);
  if (!outcome) throw await missingStoryOrParticipation(em, storyId);
  if (outcome.points !== null) {
    return { storyId, userId, points: outcome.points, createdAt: new Date(outcome.createdAt!).toISOString() };
  }
  const { sessionId } = outcome;
  requireSessionStatus({ id: sessionId, status: outcome.sessionStatus }, ['active'], 'vote');
  if (outcome.storyStatus !== 'voting') {
    throw storyStatusConflict({ id: storyId, status: outcome.storyStatus }, 'vote on it', 'voting');
  }
  if (outcome.revealed) {
    throw new ConflictError(
      `storyId: the votes on story ${storyId} are revealed; the facilitator can start a re-vote`,
      { field: 'storyId' },
    );
  }
  throw new ForbiddenError(
    `storyId: only voting participants of session ${sessionId} may vote (you are a spectator)`,
    {
      field: 'storyId',
    },
  );
}

/** Why a vote found no row: the story does not exist, or the voter has not joined its session. */
async function missingStoryOrParticipation(em: EntityManager, storyId: number): Promise<Error> {
  const [story]: { sessionId: number }[] = await em.execute(
    'select session_id as "sessionId" from poker.stories where id = ?',
    [storyId],
  );
  if (!story) return notFound('storyId', 'story', storyId);
  return new ForbiddenError(
    `storyId: only voting participants of session ${story.sessionId} may vote (join it first)`,
    {
      field: 'storyId',
    },
  );
}

/** Shows the round's votes to everyone (sets revealed_at). */
export async function revealVotes(em: EntityManager, actor: PokerActor, input: StoryIdInput): Promise<Story> {
  const { storyId } = input;
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
  await publish(em, POKER_EVENTS_CHANNEL, { type: 'revealed', sessionId: session.id, storyId });
  return toStory(story);
}

/**
 * Starts the story's round again: its votes are deleted, hidden state and final points cleared, and the
 * story is voting again (also from completed, when no other story of the session is voting).
 */
export async function revote(em: EntityManager, actor: PokerActor, input: StoryIdInput): Promise<Story> {
  const { storyId } = input;
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
  await publish(em, POKER_EVENTS_CHANNEL, {
    type: 'story_changed',
    sessionId: session.id,
    storyId,
    change: 'revote',
  });
  return toStory(story);
}
