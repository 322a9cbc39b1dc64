import { executePrepared } from '@huddle/db';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  artifactsWithStepInputSchema,
  chatSessionsMentioningInputSchema,
  plansTouchingFileInputSchema,
} from '../src/schemas.ts';
import { addArtifact } from '../src/services/artifacts.ts';
import { appendChatMessage, openChatSession } from '../src/services/chat.ts';
import { createPlan, newPlanVersion } from '../src/services/plans.ts';
import {
  artifactsWithStep,
  artifactsWithStepQuery,
  chatSessionsMentioning,
  chatSessionsMentioningQuery,
  plansTouchingFile,
  plansTouchingFileQuery,
  type SearchQuery,
} from '../src/services/search.ts';
import { CODE_CHANGES, STEPS } from './fixtures.ts';
import { asActor, inRequest, OPERATOR, usePlannerDatabase, useSqlClient } from './helpers.ts';

const test = usePlannerDatabase();
const postgres = useSqlClient(test);
const BULK_ARTIFACTS = 30_000;
const BULK_SESSIONS = 5_000;
const ids = { repository: '', otherRepository: '', plan: '', second: '', other: '' };

/**
 * Realistic scale in three statements: 300 plans with 30,000 code-change and step artifacts (about 1 KB
 * each) and 5,000 chat sessions of 8 messages, then `vacuum analyze` (as autovacuum would: a GIN index's
 * own statistics, which the planner's cost estimate reads, are kept by vacuum), so the planner chooses as it
 * would in use.
 */
async function bulkRows(repositoryId: string) {
  await postgres.client.query(
    `insert into planner.plans (repository_id, name, target_branch)
     select $1, 'bulk ' || i, 'main' from generate_series(1, 300) i`,
    [repositoryId],
  );
  await postgres.client.query(
    `with bulk as (select array_agg(id) as ids from planner.plans where name like 'bulk %')
     insert into planner.plan_artifacts (plan_id, artifact_type, content)
     select ids[g % 300 + 1],
            case when g % 3 = 0 then 'implementation_steps' else 'code_changes' end::planner.artifact_type,
            case when g % 3 = 0
              then jsonb_build_object('steps', jsonb_build_array(
                     jsonb_build_object('title', 'Bulk step ' || g, 'detail', repeat('Explain the step. ', 20),
                                        'files', jsonb_build_array('src/bulk/' || g || '.ts'))))
              else jsonb_build_object('changes', jsonb_build_array(
                     jsonb_build_object('path', 'src/bulk/' || g || '.ts', 'action', 'modify',
                                        'diff', repeat('+ a changed line of code\n', 40)),
                     jsonb_build_object('path', 'src/shared/util' || g % 50 || '.ts', 'action', 'modify',
                                        'diff', '@@ -1 +1 @@\n-a\n+b\n')))
            end
     from bulk, generate_series(1, $1::int) g`,
    [BULK_ARTIFACTS],
  );
  await postgres.client.query(
    `with bulk as (select array_agg(id) as ids from planner.plans where name like 'bulk %')
     insert into planner.chat_sessions (plan_id, messages)
     select ids[g % 300 + 1], (
       select jsonb_agg(jsonb_build_object('role', case when m % 2 = 0 then 'user' else 'assistant' end,
                                           'content', 'message ' || m || ' about topic' || g,
                                           'at', '2026-01-01T00:00:00.000Z',
                                           'terms', jsonb_build_array('message', 'about', 'topic' || g)))
       from generate_series(1, 8) m)
     from bulk, generate_series(1, $1::int) g`,
    [BULK_SESSIONS],
  );
  await postgres.client.query('vacuum analyze planner.plans, planner.plan_artifacts, planner.chat_sessions');
}

beforeAll(async () => {
  const repositories = await postgres.client.query<{ id: string }>(
    `insert into planner.repositories (name, path) values ('shop', '/r/shop'), ('other', '/r/other') returning id`,
  );
  ids.repository = repositories.rows[0]!.id;
  ids.otherRepository = repositories.rows[1]!.id;
  await bulkRows(ids.repository);
  const plan = await asActor(test.db, OPERATOR, (em, actor) =>
    createPlan(em, actor, { repositoryId: ids.repository, name: 'Saved cards' }),
  );
  for (const artifact of [STEPS, CODE_CHANGES]) {
    await asActor(test.db, OPERATOR, (em, actor) => addArtifact(em, actor, { planId: plan.id, artifact }));
  }
  const second = await asActor(test.db, OPERATOR, (em, actor) =>
    newPlanVersion(em, actor, { planId: plan.id }),
  );
  const other = await asActor(test.db, OPERATOR, (em, actor) =>
    createPlan(em, actor, { repositoryId: ids.otherRepository, name: 'Other checkout' }),
  );
  await asActor(test.db, OPERATOR, (em, actor) =>
    addArtifact(em, actor, { planId: other.id, artifact: CODE_CHANGES }),
  );
  Object.assign(ids, { plan: plan.id, second: second.id, other: other.id });
});

/** The index names in the plan PostgreSQL chooses for `query`. */
async function indexesUsed<Item>(query: SearchQuery<Item>): Promise<string[]> {
  // The service's statement as it runs it, with its `$n` parameters (unnamed: only its plan is read).
  const explain = { name: 'explain', sql: `explain (format json) ${query.statement.sql}` };
  const [row] = await inRequest(test.db, (em) =>
    executePrepared<{ 'QUERY PLAN': unknown }>(em, explain, query.params),
  );
  return [...JSON.stringify(row!['QUERY PLAN']).matchAll(/"Index Name":"([^"]+)"/g)].map(
    (match) => match[1]!,
  );
}

describe('content searches use the GIN indexes at scale', () => {
  it('plans touching a file: idx_plan_artifacts_content_gin', async () => {
    expect(
      await indexesUsed(
        plansTouchingFileQuery(plansTouchingFileInputSchema.parse({ path: 'src/checkout.ts' })),
      ),
    ).toContain('idx_plan_artifacts_content_gin');
    expect(
      await indexesUsed(
        plansTouchingFileQuery(
          plansTouchingFileInputSchema.parse({ path: 'src/bulk/7.ts', repositoryId: ids.repository }),
        ),
      ),
    ).toContain('idx_plan_artifacts_content_gin');
  });

  it('artifacts with a step: idx_plan_artifacts_content_gin', async () => {
    expect(
      await indexesUsed(
        artifactsWithStepQuery(artifactsWithStepInputSchema.parse({ title: 'Bulk step 300' })),
      ),
    ).toContain('idx_plan_artifacts_content_gin');
  });

  it('artifacts with steps of some words: idx_plan_artifacts_steps_search', async () => {
    for (const words of ['refactor', 'explain step', 'bulk -checkout']) {
      expect(
        await indexesUsed(artifactsWithStepQuery(artifactsWithStepInputSchema.parse({ words }))),
      ).toContain('idx_plan_artifacts_steps_search');
    }
  });

  it('chat sessions mentioning a term: idx_chat_messages_gin', async () => {
    expect(
      await indexesUsed(
        chatSessionsMentioningQuery(chatSessionsMentioningInputSchema.parse({ term: 'topic42' })),
      ),
    ).toContain('idx_chat_messages_gin');
    expect(
      await indexesUsed(
        chatSessionsMentioningQuery(
          chatSessionsMentioningInputSchema.parse({ term: 'topic42', role: 'user' }),
        ),
      ),
    ).toContain('idx_chat_messages_gin');
  });
});

describe('content searches return the right rows', () => {
  it('plans whose code changes touch a path, also as a rename’s previous path, by repository', async () => {
    const touching = await asActor(test.db, OPERATOR, (em, actor) =>
      plansTouchingFile(em, actor, plansTouchingFileInputSchema.parse({ path: 'src/checkout.ts' })),
    );
    expect(touching.items.map((plan) => plan.id)).toEqual([ids.other, ids.plan, ids.second]);
    const renamed = await asActor(test.db, OPERATOR, (em, actor) =>
      plansTouchingFile(
        em,
        actor,
        plansTouchingFileInputSchema.parse({ path: 'src/payment.ts', repositoryId: ids.repository }),
      ),
    );
    expect(renamed.items.map((plan) => [plan.name, plan.version])).toEqual([
      ['Saved cards', 1],
      ['Saved cards', 2],
    ]);
    const bulk = await asActor(test.db, OPERATOR, (em, actor) =>
      plansTouchingFile(em, actor, plansTouchingFileInputSchema.parse({ path: 'src/bulk/7.ts' })),
    );
    expect(bulk.items.map((plan) => plan.name)).toEqual(['bulk 8']);
    const none = await asActor(test.db, OPERATOR, (em, actor) =>
      plansTouchingFile(em, actor, plansTouchingFileInputSchema.parse({ path: 'src/nowhere.ts' })),
    );
    expect(none.items).toEqual([]);
    // A file only named by a step is not a code change.
    const stepFile = await asActor(test.db, OPERATOR, (em, actor) =>
      plansTouchingFile(em, actor, plansTouchingFileInputSchema.parse({ path: 'src/bulk/3.ts' })),
    );
    expect(stepFile.items).toEqual([]);
  });

  it('artifacts with a step of that exact title, typed, with their plan version', async () => {
    const found = await asActor(test.db, OPERATOR, (em, actor) =>
      artifactsWithStep(em, actor, artifactsWithStepInputSchema.parse({ title: 'Add card tokens table' })),
    );
    expect(found.items.map((match) => [match.plan.id, match.artifact.type])).toEqual([
      [ids.plan, 'implementation_steps'],
      [ids.second, 'implementation_steps'],
    ]);
    const bulk = await asActor(test.db, OPERATOR, (em, actor) =>
      artifactsWithStep(em, actor, artifactsWithStepInputSchema.parse({ title: 'Bulk step 300' })),
    );
    expect(bulk.items).toHaveLength(1);
    expect(bulk.items[0]!.artifact.content).toMatchObject({ steps: [{ title: 'Bulk step 300' }] });
  });

  it('artifacts with steps of some words in their titles or details, stemmed, not only an exact title', async () => {
    const refactoring = await asActor(test.db, OPERATOR, (em, actor) =>
      addArtifact(em, actor, {
        planId: ids.other,
        artifact: {
          type: 'implementation_steps',
          content: {
            steps: [
              { title: 'Refactoring the checkout flow', detail: 'Split pricing out.', files: [] },
              { title: 'Ship it', detail: 'Behind a flag, refactored callers first.', files: [] },
            ],
          },
        },
      }),
    );
    const search = (input: { title?: string; words?: string; repositoryId?: string }) =>
      asActor(test.db, OPERATOR, (em, actor) =>
        artifactsWithStep(em, actor, artifactsWithStepInputSchema.parse(input)),
      );
    const found = (page: Awaited<ReturnType<typeof search>>) => page.items.map((match) => match.artifact.id);
    // The exact title finds nothing for a word of it; the words find it.
    expect(found(await search({ title: 'Refactor' }))).toEqual([]);
    expect(found(await search({ words: 'Refactor' }))).toEqual([refactoring.id]);
    expect(found(await search({ words: 'refactors checkout' }))).toEqual([refactoring.id]);
    expect(found(await search({ words: 'pricing' }))).toEqual([refactoring.id]);
    expect(found(await search({ words: 'refactor -pricing' }))).toEqual([]);
    expect(found(await search({ words: 'refactor', repositoryId: ids.repository }))).toEqual([]);
    // Words of the fixture's steps, in both versions of "Saved cards": "tokens" stems to "token".
    const tokens = await search({ words: 'token migration' });
    expect(tokens.items.map((match) => match.plan.id)).toEqual([ids.plan, ids.second]);
    // Code changes are not steps, even when their diffs hold the words.
    expect((await search({ words: 'changed line code' })).items).toEqual([]);
    for (const input of [{}, { title: 'Ship it', words: 'ship' }]) {
      expect(artifactsWithStepInputSchema.safeParse(input).error?.issues[0]).toMatchObject({
        path: ['title'],
      });
    }
  });

  it('chat sessions mentioning a word, whatever its case, optionally by role', async () => {
    const session = await asActor(test.db, OPERATOR, (em, actor) =>
      openChatSession(em, actor, { planId: ids.second }),
    );
    await asActor(test.db, OPERATOR, (em, actor) =>
      appendChatMessage(em, actor, {
        sessionId: session.id,
        role: 'user',
        content: 'Should Tokenization use Stripe?',
      }),
    );
    const found = await asActor(test.db, OPERATOR, (em, actor) =>
      chatSessionsMentioning(em, actor, chatSessionsMentioningInputSchema.parse({ term: 'TOKENIZATION' })),
    );
    expect(found.items.map((match) => [match.id, match.plan.id, match.messageCount])).toEqual([
      [session.id, ids.second, 1],
    ]);
    const asAssistant = await asActor(test.db, OPERATOR, (em, actor) =>
      chatSessionsMentioning(
        em,
        actor,
        chatSessionsMentioningInputSchema.parse({ term: 'tokenization', role: 'assistant' }),
      ),
    );
    expect(asAssistant.items).toEqual([]);
    const bulk = await asActor(test.db, OPERATOR, (em, actor) =>
      chatSessionsMentioning(em, actor, chatSessionsMentioningInputSchema.parse({ term: 'topic42' })),
    );
    expect(bulk.items).toHaveLength(1);
    expect(bulk.items[0]!.messageCount).toBe(8);
    const partial = await asActor(test.db, OPERATOR, (em, actor) =>
      chatSessionsMentioning(em, actor, chatSessionsMentioningInputSchema.parse({ term: 'token' })),
    );
    expect(partial.items).toEqual([]);
  });
});
