import {
  ConflictError,
  type EntityManager,
  executePrepared,
  ForbiddenError,
  InvalidInputError,
  notFound,
  preparedStatement,
  publish,
  sqlStringList,
} from '@huddle/db';
import type { PokerActor } from '../actor.ts';
import {
  type CastVoteInput,
  POINT_VALUES,
  POKER_EVENTS_CHANNEL,
  type PokerEvent,
  type SessionStatus,
  type StartRoundInput,
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
  /** The round's timer ran out (its votes are revealed by the `reveal-expired-rounds` job). */
  expired: boolean;
  isSpectator: boolean;
  /** The card is one of the session's deck. */
  inDeck: boolean;
  /** Null when a rule refused the vote. */
  points: string | null;
  createdAt: Date | string | null;
}

/**
 * `castVote`'s statement: `$1` the voter, `$2` the story, `$3` the card, `$4` the events channel, `$5` the
 * event without its sessionId.
 */
const castVoteStatement = preparedStatement<VotingOutcome>(
  'poker.cast_vote',
  `with state as (
       select st.session_id, s.status as session_status, st.status as story_status, s.deck_id,
              st.revealed_at is not null as revealed,
              coalesce(st.voting_deadline <= now(), false) as expired, p.is_spectator
       from poker.stories st
       join poker.sessions s on s.id = st.session_id
       join poker.session_participants p on p.session_id = st.session_id and p.user_id = $1
       where st.id = $2
       for no key update of st for share of s, p),
     checked as (
       select state.*,
              case when deck_id is null then $3 in (${sqlStringList(POINT_VALUES)})
                   else exists (select 1 from poker.deck_cards c where c.deck_id = state.deck_id and c.card = $3)
              end as in_deck
       from state),
     vote as (
       insert into poker.votes (story_id, user_id, points)
       select $2::int, $1::int, $3::text from checked
       where session_status = 'active' and story_status = 'voting' and not revealed and not expired
         and in_deck and not is_spectator
       on conflict (story_id, user_id) do update set points = excluded.points
       returning points, created_at)
     select checked.session_id as "sessionId", checked.session_status as "sessionStatus",
            checked.story_status as "storyStatus", checked.revealed, checked.expired,
            checked.is_spectator as "isSpectator", checked.in_deck as "inDeck",
            vote.points, vote.created_at as "createdAt",
            case when vote.points is not null
              then pg_notify($4, ($5::jsonb || jsonb_build_object('sessionId', checked.session_id))::text) end
     from checked left join vote on true`,
);

/**
 * `revealWhenAllVoted`'s statement: reveals round `$1` when every voting participant (no spectator) of its
 * active session has a vote, and announces it on channel `$2`. A conditional update: `revealed_at is null`
 * is re-checked on the locked row, so a round is revealed once, whichever request or process comes last.
 */
const revealWhenAllVotedStatement = preparedStatement<{ sessionId: number }>(
  'poker.reveal_when_all_voted',
  `with revealed as (
       update poker.stories st set revealed_at = now()
       where st.id = $1 and st.status = 'voting' and st.revealed_at is null
         and exists (select 1 from poker.sessions s where s.id = st.session_id and s.status = 'active')
         and not exists (
           select 1 from poker.session_participants p
           where p.session_id = st.session_id and not p.is_spectator
             and not exists (select 1 from poker.votes v where v.story_id = st.id and v.user_id = p.user_id))
       returning st.session_id)
     select session_id as "sessionId",
            pg_notify($2, json_build_object('type', 'revealed', 'sessionId', session_id, 'storyId', $1::int,
                                            'reason', 'all_voted')::text)
     from revealed`,
);

/**
 * Reveals the story's round if every voting participant has voted (after a vote, a removal, a change to
 * spectator). Run only while holding the story's row lock (castVote) or the session's (the facilitator's
 * changes), in a statement of its own: it then reads every vote committed before the lock was granted.
 */
export async function revealWhenAllVoted(em: EntityManager, storyId: number): Promise<boolean> {
  const rows = await executePrepared(em, revealWhenAllVotedStatement, [storyId, POKER_EVENTS_CHANNEL]);
  return rows.length > 0;
}

/**
 * Casts or changes the actor's vote on a story that is being voted on, in an active session, before the
 * reveal and before the round's timer runs out, with a card of the session's deck. Only voting participants
 * (not spectators) vote. The hot path, so one statement writes: it locks the story `for no key update` and
 * its session and the voter's participation `for share` (a reveal, pause, re-vote or role change waits for
 * the vote, and votes on one story take turns), writes the vote only when every rule holds — `insert … on
 * conflict (story_id, user_id) do update`, so simultaneous casts leave one vote — and publishes its event.
 * A second statement reveals the round when this was the last vote missing: votes on a story take turns on
 * its row lock, so the last one sees every other and the round is revealed exactly once. A refusal says
 * which rule from the rows it read; only a missing story or participation costs another read.
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
    await revealWhenAllVoted(em, storyId);
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
  if (outcome.expired) {
    throw new ConflictError(
      `storyId: the voting time on story ${storyId} is over; the facilitator can start a re-vote`,
      { field: 'storyId' },
    );
  }
  if (outcome.isSpectator) {
    throw new ForbiddenError(
      `storyId: only voting participants of session ${sessionId} may vote (you are a spectator)`,
      { field: 'storyId' },
    );
  }
  throw new InvalidInputError(
    `points: ${JSON.stringify(points)} is not a card of session ${sessionId}'s deck (see sessions.get's deck)`,
    { field: 'points' },
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

/** Shows the round's votes to everyone (sets revealed_at), before every voter has voted or the timer runs out. */
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
  await publish(em, POKER_EVENTS_CHANNEL, {
    type: 'revealed',
    sessionId: session.id,
    storyId,
    reason: 'facilitator',
  });
  return toStory(story);
}

/** Moves story `$1`'s votes to past_votes as round `$2`, if it was revealed (`$3`); else they are only deleted. */
const archiveRoundStatement = preparedStatement<never>(
  'poker.archive_round',
  `with moved as (delete from poker.votes where story_id = $1 returning story_id, user_id, points, created_at)
   insert into poker.past_votes (story_id, round, user_id, points, cast_at)
   select story_id, $2, user_id, points, created_at from moved where $3`,
);

/** The deadline of a round started now that lasts `votingSeconds`; null without a timer. */
export function votingDeadline(votingSeconds: number | undefined): Date | null {
  return votingSeconds === undefined ? null : new Date(Date.now() + votingSeconds * 1000);
}

/**
 * Starts the story's next round: its votes move to past_votes (an export shows every revealed round; the
 * votes of a round never revealed are deleted, as nobody was to see them), hidden state
 * and final points are cleared, the timer is set anew (or none), and the story is voting again (also from
 * completed, when no other story of the session is voting).
 */
export async function revote(em: EntityManager, actor: PokerActor, input: StartRoundInput): Promise<Story> {
  const { storyId, votingSeconds } = input;
  const { userId } = actor;
  const { story, session } = await lockStory(em, storyId, 'write');
  requireFacilitator(session, userId, 'start a re-vote');
  requireSessionStatus(session, ['active'], 'start a re-vote');
  if (story.status === 'pending') throw storyStatusConflict(story, 'start a re-vote', 'voting or completed');
  await requireNoOtherVotingStory(em, story);
  await executePrepared(em, archiveRoundStatement, [storyId, story.round, story.revealedAt !== null]);
  story.status = 'voting';
  story.revealedAt = null;
  story.finalPoints = null;
  story.round += 1;
  story.votingDeadline = votingDeadline(votingSeconds);
  await publish(em, POKER_EVENTS_CHANNEL, {
    type: 'story_changed',
    sessionId: session.id,
    storyId,
    change: 'revote',
  });
  return toStory(story);
}
