import {
  ConflictError,
  type EntityManager,
  executePrepared,
  flushAndReload,
  keysetTimestampSql,
  NotFoundError,
  outputColumnsSql,
  preparedStatement,
} from '@huddle/db';
import { toPage } from '@huddle/db/zod';
import type { PlannerActor } from '../actor.ts';
import { PlannerChatSession } from '../entities/chat-session.ts';
import type {
  AppendChatMessageInput,
  AppendedChatMessage,
  ChatMessagePage,
  ChatMessagesInput,
  ChatSession,
  ChatSessionIdInput,
  ChatSessionPage,
  ListChatSessionsInput,
  PlanIdInput,
} from '../schemas.ts';
import { findPlanVersion, requirePlanStatus } from './lookups.ts';
import { chatSessionColumns, toChatSession } from './outputs.ts';

/** Chat sessions: the conversation that shapes a plan version, kept as one JSONB array of messages. */

/** At most this many distinct words of one message are indexed for search. */
const MAX_TERMS = 1_000;
/**
 * Every append rewrites the session's array, so its length is bounded: a client cannot make each append
 * slower without end. A conversation that long continues in a new session.
 */
export const MAX_MESSAGES_PER_SESSION = 2_000;

/**
 * The distinct lower-cased words (letters, digits, `_`; two characters or more) of a message, stored beside
 * it so that `chatSessionsMentioning` finds it through `idx_chat_messages_gin`.
 */
export function chatTerms(content: string): string[] {
  const words = content
    .toLowerCase()
    .split(/[^\p{L}\p{N}_]+/u)
    .filter((word) => word.length >= 2 && word.length <= 100);
  return [...new Set(words)].slice(0, MAX_TERMS);
}

function sessionNotFound(sessionId: string): NotFoundError {
  return new NotFoundError(`sessionId: chat session ${sessionId} does not exist`, { field: 'sessionId' });
}

function sessionFull(sessionId: string): ConflictError {
  return new ConflictError(
    `sessionId: chat session ${sessionId} holds the maximum of ${MAX_MESSAGES_PER_SESSION} messages; open a new one`,
    { field: 'sessionId' },
  );
}

function sessionCompleted(sessionId: string): ConflictError {
  return new ConflictError(`sessionId: chat session ${sessionId} is completed; open a new one`, {
    field: 'sessionId',
  });
}

async function findSession(em: EntityManager, sessionId: string): Promise<PlannerChatSession> {
  const session = await em.findOne(PlannerChatSession, sessionId, { refresh: true });
  if (!session) throw sessionNotFound(sessionId);
  return session;
}

/** Opens a chat session on a plan version that is not archived. */
export async function openChatSession(
  em: EntityManager,
  _actor: PlannerActor,
  input: PlanIdInput,
): Promise<ChatSession> {
  const { planId } = input;
  const plan = await findPlanVersion(em, planId);
  requirePlanStatus(plan, ['draft', 'active', 'completed'], 'have a chat session opened');
  const session = em.create(PlannerChatSession, { plan });
  await em.flush();
  return toChatSession(await flushAndReload(em, session));
}

/**
 * `listChatSessions`' statement: `$1` the plan version, `$2` the page size and one, `$3`–`$4` the cursor's
 * creation time and id (null: first page).
 */
const chatSessionsStatement = preparedStatement<ChatSession & { created: string }>(
  'planner.chat_sessions_page',
  `select ${outputColumnsSql(chatSessionColumns('c'))}, ${keysetTimestampSql('c.created_at')} as created
   from planner.chat_sessions c
   where c.plan_id = $1 and ($3::timestamptz is null or (c.created_at, c.id) > ($3::timestamptz, $4::uuid))
   order by c.created_at, c.id limit $2`,
);

/** A page of the sessions of a plan version, oldest first (creation time to the microsecond, then id). */
export async function listChatSessions(
  em: EntityManager,
  _actor: PlannerActor,
  { planId, limit, cursor }: ListChatSessionsInput,
): Promise<ChatSessionPage> {
  await findPlanVersion(em, planId);
  const rows = await executePrepared(em, chatSessionsStatement, [
    planId,
    limit + 1,
    ...(cursor ?? [null, null]),
  ]);
  return toPage(
    rows,
    limit,
    ({ created: _, ...session }) => session,
    (row) => [row.created, row.id],
  );
}

/**
 * Appends a message with one atomic `update … set messages = messages || …` on an active session that has
 * fewer than MAX_MESSAGES_PER_SESSION messages: the row
 * lock orders concurrent appends, so none is lost and their order is the order they commit. `at` is the
 * database's clock when the append took the row.
 */
export async function appendChatMessage(
  em: EntityManager,
  _actor: PlannerActor,
  input: AppendChatMessageInput,
): Promise<AppendedChatMessage> {
  const { sessionId, role, content } = input;
  const [appended] = await em.execute<{ index: number; at: string }[]>(
    `update planner.chat_sessions
     set messages = messages || jsonb_build_array(jsonb_build_object(
       'role', ?::text, 'content', ?::text, 'terms', ?::jsonb,
       'at', to_char(clock_timestamp() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')))
     where id = ? and status = 'active' and jsonb_array_length(messages) < ?
     returning jsonb_array_length(messages) - 1 as index, messages -> -1 ->> 'at' as at`,
    [role, content, JSON.stringify(chatTerms(content)), sessionId, MAX_MESSAGES_PER_SESSION],
  );
  if (!appended) {
    const session = await em.findOne(PlannerChatSession, sessionId);
    if (!session) throw sessionNotFound(sessionId);
    throw session.status === 'completed' ? sessionCompleted(sessionId) : sessionFull(sessionId);
  }
  return { sessionId, index: appended.index, message: { role, content, at: appended.at } };
}

/** `getChatMessages`' session: `$1` the session. */
const chatSessionStatement = preparedStatement<ChatSession>(
  'planner.chat_session',
  `select ${outputColumnsSql(chatSessionColumns('c'))} from planner.chat_sessions c where c.id = $1`,
);

type ChatMessageEntry = ChatMessagePage['messages'][number];

/** `getChatMessages`' page: `$1` the session, `$2` the offset, `$3` the page size. */
const chatMessagesStatement = preparedStatement<ChatMessageEntry>(
  'planner.chat_messages_page',
  `select ${outputColumnsSql<ChatMessageEntry>({
    index: '(m.ordinality - 1)::int',
    role: "m.message ->> 'role'",
    content: "m.message ->> 'content'",
    at: "m.message ->> 'at'",
  })}
   from planner.chat_sessions c, jsonb_array_elements(c.messages) with ordinality m(message, ordinality)
   where c.id = $1 and m.ordinality > $2 order by m.ordinality limit $3`,
);

/** A page of a session's messages, oldest first, from `offset`. */
export async function getChatMessages(
  em: EntityManager,
  _actor: PlannerActor,
  input: ChatMessagesInput,
): Promise<ChatMessagePage> {
  const { sessionId, offset, limit } = input;
  const [session] = await executePrepared(em, chatSessionStatement, [sessionId]);
  if (!session) throw sessionNotFound(sessionId);
  const messages = await executePrepared(em, chatMessagesStatement, [sessionId, offset, limit]);
  return { session, offset, messages };
}

/** Completes an active session: no message can be appended after. */
export async function completeChatSession(
  em: EntityManager,
  _actor: PlannerActor,
  input: ChatSessionIdInput,
): Promise<ChatSession> {
  const { sessionId } = input;
  const completed = await em.nativeUpdate(
    PlannerChatSession,
    { id: sessionId, status: 'active' },
    { status: 'completed' },
  );
  if (completed === 0) {
    await findSession(em, sessionId);
    throw sessionCompleted(sessionId);
  }
  return toChatSession(await findSession(em, sessionId));
}
