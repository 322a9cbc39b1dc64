import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import {
  activatedPlanSchema,
  activatePlanVersion,
  addArtifact,
  appendChatMessage,
  appendedChatMessageSchema,
  artifactMatchSchema,
  artifactSchema,
  artifactsWithStep,
  chatMessagePageSchema,
  chatSessionMatchSchema,
  chatSessionSchema,
  chatSessionsMentioning,
  comparePlanVersions,
  createGitRepository,
  createPlan,
  exportPlan,
  getChatMessages,
  listPlanVersions,
  newPlanVersion,
  openChatSession,
  planComparisonSchema,
  planDetailSchema,
  planExportSchema,
  planMatchSchema,
  plansTouchingFile,
  planVersionSchema,
  registerRepository,
  repositorySchema,
} from '../src/index.ts';
import {
  artifactsWithStepInputSchema,
  chatMessagesInputSchema,
  chatSessionsMentioningInputSchema,
  listPlanVersionsInputSchema,
  plansTouchingFileInputSchema,
} from '../src/schemas.ts';
import { CODE_CHANGES, FEATURE_PLAN, STEPS } from './fixtures.ts';
import { asActor, OPERATOR, usePlannerDatabase } from './helpers.ts';

const test = usePlannerDatabase();
const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'planner-flow-')));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** Parses `value` with `schema` strictly enough to catch a drifted output: the router validates with these. */
function conforms<Schema extends z.ZodType>(schema: Schema, value: unknown): z.output<Schema> {
  const parsed = schema.safeParse(value);
  expect(parsed.error?.issues ?? []).toEqual([]);
  return parsed.data as z.output<Schema>;
}

describe('the public surface, end to end', () => {
  it('register → plan → version 2 → activate → chat → search → export and compare: outputs match their schemas', async () => {
    const dir = path.join(root, 'shop');
    await createGitRepository(dir, { defaultBranch: 'main', files: { 'src/checkout.ts': 'export {};\n' } });
    const repository = conforms(
      repositorySchema,
      await asActor(test.db, OPERATOR, (em, actor) =>
        registerRepository(em, actor, { path: dir }, { roots: [root] }),
      ),
    );
    const plan = conforms(
      planDetailSchema,
      await asActor(test.db, OPERATOR, (em, actor) =>
        createPlan(em, actor, { repositoryId: repository.id, name: 'Cards' }),
      ),
    );
    for (const artifact of [FEATURE_PLAN, STEPS, CODE_CHANGES]) {
      conforms(
        artifactSchema,
        await asActor(test.db, OPERATOR, (em, actor) =>
          addArtifact(em, actor, { planId: plan.id, artifact }),
        ),
      );
    }
    const second = conforms(
      planDetailSchema,
      await asActor(test.db, OPERATOR, (em, actor) => newPlanVersion(em, actor, { planId: plan.id })),
    );
    conforms(
      activatedPlanSchema,
      await asActor(test.db, OPERATOR, (em, actor) => activatePlanVersion(em, actor, { planId: second.id })),
    );
    const versions = await asActor(test.db, OPERATOR, (em, actor) =>
      listPlanVersions(
        em,
        actor,
        listPlanVersionsInputSchema.parse({ repositoryId: repository.id, name: 'Cards' }),
      ),
    );
    expect(versions.items.map((version) => conforms(planVersionSchema, version).status)).toEqual([
      'draft',
      'active',
    ]);

    const session = conforms(
      chatSessionSchema,
      await asActor(test.db, OPERATOR, (em, actor) => openChatSession(em, actor, { planId: second.id })),
    );
    conforms(
      appendedChatMessageSchema,
      await asActor(test.db, OPERATOR, (em, actor) =>
        appendChatMessage(em, actor, { sessionId: session.id, role: 'user', content: 'Checkout first?' }),
      ),
    );
    conforms(
      chatMessagePageSchema,
      await asActor(test.db, OPERATOR, (em, actor) =>
        getChatMessages(em, actor, chatMessagesInputSchema.parse({ sessionId: session.id })),
      ),
    );

    const touching = await asActor(test.db, OPERATOR, (em, actor) =>
      plansTouchingFile(em, actor, plansTouchingFileInputSchema.parse({ path: 'src/checkout.ts' })),
    );
    expect(touching.items.map((match) => conforms(planMatchSchema, match).version)).toEqual([1, 2]);
    const withStep = await asActor(test.db, OPERATOR, (em, actor) =>
      artifactsWithStep(em, actor, artifactsWithStepInputSchema.parse({ title: 'Add card tokens table' })),
    );
    expect(withStep.items.map((match) => conforms(artifactMatchSchema, match).plan.version)).toEqual([1, 2]);
    const mentioning = await asActor(test.db, OPERATOR, (em, actor) =>
      chatSessionsMentioning(em, actor, chatSessionsMentioningInputSchema.parse({ term: 'checkout' })),
    );
    expect(mentioning.items.map((match) => conforms(chatSessionMatchSchema, match).id)).toEqual([session.id]);

    const exported = conforms(
      planExportSchema,
      await asActor(test.db, OPERATOR, (em, actor) => exportPlan(em, actor, { planId: second.id })),
    );
    expect(exported.markdown).toMatch(/^# Cards — version 2 \(active\)\n/);
    const comparison = conforms(
      planComparisonSchema,
      await asActor(test.db, OPERATOR, (em, actor) =>
        comparePlanVersions(em, actor, { fromPlanId: plan.id, toPlanId: second.id }),
      ),
    );
    expect(comparison.changes).toEqual([]);
  });
});
