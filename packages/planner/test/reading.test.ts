import { InvalidInputError } from '@huddle/db';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ArtifactInput } from '../src/schemas.ts';
import { addArtifact, removeArtifact, replaceArtifact } from '../src/services/artifacts.ts';
import { createPlan, newPlanVersion } from '../src/services/plans.ts';
import { comparePlanVersions, exportPlan } from '../src/services/reading.ts';
import { CODE_CHANGES, FEATURE_PLAN, STEPS } from './fixtures.ts';
import { asActor, expectHuddleError, OPERATOR, usePlannerDatabase, useSqlClient } from './helpers.ts';

const test = usePlannerDatabase();
const postgres = useSqlClient(test);
let repositoryId = '';

beforeAll(async () => {
  const result = await postgres.client.query<{ id: string }>(
    `insert into planner.repositories (name, path) values ('shop', '/r/shop') returning id`,
  );
  repositoryId = result.rows[0]!.id;
});

async function planWith(name: string, artifacts: ArtifactInput[]) {
  const plan = await asActor(test.db, OPERATOR, (em, actor) =>
    createPlan(em, actor, { repositoryId, name, description: 'Customers keep a card on file.' }),
  );
  for (const artifact of artifacts) {
    await asActor(test.db, OPERATOR, (em, actor) => addArtifact(em, actor, { planId: plan.id, artifact }));
  }
  return plan;
}

describe('exportPlan', () => {
  it('renders the feature plan, numbered steps and code changes with their diffs as Markdown', async () => {
    const plan = await planWith('Saved cards', [CODE_CHANGES, STEPS, FEATURE_PLAN]);
    const { markdown } = await asActor(test.db, OPERATOR, (em, actor) =>
      exportPlan(em, actor, { planId: plan.id }),
    );
    expect(markdown).toBe(`# Saved cards — version 1 (draft)

Repository **shop** (\`/r/shop\`), target branch \`main\`.

Customers keep a card on file.

## Feature plan

Let customers pay with a saved card.

### Goals

- One-click checkout
- PCI scope unchanged

### Non-goals

- New payment providers

### Risks

- Token expiry

## Implementation steps

1. **Add card tokens table**
   Migration and entity.
   Files: \`src/db/cards.ts\`
2. **Checkout uses saved card**
   Offer the saved card first.
   Files: \`src/checkout.ts\`

## Code changes

### \`src/db/cards.ts\` (create)

\`\`\`diff
@@ -0,0 +1 @@
+export const cards = [];
\`\`\`

### \`src/checkout.ts\` (modify)

\`\`\`diff
@@ -1 +1 @@
-old
+new
\`\`\`

### \`src/payment.ts\` → \`src/pay.ts\` (rename)
`);
  });

  it('fences a diff that itself contains a code fence with a longer one', async () => {
    const plan = await planWith('Docs', [
      {
        type: 'code_changes',
        content: { changes: [{ path: 'README.md', action: 'modify', diff: '+```ts\n+x\n+```\n' }] },
      },
    ]);
    const { markdown } = await asActor(test.db, OPERATOR, (em, actor) =>
      exportPlan(em, actor, { planId: plan.id }),
    );
    expect(markdown).toContain('````diff\n+```ts\n+x\n+```\n````\n');
  });

  it('exports diffs of 400,000 separate backticks and of one 400,000-long run (work grows with the text, no deep stack)', async () => {
    const separate = '` '.repeat(400_000);
    const run = `+${'`'.repeat(400_000)}\n`;
    const plan = await planWith('Backticks', [
      {
        type: 'code_changes',
        content: {
          changes: [
            { path: 'a.md', action: 'modify', diff: separate },
            { path: 'b.md', action: 'modify', diff: run },
          ],
        },
      },
    ]);
    const { markdown } = await asActor(test.db, OPERATOR, (em, actor) =>
      exportPlan(em, actor, { planId: plan.id }),
    );
    expect(markdown).toContain(`\`\`\`diff\n${separate}\n\`\`\`\n`);
    expect(markdown).toContain(`${'`'.repeat(400_001)}diff\n${run}${'`'.repeat(400_001)}\n`);
  });
});

describe('comparePlanVersions', () => {
  it('says what changed between two versions’ artifacts, and nothing for a fresh copy', async () => {
    const plan = await planWith('Compared', [FEATURE_PLAN, STEPS, CODE_CHANGES]);
    const second = await asActor(test.db, OPERATOR, (em, actor) =>
      newPlanVersion(em, actor, { planId: plan.id }),
    );
    const copy = await asActor(test.db, OPERATOR, (em, actor) =>
      comparePlanVersions(em, actor, { fromPlanId: plan.id, toPlanId: second.id }),
    );
    expect(copy.changes).toEqual([]);
    expect(copy.steps).toEqual({ added: [], removed: [], changed: [], reordered: [] });
    expect(copy.files).toEqual({ added: [], removed: [], changed: [] });

    const [feature, steps, code] = second.artifacts;
    await asActor(test.db, OPERATOR, (em, actor) =>
      replaceArtifact(em, actor, {
        artifactId: feature!.id,
        artifact: {
          type: 'feature_plan',
          content: { ...FEATURE_PLAN.content, goals: ['One-click checkout', 'Works offline'], risks: [] },
        } as ArtifactInput,
      }),
    );
    await asActor(test.db, OPERATOR, (em, actor) =>
      replaceArtifact(em, actor, {
        artifactId: steps!.id,
        artifact: {
          type: 'implementation_steps',
          content: {
            steps: [
              {
                title: 'Checkout uses saved card',
                detail: 'Offer it first, always.',
                files: ['src/checkout.ts'],
              },
              { title: 'Add card tokens table', detail: 'Migration and entity.', files: ['src/db/cards.ts'] },
              { title: 'Document it', detail: '', files: [] },
            ],
          },
        },
      }),
    );
    await asActor(test.db, OPERATOR, (em, actor) => removeArtifact(em, actor, { artifactId: code!.id }));
    await asActor(test.db, OPERATOR, (em, actor) =>
      addArtifact(em, actor, {
        planId: second.id,
        artifact: {
          type: 'code_changes',
          content: {
            changes: [
              { path: 'src/checkout.ts', action: 'modify', diff: '@@ -1 +1 @@\n-old\n+newer\n' },
              {
                path: 'src/db/cards.ts',
                action: 'create',
                diff: '@@ -0,0 +1 @@\n+export const cards = [];\n',
              },
              { path: 'docs/cards.md', action: 'create', diff: '+# Cards\n' },
            ],
          },
        },
      }),
    );

    const comparison = await asActor(test.db, OPERATOR, (em, actor) =>
      comparePlanVersions(em, actor, { fromPlanId: plan.id, toPlanId: second.id }),
    );
    expect(comparison.from.version).toBe(1);
    expect(comparison.to.version).toBe(2);
    expect(comparison.changes).toEqual([
      {
        type: 'feature_plan',
        position: 0,
        change: 'modified',
        details: [
          'goal added: Works offline',
          'goal removed: PCI scope unchanged',
          'risk removed: Token expiry',
        ],
      },
      {
        type: 'implementation_steps',
        position: 0,
        change: 'modified',
        details: [
          'step added: Document it',
          'step changed: Checkout uses saved card',
          'step moved: Checkout uses saved card',
        ],
      },
      {
        type: 'code_changes',
        position: 0,
        change: 'modified',
        details: ['file added: docs/cards.md', 'file removed: src/pay.ts', 'src/checkout.ts: diff changed'],
      },
    ]);
    // The version as a whole, each step and file named.
    expect(comparison.steps).toEqual({
      added: ['Document it'],
      removed: [],
      changed: ['Checkout uses saved card'],
      reordered: ['Checkout uses saved card'],
    });
    expect(comparison.files).toEqual({
      added: ['docs/cards.md'],
      removed: ['src/pay.ts'],
      changed: ['src/checkout.ts'],
    });
  });

  it('reports added and removed artifacts, and refuses versions of different plans', async () => {
    const plan = await planWith('Growing', [FEATURE_PLAN]);
    const second = await asActor(test.db, OPERATOR, (em, actor) =>
      newPlanVersion(em, actor, { planId: plan.id }),
    );
    await asActor(test.db, OPERATOR, (em, actor) =>
      addArtifact(em, actor, { planId: second.id, artifact: STEPS }),
    );
    const comparison = await asActor(test.db, OPERATOR, (em, actor) =>
      comparePlanVersions(em, actor, { fromPlanId: plan.id, toPlanId: second.id }),
    );
    const named = ['Add card tokens table', 'Checkout uses saved card'];
    expect(comparison.changes).toEqual([
      {
        type: 'implementation_steps',
        position: 0,
        change: 'added',
        details: named.map((title) => `step added: ${title}`),
      },
    ]);
    expect(comparison.steps).toEqual({ added: named, removed: [], changed: [], reordered: [] });
    const backwards = await asActor(test.db, OPERATOR, (em, actor) =>
      comparePlanVersions(em, actor, { fromPlanId: second.id, toPlanId: plan.id }),
    );
    expect(backwards.changes).toEqual([
      {
        type: 'implementation_steps',
        position: 0,
        change: 'removed',
        details: named.map((title) => `step removed: ${title}`),
      },
    ]);
    expect(backwards.steps.removed).toEqual(named);
    // Steps across artifacts, moved within the version: only the one that moved is named.
    const third = await asActor(test.db, OPERATOR, (em, actor) =>
      newPlanVersion(em, actor, { planId: second.id }),
    );
    const [, reversed] = third.artifacts;
    await asActor(test.db, OPERATOR, (em, actor) =>
      replaceArtifact(em, actor, {
        artifactId: reversed!.id,
        artifact: {
          type: 'implementation_steps',
          content: {
            steps: [
              { title: 'First', detail: '', files: [] },
              {
                title: 'Checkout uses saved card',
                detail: 'Offer the saved card first.',
                files: ['src/checkout.ts'],
              },
              { title: 'Add card tokens table', detail: 'Migration and entity.', files: ['src/db/cards.ts'] },
            ],
          },
        } as ArtifactInput,
      }),
    );
    const moved = await asActor(test.db, OPERATOR, (em, actor) =>
      comparePlanVersions(em, actor, { fromPlanId: second.id, toPlanId: third.id }),
    );
    expect(moved.steps).toEqual({
      added: ['First'],
      removed: [],
      changed: [],
      reordered: ['Checkout uses saved card'],
    });
    const other = await planWith('Other', []);
    const error = await expectHuddleError(
      asActor(test.db, OPERATOR, (em, actor) =>
        comparePlanVersions(em, actor, { fromPlanId: plan.id, toPlanId: other.id }),
      ),
      InvalidInputError,
    );
    expect(error.constraint.field).toBe('toPlanId');
  });
});
