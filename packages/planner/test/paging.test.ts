import { InvalidInputError, parseInput } from '@huddle/db';
import { MAX_PAGE_SIZE } from '@huddle/db/zod';
import { beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import {
  artifactsWithStepInputSchema,
  chatSessionsMentioningInputSchema,
  listChatSessionsInputSchema,
  listPlansInputSchema,
  listPlanVersionsInputSchema,
  listRepositoriesInputSchema,
  plansTouchingFileInputSchema,
} from '../src/schemas.ts';
import { addArtifact } from '../src/services/artifacts.ts';
import { appendChatMessage, listChatSessions, openChatSession } from '../src/services/chat.ts';
import { createPlan, listPlans, listPlanVersions, newPlanVersion } from '../src/services/plans.ts';
import { listRepositories } from '../src/services/repositories.ts';
import { artifactsWithStep, chatSessionsMentioning, plansTouchingFile } from '../src/services/search.ts';
import { CODE_CHANGES, STEPS } from './fixtures.ts';
import { asActor, OPERATOR, usePlannerDatabase, useSqlClient } from './helpers.ts';

const test = usePlannerDatabase();
const postgres = useSqlClient(test);
let repositoryId = '';
let planId = '';

beforeAll(async () => {
  // Names that tie (`shop` twice) and sessions created in one transaction (one created_at): the keys must
  // still order every row exactly once.
  const repositories = await postgres.client.query<{ id: string }>(
    `insert into planner.repositories (name, path)
     select case when i <= 2 then 'shop' else 'repo ' || i end, '/r/' || i from generate_series(1, 5) i
     returning id`,
  );
  repositoryId = repositories.rows[0]!.id;
  for (const name of ['Cards', 'Alerts', 'Billing', 'Docs', 'Exports']) {
    const plan = await asActor(test.db, OPERATOR, (em, actor) =>
      createPlan(em, actor, { repositoryId, name }),
    );
    for (const artifact of [STEPS, CODE_CHANGES]) {
      await asActor(test.db, OPERATOR, (em, actor) => addArtifact(em, actor, { planId: plan.id, artifact }));
    }
    if (name === 'Cards') planId = plan.id;
  }
  for (let version = 2; version <= 5; version++) {
    await asActor(test.db, OPERATOR, (em, actor) => newPlanVersion(em, actor, { planId }));
  }
  await postgres.client.query(
    `insert into planner.chat_sessions (plan_id, messages)
     select $1, '[{"role":"user","content":"card","terms":["card"],"at":"2026-01-01T00:00:00.000Z"}]'
     from generate_series(1, 5)`,
    [planId],
  );
  const session = await asActor(test.db, OPERATOR, (em, actor) => openChatSession(em, actor, { planId }));
  await asActor(test.db, OPERATOR, (em, actor) =>
    appendChatMessage(em, actor, { sessionId: session.id, role: 'user', content: 'A card again' }),
  );
});

/** Every item of a list, read `size` at a time through its cursors, and the number of pages it took. */
async function walk<Schema extends z.ZodType, Item>(
  schema: Schema,
  input: Record<string, unknown>,
  list: (parsed: z.output<Schema>) => Promise<{ items: Item[]; nextCursor: string | null }>,
  size: number,
): Promise<{ items: Item[]; pages: number }> {
  const items: Item[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await list(parseInput(schema, { ...input, limit: size, ...(cursor && { cursor }) }));
    expect(page.items.length).toBeLessThanOrEqual(size);
    items.push(...page.items);
    cursor = page.nextCursor ?? undefined;
    pages++;
  } while (cursor);
  return { items, pages };
}

const as =
  <Parsed, Result>(
    work: (
      em: Parameters<Parameters<typeof asActor>[2]>[0],
      actor: Parameters<Parameters<typeof asActor>[2]>[1],
      input: Parsed,
    ) => Promise<Result>,
  ) =>
  (input: Parsed) =>
    asActor(test.db, OPERATOR, (em, actor) => work(em, actor, input));

describe('every planner list is paged by a keyset cursor', () => {
  it.each([
    ['repositories', listRepositoriesInputSchema, {}, as(listRepositories), 5],
    ['plans', listPlansInputSchema, () => ({ repositoryId }), as(listPlans), 5],
    [
      'versions',
      listPlanVersionsInputSchema,
      () => ({ repositoryId, name: 'Cards' }),
      as(listPlanVersions),
      5,
    ],
    ['chat sessions', listChatSessionsInputSchema, () => ({ planId }), as(listChatSessions), 6],
    [
      'plans touching a file',
      plansTouchingFileInputSchema,
      { path: 'src/checkout.ts' },
      as(plansTouchingFile),
      9,
    ],
    [
      'artifacts with a step',
      artifactsWithStepInputSchema,
      { title: 'Add card tokens table' },
      as(artifactsWithStep),
      9,
    ],
    [
      'chat sessions mentioning',
      chatSessionsMentioningInputSchema,
      { term: 'card' },
      as(chatSessionsMentioning),
      6,
    ],
  ] as const)(
    '%s: pages of 2 hold every item once, in the order of one page of them all',
    async (_list, schema, given, list, count) => {
      const input = typeof given === 'function' ? given() : given;
      // Each row pairs a schema with its own service.
      const read = list as unknown as (
        parsed: unknown,
      ) => Promise<{ items: unknown[]; nextCursor: string | null }>;
      const whole = await walk(schema, input, read, MAX_PAGE_SIZE);
      expect(whole.pages).toBe(1);
      expect(whole.items).toHaveLength(count);
      const paged = await walk(schema, input, read, 2);
      expect(paged.pages).toBe(Math.ceil(count / 2));
      expect(paged.items).toEqual(whole.items);
    },
  );

  it('refuses a page size over the bound and a cursor it did not make, by field', () => {
    expect(() => parseInput(listPlansInputSchema, { repositoryId, limit: MAX_PAGE_SIZE + 1 })).toThrow(
      new InvalidInputError(`limit: Too big: expected number to be <=${MAX_PAGE_SIZE}`, { field: 'limit' }),
    );
    expect(() => parseInput(listPlansInputSchema, { repositoryId, cursor: 'WyJ4Il0' + 'x' })).toThrow(
      'cursor: must be a nextCursor this list returned',
    );
  });
});
