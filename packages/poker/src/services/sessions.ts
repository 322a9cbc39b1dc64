import {
  ConflictError,
  type EntityManager,
  executePrepared,
  ForbiddenError,
  flushAndReload,
  InvalidInputError,
  type Loaded,
  NotFoundError,
  notFound,
  outputColumnsSql,
  outputObjectSql,
  preparedStatement,
  publish,
} from '@huddle/db';
import { rowsToPage } from '@huddle/db/zod';
import type { PokerActor } from '../actor.ts';
import { PokerSession } from '../entities/session.ts';
import { PokerSessionParticipant } from '../entities/session-participant.ts';
import { PokerUser } from '../entities/user.ts';
import {
  type CreateSessionInput,
  type JoinSessionInput,
  type ListMySessionsInput,
  type MySession,
  type MySessionPage,
  type Participant,
  type ParticipantInput,
  POKER_EVENTS_CHANNEL,
  type RenameSessionInput,
  type Session,
  type SessionDetail,
  type SessionIdInput,
  type SessionStatus,
  type SetSpectatorInput,
} from '../schemas.ts';
import { lockSession, requireFacilitator, requireSessionOpen, requireSessionStatus } from './access.ts';
import { builtinDeckCopy, findDeck } from './decks.ts';
import {
  participantColumns,
  sessionColumns,
  sessionDeckSql,
  storyColumns,
  toParticipant,
  toSession,
} from './outputs.ts';
import { revealWhenAllVoted } from './votes.ts';

/**
 * Creates a session facilitated by the actor, who also joins it as a voter, on the deck chosen — a built-in
 * one (`deckKey`: the actor's copy of it), or one the actor may see (`deckId`: their own, or the deck of a
 * session they take part in) — or the seed's.
 */
export async function createSession(
  em: EntityManager,
  actor: PokerActor,
  input: CreateSessionInput,
): Promise<Session> {
  const { name, deckKey, deckId } = input;
  const { userId } = actor;
  if (deckId !== undefined) await findDeck(em, deckId);
  const deck = deckKey === undefined ? (deckId ?? null) : await builtinDeckCopy(em, actor, deckKey);
  const session = em.create(PokerSession, { name, facilitator: userId, deck });
  em.create(PokerSessionParticipant, { session, user: userId });
  await em.flush();
  await publish(em, POKER_EVENTS_CHANNEL, {
    type: 'session_changed',
    sessionId: session.id,
    change: 'created',
  });
  return toSession(session, userId);
}

export async function renameSession(
  em: EntityManager,
  actor: PokerActor,
  input: RenameSessionInput,
): Promise<Session> {
  const { sessionId, name } = input;
  const { userId } = actor;
  const session = await lockSession(em, sessionId, 'write');
  requireFacilitator(session, userId, 'rename it');
  requireSessionOpen(session, 'rename the session');
  session.name = name;
  const saved = await flushAndReload(em, session);
  await publish(em, POKER_EVENTS_CHANNEL, { type: 'session_changed', sessionId, change: 'renamed' });
  return toSession(saved, userId);
}

async function changeSessionStatus(
  em: EntityManager,
  actor: PokerActor,
  input: SessionIdInput,
  transition: { from: readonly SessionStatus[]; to: SessionStatus; action: string },
): Promise<Session> {
  const { sessionId } = input;
  const { userId } = actor;
  const session = await lockSession(em, sessionId, 'write');
  requireFacilitator(session, userId, transition.action);
  requireSessionStatus(session, transition.from, transition.action);
  session.status = transition.to;
  const saved = await flushAndReload(em, session);
  await publish(em, POKER_EVENTS_CHANNEL, {
    type: 'session_status_changed',
    sessionId,
    status: transition.to,
  });
  return toSession(saved, userId);
}

/** active → paused: voting stops until the facilitator resumes. */
export function pauseSession(em: EntityManager, actor: PokerActor, input: SessionIdInput): Promise<Session> {
  return changeSessionStatus(em, actor, input, {
    from: ['active'],
    to: 'paused',
    action: 'pause the session',
  });
}

/** paused → active. */
export function resumeSession(em: EntityManager, actor: PokerActor, input: SessionIdInput): Promise<Session> {
  return changeSessionStatus(em, actor, input, {
    from: ['paused'],
    to: 'active',
    action: 'resume the session',
  });
}

/** active or paused → completed; a completed session is read-only. */
export function completeSession(
  em: EntityManager,
  actor: PokerActor,
  input: SessionIdInput,
): Promise<Session> {
  return changeSessionStatus(em, actor, input, {
    from: ['active', 'paused'],
    to: 'completed',
    action: 'complete the session',
  });
}

/**
 * Joins the actor to the session whose join code they were given, as a voter or a spectator; joining again
 * changes the role (as `setSpectator` does: a new spectator's vote in the open round goes). A wrong code is NOT_FOUND, whether or not the session exists. Race-safe: one
 * `insert … on conflict (session_id, user_id) do update`.
 */
export async function joinSession(
  em: EntityManager,
  actor: PokerActor,
  input: JoinSessionInput,
): Promise<Participant> {
  const { joinCode, role } = input;
  const { userId } = actor;
  const found = await em.findOne(PokerSession, { joinCode }, { fields: ['id'] });
  if (!found) throw new NotFoundError('joinCode: no session has this join code', { field: 'joinCode' });
  const sessionId = found.id;
  const session = await lockSession(em, sessionId, 'share');
  // Read under the lock: the facilitator may have rotated the code meanwhile.
  if (session.joinCode !== joinCode) {
    throw new NotFoundError('joinCode: no session has this join code', { field: 'joinCode' });
  }
  requireSessionOpen(session, 'join the session');
  const participant = await em.upsert(
    PokerSessionParticipant,
    { session: sessionId, user: userId, isSpectator: role === 'spectator' },
    {
      onConflictFields: ['session', 'user'],
      onConflictAction: 'merge',
      onConflictMergeFields: ['isSpectator'],
    },
  );
  if (role === 'spectator') await leaveOpenRound(em, sessionId, userId);
  const withUser = await em.populate(participant, ['user']);
  await publish(em, POKER_EVENTS_CHANNEL, {
    type: 'session_changed',
    sessionId,
    change: 'participant_joined',
  });
  return toParticipant(withUser);
}

/**
 * Replaces the session's join code (facilitator only): the old link stops working; people who joined stay.
 */
export async function rotateJoinCode(
  em: EntityManager,
  actor: PokerActor,
  input: SessionIdInput,
): Promise<Session> {
  const { sessionId } = input;
  const { userId } = actor;
  const session = await lockSession(em, sessionId, 'write');
  requireFacilitator(session, userId, 'rotate its join code');
  requireSessionOpen(session, 'rotate the join code');
  await em.execute('update poker.sessions set join_code = default where id = ?', [sessionId], 'run');
  return toSession(await em.refreshOrFail(session), userId);
}

/** The whole answer of `getSession` for `$1` (the actor's user id) and `$2` (the session's id). */
const sessionDetailStatement = preparedStatement<{ detail: SessionDetail; allowed: boolean }>(
  'poker.session_detail',
  `select ${outputObjectSql<SessionDetail>({
    ...sessionColumns('s', '$1'),
    deck: sessionDeckSql('s'),
    stories: `coalesce((select json_agg(${outputObjectSql(storyColumns('st'))} order by st.story_order, st.id)
      from poker.stories st where st.session_id = s.id), '[]')`,
    participants: `coalesce((select json_agg(${outputObjectSql(participantColumns('p', 'u'))} order by p.joined_at, p.id)
      from poker.session_participants p join poker.users u on u.id = p.user_id where p.session_id = s.id), '[]')`,
  })} as detail,
     s.facilitator_id = $1 or exists (
       select 1 from poker.session_participants p where p.session_id = s.id and p.user_id = $1) as allowed
     from poker.sessions s where s.id = $2`,
);

/**
 * A session with its stories and participants, for its participants. A hot read, so one statement: the
 * database checks access and renders the whole answer in the output schema's shape.
 */
export async function getSession(
  em: EntityManager,
  actor: PokerActor,
  input: SessionIdInput,
): Promise<SessionDetail> {
  const { sessionId } = input;
  const { userId } = actor;
  const [row] = await executePrepared(em, sessionDetailStatement, [userId, sessionId]);
  if (!row) throw notFound('sessionId', 'session', sessionId);
  if (!row.allowed)
    throw new ForbiddenError(`sessionId: join session ${sessionId} to see it`, { field: 'sessionId' });
  return row.detail;
}

/**
 * A page of `MySession`s for `$1` (the actor's user id), newest first (by id): sessions it facilitates or
 * takes part in, of status `$2` (null: any), below id `$3` (null: from the newest), `$4` rows.
 */
const mySessionsStatement = preparedStatement<MySession>(
  'poker.my_sessions',
  `select ${outputColumnsSql<MySession>({
    ...sessionColumns('s', '$1'),
    role: `case when s.facilitator_id = $1 then 'facilitator' when p.is_spectator then 'spectator' else 'voter' end`,
  })}
     from poker.sessions s
     left join poker.session_participants p on p.session_id = s.id and p.user_id = $1
     where s.id in (select id from poker.sessions where facilitator_id = $1
                    union all select session_id from poker.session_participants where user_id = $1)
       and ($2::text is null or s.status = $2) and ($3::int is null or s.id < $3)
     order by s.id desc limit $4`,
);

/** A page of the sessions the actor facilitates or takes part in, newest first, with its part in each. */
export async function listMySessions(
  em: EntityManager,
  actor: PokerActor,
  { status, limit, cursor }: ListMySessionsInput,
): Promise<MySessionPage> {
  const rows = await executePrepared(em, mySessionsStatement, [
    actor.userId,
    status ?? null,
    cursor?.[0] ?? null,
    limit + 1,
  ]);
  return rowsToPage(rows, limit, (row) => [row.id]);
}

/** The participation of `userId` in the session (with its user), or NotFoundError naming `userId`. */
async function findParticipant(
  em: EntityManager,
  sessionId: number,
  userId: number,
): Promise<Loaded<PokerSessionParticipant, 'user'>> {
  const participant = await em.findOne(
    PokerSessionParticipant,
    { session: sessionId, user: userId },
    { populate: ['user'], refresh: true },
  );
  if (!participant) {
    throw new NotFoundError(`userId: user ${userId} does not take part in session ${sessionId}`, {
      field: 'userId',
    });
  }
  return participant;
}

/**
 * After a voter left the round (removed, or now a spectator): the votes they cast in the open round go, and
 * the round is revealed if everyone left has voted.
 */
async function leaveOpenRound(em: EntityManager, sessionId: number, userId: number): Promise<void> {
  const [open] = await em.execute<{ id: number }[]>(
    `select id from poker.stories where session_id = ? and status = 'voting' and revealed_at is null`,
    [sessionId],
  );
  if (!open) return;
  await em.execute('delete from poker.votes where story_id = ? and user_id = ?', [open.id, userId], 'run');
  await revealWhenAllVoted(em, open.id);
}

/**
 * Hands the facilitator role to another participant (facilitator only); the former facilitator stays a
 * participant. The database refuses a facilitator who does not take part (trigger `facilitator_participates`).
 */
export async function handOverSession(
  em: EntityManager,
  actor: PokerActor,
  input: ParticipantInput,
): Promise<Session> {
  const { sessionId, userId: successorId } = input;
  const { userId } = actor;
  const session = await lockSession(em, sessionId, 'write');
  requireFacilitator(session, userId, 'hand the facilitator role over');
  requireSessionOpen(session, 'hand the facilitator role over');
  if (successorId === userId) {
    throw new InvalidInputError(`userId: you facilitate session ${sessionId} already`, { field: 'userId' });
  }
  await findParticipant(em, sessionId, successorId);
  session.facilitator = em.getReference(PokerUser, successorId, { wrapped: true });
  const saved = await flushAndReload(em, session);
  await publish(em, POKER_EVENTS_CHANNEL, {
    type: 'session_changed',
    sessionId,
    change: 'facilitator_changed',
  });
  return toSession(saved, userId);
}

/**
 * Removes a participant (facilitator only; the facilitator hands the role over before leaving). Their
 * votes on revealed or past rounds stay; a vote in the open round goes, which may complete it.
 */
export async function removeParticipant(
  em: EntityManager,
  actor: PokerActor,
  input: ParticipantInput,
): Promise<Participant> {
  const { sessionId, userId: removedId } = input;
  const { userId } = actor;
  const session = await lockSession(em, sessionId, 'write');
  requireFacilitator(session, userId, 'remove participants');
  requireSessionOpen(session, 'remove a participant');
  if (removedId === session.facilitator.id) {
    throw new ConflictError(
      `userId: the facilitator cannot be removed from session ${sessionId}; hand the role over first`,
      { field: 'userId' },
    );
  }
  const participant = await findParticipant(em, sessionId, removedId);
  const removed = toParticipant(participant);
  await em.execute('delete from poker.session_participants where id = ?', [participant.id], 'run');
  await leaveOpenRound(em, sessionId, removedId);
  await publish(em, POKER_EVENTS_CHANNEL, {
    type: 'session_changed',
    sessionId,
    change: 'participant_removed',
  });
  return removed;
}

/**
 * Makes a participant a spectator or a voter again: the facilitator for anyone, anyone for themselves. A
 * new spectator's vote in the open round goes, which may complete it.
 */
export async function setSpectator(
  em: EntityManager,
  actor: PokerActor,
  input: SetSpectatorInput,
): Promise<Participant> {
  const { sessionId, userId: targetId, spectator } = input;
  const { userId } = actor;
  const session = await lockSession(em, sessionId, 'write');
  if (targetId !== userId) requireFacilitator(session, userId, "change another participant's role");
  requireSessionOpen(session, 'change a role');
  const participant = await findParticipant(em, sessionId, targetId);
  if (participant.isSpectator !== spectator) {
    participant.isSpectator = spectator;
    await em.flush();
    if (spectator) await leaveOpenRound(em, sessionId, targetId);
    await publish(em, POKER_EVENTS_CHANNEL, {
      type: 'session_changed',
      sessionId,
      change: 'participant_changed',
    });
  }
  return toParticipant(participant);
}
