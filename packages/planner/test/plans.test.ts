import { ConflictError, type EntityManager, InvalidInputError, NotFoundError } from '@huddle/db';
import { beforeAll, describe, expect, it } from 'vitest';
import { plannerOperations } from '../src/operations.ts';
import type { ArtifactInput } from '../src/schemas.ts';
import { listPlansInputSchema, listPlanVersionsInputSchema } from '../src/schemas.ts';
import { removeArtifact, replaceArtifact } from '../src/services/artifacts.ts';
import {
  activatePlanVersion,
  archivePlanVersion,
  completePlanVersion,
  createPlan,
  getLatestPlanVersion,
  getPlanVersion,
  listPlans,
  listPlanVersions,
  newPlanVersion,
  updatePlanVersion,
} from '../src/services/plans.ts';
import { CODE_CHANGES, FEATURE_PLAN, STEPS } from './fixtures.ts';
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
let repositoryId = '';

beforeAll(async () => {
  const result = await postgres.client.query<{ id: string }>(
    `insert into planner.repositories (name, path, default_branch) values ('shop', '/r/shop', 'trunk') returning id`,
  );
  repositoryId = result.rows[0]!.id;
});

const create = (name: string, extra: { description?: string; targetBranch?: string } = {}) =>
  asActor(test.db, OPERATOR, (em, actor) => createPlan(em, actor, { repositoryId, name, ...extra }));
/** Through the edge, which validates the content by its type. */
const add = (planId: string, artifact: ArtifactInput) =>
  call(test.db, OPERATOR, plannerOperations.artifacts.add, { planId, artifact });
const newVersion = (planId: string) =>
  asActor(test.db, OPERATOR, (em, actor) => newPlanVersion(em, actor, { planId }));
const activate = (planId: string) =>
  asActor(test.db, OPERATOR, (em, actor) => activatePlanVersion(em, actor, { planId }));

async function planWithArtifacts(name: string) {
  const plan = await create(name, { description: 'Saved cards' });
  for (const artifact of [FEATURE_PLAN, STEPS, CODE_CHANGES]) await add(plan.id, artifact);
  return plan;
}

async function storedVersions(name: string) {
  const result = await postgres.client.query<{ version: number; status: string }>(
    'select version, status::text from planner.plans where repository_id = $1 and name = $2 order by version',
    [repositoryId, name],
  );
  return result.rows;
}

describe('creating plans and artifacts', () => {
  it('creates version 1 as a draft on the default branch, recording the operator', async () => {
    const plan = await create('Saved cards');
    expect(plan).toMatchObject({
      repositoryId,
      name: 'Saved cards',
      version: 1,
      status: 'draft',
      targetBranch: 'trunk',
      createdBy: OPERATOR.operator,
      artifacts: [],
    });
    const duplicate = await expectHuddleError(create('Saved cards'), ConflictError);
    expect(duplicate.constraint.field).toBe('name');
    await expectHuddleError(
      asActor(test.db, OPERATOR, (em, actor) =>
        createPlan(em, actor, { repositoryId: '00000000-0000-4000-8000-000000000000', name: 'x' }),
      ),
      NotFoundError,
    );
  });

  it('adds artifacts of each type, validated per type and returned typed', async () => {
    const plan = await planWithArtifacts('Typed');
    const detail = await asActor(test.db, OPERATOR, (em, actor) =>
      getPlanVersion(em, actor, { planId: plan.id }),
    );
    expect(detail.artifacts.map((artifact) => [artifact.type, artifact.content])).toEqual([
      ['feature_plan', FEATURE_PLAN.content],
      ['implementation_steps', STEPS.content],
      ['code_changes', CODE_CHANGES.content],
    ]);
    const stored = await postgres.client.query<{ artifact_type: string; content: unknown }>(
      'select artifact_type::text, content from planner.plan_artifacts where plan_id = $1 order by plan_artifacts.artifact_type',
      [plan.id],
    );
    expect(stored.rows).toHaveLength(3);
    expect(stored.rows[0]).toEqual({ artifact_type: 'feature_plan', content: FEATURE_PLAN.content });
  });

  it.each([
    [
      { type: 'feature_plan', content: { summary: '', goals: [], nonGoals: [], risks: [] } },
      'artifact.content.summary',
    ],
    [{ type: 'implementation_steps', content: { steps: [] } }, 'artifact.content.steps'],
    [
      { type: 'code_changes', content: { changes: [{ path: 'a.ts', action: 'move', diff: '' }] } },
      'artifact.content.changes.0.action',
    ],
    [
      { type: 'code_changes', content: { changes: [{ path: 'a.ts', action: 'rename', diff: '' }] } },
      'artifact.content.changes.0.previousPath',
    ],
    [
      { type: 'code_changes', content: { changes: [{ path: '../etc/passwd', action: 'modify', diff: '' }] } },
      'artifact.content.changes.0.path',
    ],
    // A diff must be the unified diff of one file: refused as written, not only when a check applies it.
    [
      {
        type: 'code_changes',
        content: { changes: [{ path: 'nowhere.ts', action: 'create', diff: 'garbage' }] },
      },
      'artifact.content.changes.0.diff',
    ],
    [
      {
        type: 'code_changes',
        content: { changes: [{ path: 'a.ts', action: 'modify', diff: '@@ -1,2 +1 @@\n-a\n' }] },
      },
      'artifact.content.changes.0.diff',
    ],
    [
      { type: 'code_changes', content: { changes: [{ path: 'a.ts', action: 'modify', diff: '' }] } },
      'artifact.content.changes.0.diff',
    ],
    [{ type: 'test_plan', content: {} }, 'artifact.type'],
  ])('refuses bad content by field: %j → %s', async (artifact, field) => {
    const plan = await create(`Bad ${field} ${JSON.stringify(artifact.content)}`.slice(0, 255));
    const error = await expectHuddleError(add(plan.id, artifact as ArtifactInput), InvalidInputError);
    expect(error.constraint.field).toBe(field);
    const count = await postgres.client.query('select 1 from planner.plan_artifacts where plan_id = $1', [
      plan.id,
    ]);
    expect(count.rows).toEqual([]);
  });

  it('replaces and removes artifacts of a draft; a replacement keeps its type', async () => {
    const plan = await create('Editable');
    const artifact = await add(plan.id, FEATURE_PLAN);
    const replaced = await asActor(test.db, OPERATOR, (em, actor) =>
      replaceArtifact(em, actor, {
        artifactId: artifact.id,
        artifact: { type: 'feature_plan', content: { summary: 'New', goals: [], nonGoals: [], risks: [] } },
      }),
    );
    expect(replaced.content).toEqual({ summary: 'New', goals: [], nonGoals: [], risks: [] });
    const wrongType = await expectHuddleError(
      asActor(test.db, OPERATOR, (em, actor) =>
        replaceArtifact(em, actor, { artifactId: artifact.id, artifact: STEPS }),
      ),
      InvalidInputError,
    );
    expect(wrongType.constraint.field).toBe('artifact.type');
    await asActor(test.db, OPERATOR, (em, actor) => removeArtifact(em, actor, { artifactId: artifact.id }));
    const left = await postgres.client.query('select 1 from planner.plan_artifacts where plan_id = $1', [
      plan.id,
    ]);
    expect(left.rows).toEqual([]);
  });
});

describe('reading plans', () => {
  it('reads a version back as it was written: artifacts by type, then in the order they were written', async () => {
    const plan = await create('Read back');
    const secondPlan: ArtifactInput = {
      type: 'feature_plan',
      content: { summary: 'Second thoughts', goals: [], nonGoals: [], risks: [] },
    };
    const [changes, first, steps, second] = [
      await add(plan.id, CODE_CHANGES),
      await add(plan.id, FEATURE_PLAN),
      await add(plan.id, STEPS),
      await add(plan.id, secondPlan),
    ];
    const updated = await asActor(test.db, OPERATOR, (em, actor) =>
      updatePlanVersion(em, actor, { planId: plan.id, targetBranch: 'feature/read-back' }),
    );
    const expected = { ...updated, artifacts: [first, second, steps, changes] };
    expect(
      await asActor(test.db, OPERATOR, (em, actor) => getPlanVersion(em, actor, { planId: plan.id })),
    ).toEqual(expected);
    expect(
      await asActor(test.db, OPERATOR, (em, actor) =>
        getLatestPlanVersion(em, actor, { repositoryId, name: 'Read back' }),
      ),
    ).toEqual(expected);
  });

  it('reads archived versions too; an unknown id, name or repository is NOT_FOUND naming its field', async () => {
    const plan = await create('Put away');
    await asActor(test.db, OPERATOR, (em, actor) => archivePlanVersion(em, actor, { planId: plan.id }));
    const archived = await asActor(test.db, OPERATOR, (em, actor) =>
      getPlanVersion(em, actor, { planId: plan.id }),
    );
    expect(archived).toMatchObject({ id: plan.id, status: 'archived', artifacts: [] });
    const unknown = '00000000-0000-4000-8000-000000000000';
    const unknownName = { repositoryId, name: 'Nope' };
    const missing: [field: string, work: (em: EntityManager) => Promise<unknown>][] = [
      ['planId', (em) => getPlanVersion(em, OPERATOR, { planId: unknown })],
      ['name', (em) => getLatestPlanVersion(em, OPERATOR, unknownName)],
      ['name', (em) => listPlanVersions(em, OPERATOR, listPlanVersionsInputSchema.parse(unknownName))],
      [
        'repositoryId',
        (em) => listPlans(em, OPERATOR, listPlansInputSchema.parse({ repositoryId: unknown })),
      ],
    ];
    for (const [field, work] of missing) {
      const error = await expectHuddleError(asActor(test.db, OPERATOR, work), NotFoundError);
      expect(error.constraint.field).toBe(field);
    }
  });
});

describe('versions', () => {
  it('a new version copies the latest version and all its artifacts, equal by content', async () => {
    const plan = await planWithArtifacts('Copied');
    const second = await newVersion(plan.id);
    expect(second).toMatchObject({
      name: 'Copied',
      version: 2,
      status: 'draft',
      description: 'Saved cards',
      targetBranch: 'trunk',
      createdBy: OPERATOR.operator,
    });
    const first = await asActor(test.db, OPERATOR, (em, actor) =>
      getPlanVersion(em, actor, { planId: plan.id }),
    );
    const strip = (detail: typeof first) =>
      detail.artifacts.map(({ type, content, createdAt }) => ({ type, content, createdAt }));
    expect(strip(second)).toEqual(strip(first));
    const firstIds = first.artifacts.map((artifact) => artifact.id);
    expect(second.artifacts.filter((artifact) => firstIds.includes(artifact.id))).toEqual([]);

    // Editing version 2 leaves version 1 as it was; version 3 copies version 2 (the latest), from any version.
    await add(second.id, FEATURE_PLAN);
    const third = await newVersion(plan.id);
    expect(third.version).toBe(3);
    expect(third.artifacts).toHaveLength(4);
    expect(
      (await asActor(test.db, OPERATOR, (em, actor) => getPlanVersion(em, actor, { planId: plan.id })))
        .artifacts,
    ).toHaveLength(3);

    const versions = await asActor(test.db, OPERATOR, (em, actor) =>
      listPlanVersions(em, actor, listPlanVersionsInputSchema.parse({ repositoryId, name: 'Copied' })),
    );
    expect(versions.items.map((version) => version.version)).toEqual([1, 2, 3]);
    const latest = await asActor(test.db, OPERATOR, (em, actor) =>
      getLatestPlanVersion(em, actor, { repositoryId, name: 'Copied' }),
    );
    expect(latest.id).toBe(third.id);
  });

  it('concurrent new-version requests each get their own version, never a duplicate', async () => {
    const plan = await planWithArtifacts('Raced');
    const { results, errors } = await settleAll(Array.from({ length: 8 }, () => () => newVersion(plan.id)));
    // The plan lock makes them queue: every request gets its own version (a ConflictError would be clean too).
    expect(errors).toEqual([]);
    expect(results).toHaveLength(8);
    const versions = await storedVersions('Raced');
    expect(versions.map((row) => row.version)).toEqual(
      Array.from({ length: results.length + 1 }, (_, index) => index + 1),
    );
    expect(new Set(results.map((result) => result.version)).size).toBe(results.length);
    const copies = await postgres.client.query<{ artifacts: string }>(
      `select count(a.id) as artifacts from planner.plans p left join planner.plan_artifacts a on a.plan_id = p.id
       where p.repository_id = $1 and p.name = 'Raced' group by p.id`,
      [repositoryId],
    );
    expect(new Set(copies.rows.map((row) => row.artifacts))).toEqual(new Set(['3']));
  });

  it('lists each plan as its latest version, optionally by status', async () => {
    const plans = await asActor(test.db, OPERATOR, (em, actor) =>
      listPlans(em, actor, listPlansInputSchema.parse({ repositoryId })),
    );
    const copied = plans.items.find((plan) => plan.name === 'Copied');
    expect(copied?.version).toBe(3);
    expect(new Set(plans.items.map((plan) => plan.name)).size).toBe(plans.items.length);
    const latest = await create('Listed');
    await activate(latest.id);
    const active = await asActor(test.db, OPERATOR, (em, actor) =>
      listPlans(em, actor, listPlansInputSchema.parse({ repositoryId, status: 'active' })),
    );
    expect(active.items.map((plan) => plan.id)).toEqual([latest.id]);
    const completed = await asActor(test.db, OPERATOR, (em, actor) =>
      listPlans(em, actor, listPlansInputSchema.parse({ repositoryId, status: 'completed' })),
    );
    expect(completed.items).toEqual([]);
  });

  it('lists plans by name, each exactly as created; a repository without plans lists none', async () => {
    const docs = await postgres.client.query<{ id: string }>(
      `insert into planner.repositories (name, path) values ('docs', '/r/docs') returning id`,
    );
    const docsId = docs.rows[0]!.id;
    const list = () =>
      asActor(test.db, OPERATOR, (em, actor) =>
        listPlans(em, actor, listPlansInputSchema.parse({ repositoryId: docsId })),
      );
    expect(await list()).toEqual({ items: [], nextCursor: null });
    const created = [];
    for (const name of ['beta', 'alpha', 'gamma']) {
      const { artifacts, ...version } = await asActor(test.db, OPERATOR, (em, actor) =>
        createPlan(em, actor, { repositoryId: docsId, name }),
      );
      created.push(version);
    }
    expect(await list()).toEqual({ items: [created[1], created[0], created[2]], nextCursor: null });
  });
});

describe('lifecycle', () => {
  it('draft → active → completed → archived; activating a draft archives the active version', async () => {
    const plan = await planWithArtifacts('Lifecycle');
    const second = await newVersion(plan.id);
    const first = await activate(plan.id);
    expect(first).toMatchObject({ activated: { id: plan.id, status: 'active' }, superseded: null });

    const refused = await expectHuddleError(add(plan.id, FEATURE_PLAN), ConflictError);
    expect(refused.message).toMatch(/is active; only a draft version can have artifacts added/);
    // Replacing or removing one names what the caller sent: the artifact, not its version.
    const [artifact] = (
      await asActor(test.db, OPERATOR, (em, actor) => getPlanVersion(em, actor, { planId: plan.id }))
    ).artifacts;
    const replaced = await expectHuddleError(
      call(test.db, OPERATOR, plannerOperations.artifacts.replace, {
        artifactId: artifact!.id,
        artifact: FEATURE_PLAN,
      }),
      ConflictError,
    );
    const removed = await expectHuddleError(
      call(test.db, OPERATOR, plannerOperations.artifacts.remove, { artifactId: artifact!.id }),
      ConflictError,
    );
    const readOnly =
      'artifactId: version 1 of plan "Lifecycle" is active; only a draft version can have artifacts';
    expect([replaced, removed].map((error) => [error.constraint.field, error.message])).toEqual([
      ['artifactId', `${readOnly} replaced`],
      ['artifactId', `${readOnly} removed`],
    ]);
    await expectHuddleError(
      asActor(test.db, OPERATOR, (em, actor) =>
        updatePlanVersion(em, actor, { planId: plan.id, description: 'x' }),
      ),
      ConflictError,
    );
    await expectHuddleError(activate(plan.id), ConflictError);

    const swapped = await activate(second.id);
    expect(swapped).toMatchObject({
      activated: { id: second.id, status: 'active' },
      superseded: { id: plan.id, status: 'archived' },
    });
    await expectHuddleError(
      asActor(test.db, OPERATOR, (em, actor) => archivePlanVersion(em, actor, { planId: second.id })),
      ConflictError,
    );
    const completed = await asActor(test.db, OPERATOR, (em, actor) =>
      completePlanVersion(em, actor, { planId: second.id }),
    );
    expect(completed.status).toBe('completed');
    await expectHuddleError(
      asActor(test.db, OPERATOR, (em, actor) => completePlanVersion(em, actor, { planId: second.id })),
      ConflictError,
    );
    const archived = await asActor(test.db, OPERATOR, (em, actor) =>
      archivePlanVersion(em, actor, { planId: second.id }),
    );
    expect(archived.status).toBe('archived');
    expect(await storedVersions('Lifecycle')).toEqual([
      { version: 1, status: 'archived' },
      { version: 2, status: 'archived' },
    ]);
  });

  it('concurrent activations of different drafts leave exactly one active version', async () => {
    const plan = await planWithArtifacts('Contested');
    const drafts = [plan, await newVersion(plan.id), await newVersion(plan.id), await newVersion(plan.id)];
    const { errors } = await settleAll(drafts.map((draft) => () => activate(draft.id)));
    for (const error of errors) expect(error).toBeInstanceOf(ConflictError);
    const statuses = (await storedVersions('Contested')).map((row) => row.status);
    expect(statuses.filter((status) => status === 'active')).toHaveLength(1);
    expect(statuses.filter((status) => status === 'draft')).toHaveLength(errors.length);
  });

  it('edits a draft’s description and target branch', async () => {
    const plan = await create('Described');
    const updated = await asActor(test.db, OPERATOR, (em, actor) =>
      updatePlanVersion(em, actor, {
        planId: plan.id,
        description: 'Now described',
        targetBranch: 'feature/x',
      }),
    );
    expect(updated).toMatchObject({ description: 'Now described', targetBranch: 'feature/x' });
    expect(Date.parse(updated.updatedAt)).toBeGreaterThanOrEqual(Date.parse(plan.updatedAt));
  });
});
