import {
  type EntityManager,
  executePrepared,
  ForbiddenError,
  isoTimestampSql,
  NotFoundError,
  preparedStatement,
  publish,
} from '@huddle/db';
import { toPage } from '@huddle/db/zod';
import type { PokerActor } from '../actor.ts';
import { PokerSession } from '../entities/session.ts';
import { PokerSessionParticipant } from '../entities/session-participant.ts';
import {
  type CreateSessionInput,
  type JoinSessionInput,
  type ListMySessionsInput,
  type MySession,
  type MySessionPage,
  type Participant,
  POKER_EVENTS_CHANNEL,
  type RenameSessionInput,
  type Session,
  type SessionDetail,
  type SessionIdInput,
  type SessionStatus,
} from '../schemas.ts';
import {
  lockSession,
  requireFacilitator,
  requireSessionOpen,
  requireSessionStatus,
  sessionNotFound,
} from './access.ts';
import { toParticipant, toSession } from './outputs.ts';

/** Creates a session facilitated by the actor, who also joins it as a voter. */
export async function createSession(
  em: EntityManager,
  actor: PokerActor,
  input: CreateSessionInput,
): Promise<Session> {
  const { name } = input;
  const { userId } = actor;
  const session = em.create(PokerSession, { name, facilitator: userId });
  em.create(PokerSessionParticipant, { session, user: userId });
  await em.flush();
  await publish(em, POKER_EVENTS_CHANNEL, {
    type: 'session_changed',
    sessionId: session.id,
    change: 'created',
  });
  return toSession(session, userId);
}

/** Writes the session and reads it back: the database trigger, not this process, sets updated_at. */
async function saveSession(em: EntityManager, session: PokerSession): Promise<PokerSession> {
  await em.flush();
  return em.refreshOrFail(session);
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
  const saved = await saveSession(em, session);
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
  const saved = await saveSession(em, session);
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
 * changes the role. A wrong code is NOT_FOUND, whether or not the session exists. Race-safe: one
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
  `select json_build_object(
       'id', s.id, 'name', s.name, 'facilitatorId', s.facilitator_id, 'status', s.status,
       'joinCode', case when s.facilitator_id = $1 then s.join_code end,
       'createdAt', ${isoTimestampSql('s.created_at')}, 'updatedAt', ${isoTimestampSql('s.updated_at')},
       'stories', coalesce((select json_agg(json_build_object(
           'id', st.id, 'sessionId', st.session_id, 'title', st.title, 'description', st.description,
           'storyOrder', st.story_order, 'status', st.status, 'finalPoints', st.final_points,
           'revealedAt', ${isoTimestampSql('st.revealed_at')}, 'createdAt', ${isoTimestampSql('st.created_at')})
         order by st.story_order, st.id) from poker.stories st where st.session_id = s.id), '[]'),
       'participants', coalesce((select json_agg(json_build_object(
           'sessionId', p.session_id, 'userId', p.user_id, 'name', u.name, 'isSpectator', p.is_spectator,
           'joinedAt', ${isoTimestampSql('p.joined_at')})
         order by p.joined_at, p.id)
         from poker.session_participants p join poker.users u on u.id = p.user_id where p.session_id = s.id), '[]')
     ) as detail,
     s.facilitator_id = $1 or exists (
       select 1 from poker.session_participants p where p.session_id = s.id and p.user_id = $1) as allowed
     from poker.sessions s where s.id = $2`,
);

/**
 * A session with its stories and participants, for its participants. A hot read, so one statement: the
 * database checks access and renders the whole answer as JSON in the output schema's shape.
 */
export async function getSession(
  em: EntityManager,
  actor: PokerActor,
  input: SessionIdInput,
): Promise<SessionDetail> {
  const { sessionId } = input;
  const { userId } = actor;
  const [row] = await executePrepared(em, sessionDetailStatement, [userId, sessionId]);
  if (!row) throw sessionNotFound(sessionId);
  if (!row.allowed) throw new ForbiddenError(`join session ${sessionId} to see it`, { field: 'sessionId' });
  return row.detail;
}

/**
 * A page of the sessions the actor facilitates or takes part in, newest first (by id): the page's ids and
 * the actor's part in each in one statement, then its sessions.
 */
export async function listMySessions(
  em: EntityManager,
  actor: PokerActor,
  { status, limit, cursor }: ListMySessionsInput,
): Promise<MySessionPage> {
  const { userId } = actor;
  const rows = await em.execute<{ id: number; is_spectator: boolean | null }[]>(
    `select s.id, p.is_spectator from poker.sessions s
     left join poker.session_participants p on p.session_id = s.id and p.user_id = ?
     where s.id in (select id from poker.sessions where facilitator_id = ?
                    union all select session_id from poker.session_participants where user_id = ?)
       and (?::text is null or s.status = ?) and (?::int is null or s.id < ?)
     order by s.id desc limit ?`,
    [
      userId,
      userId,
      userId,
      status ?? null,
      status ?? null,
      cursor?.[0] ?? null,
      cursor?.[0] ?? null,
      limit + 1,
    ],
  );
  const page = toPage(
    rows,
    limit,
    (row) => row,
    (row) => [row.id],
  );
  const sessions = new Map(
    (await em.find(PokerSession, { id: { $in: page.items.map((row) => row.id) } })).map((session) => [
      session.id,
      session,
    ]),
  );
  const items = page.items.map(({ id, is_spectator }): MySession => {
    const session = sessions.get(id)!;
    return {
      ...toSession(session, userId),
      role: session.facilitator.id === userId ? 'facilitator' : is_spectator ? 'spectator' : 'voter',
    };
  });
  return { items, nextCursor: page.nextCursor };
}
