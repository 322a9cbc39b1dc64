import { ConflictError, InvalidInputError, NotFoundError } from '@huddle/db';
import { beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { plannerOperations } from '../src/operations.ts';
import { type appendChatMessageInputSchema, listChatSessionsInputSchema } from '../src/schemas.ts';
import {
  chatTerms,
  completeChatSession,
  listChatSessions,
  MAX_MESSAGES_PER_SESSION,
  openChatSession,
} from '../src/services/chat.ts';
import { archivePlanVersion, createPlan } from '../src/services/plans.ts';
import {
  asActor,
  call,
  expectHuddleError,
  OPERATOR,
  settleAll,
  usePlannerDatabase,
  useSqlClient,
} from './helpers.ts';

const test = usePlannerDatabase();
const postgres = useSqlClient(test);
const PARALLEL = 50;
let planId = '';

beforeAll(async () => {
  const repository = await postgres.client.query<{ id: string }>(
    `insert into planner.repositories (name, path) values ('shop', '/r/shop') returning id`,
  );
  const plan = await asActor(test.db, OPERATOR, (em, actor) =>
    createPlan(em, actor, { repositoryId: repository.rows[0]!.id, name: 'Chatty' }),
  );
  planId = plan.id;
});

const open = () => asActor(test.db, OPERATOR, (em, actor) => openChatSession(em, actor, { planId }));
type AppendInput = z.input<typeof appendChatMessageInputSchema>;
/** Through the edge: the content is trimmed there, and bad messages are refused there. */
const append = (input: AppendInput) => call(test.db, OPERATOR, plannerOperations.chat.append, input);

async function storedMessages(sessionId: string) {
  const result = await postgres.client.query<{ messages: { role: string; content: string; at: string }[] }>(
    'select messages from planner.chat_sessions where id = $1',
    [sessionId],
  );
  return result.rows[0]!.messages;
}

describe('chat sessions', () => {
  it(`${PARALLEL} concurrent appends keep ${PARALLEL} messages, in the order they committed`, async () => {
    const session = await open();
    const contents = Array.from({ length: PARALLEL }, (_, index) => `message number ${index}`);
    const { results, errors } = await settleAll(
      contents.map(
        (content, index) => () =>
          append({ sessionId: session.id, role: index % 2 === 0 ? 'user' : 'assistant', content }),
      ),
    );
    expect(errors).toEqual([]);
    const messages = await storedMessages(session.id);
    expect(messages).toHaveLength(PARALLEL);
    expect(new Set(messages.map((message) => message.content))).toEqual(new Set(contents));
    // Each append got the position its message holds, and the positions are exactly 0..49.
    for (const result of results) expect(messages[result.index]!.content).toBe(result.message.content);
    expect(results.map((result) => result.index).sort((a, b) => a - b)).toEqual([...Array(PARALLEL).keys()]);
    const times = messages.map((message) => Date.parse(message.at));
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });

  it('appends a message as { role, content, at } with its words indexed for search', async () => {
    const session = await open();
    const appended = await append({
      sessionId: session.id,
      role: 'system',
      content: '  Use the Saved-cards API.  ',
    });
    expect(appended).toMatchObject({
      sessionId: session.id,
      index: 0,
      message: { role: 'system', content: 'Use the Saved-cards API.' },
    });
    expect(Date.parse(appended.message.at)).not.toBeNaN();
    const [stored] = await storedMessages(session.id);
    expect(stored).toEqual({ ...appended.message, terms: ['use', 'the', 'saved', 'cards', 'api'] });
    expect(chatTerms('A b2 b2 É_x')).toEqual(['b2', 'é_x']);
  });

  it('pages through messages, oldest first', async () => {
    const session = await open();
    for (let index = 0; index < 7; index++)
      await append({ sessionId: session.id, role: 'user', content: `m${index}` });
    const page = await call(test.db, OPERATOR, plannerOperations.chat.messages, {
      sessionId: session.id,
      offset: 2,
      limit: 3,
    });
    expect(page.session).toMatchObject({ id: session.id, messageCount: 7, status: 'active' });
    expect(page.messages.map((message) => [message.index, message.content])).toEqual([
      [2, 'm2'],
      [3, 'm3'],
      [4, 'm4'],
    ]);
    const end = await call(test.db, OPERATOR, plannerOperations.chat.messages, {
      sessionId: session.id,
      offset: 6,
    });
    expect(end.messages.map((message) => message.content)).toEqual(['m6']);
    const sessions = await asActor(test.db, OPERATOR, (em, actor) =>
      listChatSessions(em, actor, listChatSessionsInputSchema.parse({ planId })),
    );
    expect(sessions.items.find((listed) => listed.id === session.id)?.messageCount).toBe(7);
  });

  it('refuses appends to a completed session, and a second completion', async () => {
    const session = await open();
    await append({ sessionId: session.id, role: 'user', content: 'Before' });
    const completed = await asActor(test.db, OPERATOR, (em, actor) =>
      completeChatSession(em, actor, { sessionId: session.id }),
    );
    expect(completed).toMatchObject({ status: 'completed', messageCount: 1 });
    const refused = await expectHuddleError(
      append({ sessionId: session.id, role: 'user', content: 'After' }),
      ConflictError,
    );
    expect(refused.constraint.field).toBe('sessionId');
    await expectHuddleError(
      asActor(test.db, OPERATOR, (em, actor) => completeChatSession(em, actor, { sessionId: session.id })),
      ConflictError,
    );
    expect((await storedMessages(session.id)).map((message) => message.content)).toEqual(['Before']);
  });

  it(`refuses an append to a session that holds ${MAX_MESSAGES_PER_SESSION} messages`, async () => {
    const session = await open();
    await postgres.client.query(
      `update planner.chat_sessions set messages = (
         select jsonb_agg(jsonb_build_object('role', 'user', 'content', 'm' || g, 'at', '2026-01-01T00:00:00.000Z', 'terms', '[]'::jsonb))
         from generate_series(1, $2::int) g)
       where id = $1`,
      [session.id, MAX_MESSAGES_PER_SESSION],
    );
    const refused = await expectHuddleError(
      append({ sessionId: session.id, role: 'user', content: 'One more' }),
      ConflictError,
    );
    expect(refused.message).toMatch(/holds the maximum of 2000 messages/);
    expect(await storedMessages(session.id)).toHaveLength(MAX_MESSAGES_PER_SESSION);
  });

  it('refuses bad messages by field, unknown sessions, and sessions on archived versions', async () => {
    const session = await open();
    for (const [input, field] of [
      [{ sessionId: session.id, role: 'robot', content: 'x' }, 'role'],
      [{ sessionId: session.id, role: 'user', content: '   ' }, 'content'],
      [{ sessionId: session.id, role: 'user', content: 'nul\u0000' }, 'content'],
      [{ sessionId: 'not-a-uuid', role: 'user', content: 'x' }, 'sessionId'],
    ] as const) {
      const error = await expectHuddleError(append(input as AppendInput), InvalidInputError);
      expect(error.constraint.field).toBe(field);
    }
    await expectHuddleError(
      append({ sessionId: '00000000-0000-4000-8000-000000000000', role: 'user', content: 'x' }),
      NotFoundError,
    );
    expect(await storedMessages(session.id)).toEqual([]);
    await asActor(test.db, OPERATOR, (em, actor) => archivePlanVersion(em, actor, { planId }));
    await expectHuddleError(open(), ConflictError);
  });
});
