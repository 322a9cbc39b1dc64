import {
  ConflictError,
  type EntityManager,
  ForbiddenError,
  NotFoundError,
  UnauthorizedError,
} from '@huddle/db';
import { beforeAll, describe, expect, it } from 'vitest';
import type { PlannerActor } from '../src/actor.ts';
import { plannerOperations } from '../src/operations.ts';
import { openChatSession } from '../src/services/chat.ts';
import { addOperator, disableOperator, enableOperator, listOperators } from '../src/services/operators.ts';
import { archivePlanVersion, createPlan } from '../src/services/plans.ts';
import { asActor, expectHuddleError, OPERATOR, usePlannerDatabase, useSqlClient } from './helpers.ts';

const test = usePlannerDatabase();
const postgres = useSqlClient(test);
const ADMIN: PlannerActor = { module: 'planner', operator: 'ops.admin', isAdmin: false };
const actorNamed = (operator: string): PlannerActor => ({ module: 'planner', operator, isAdmin: false });
let repositoryId = '';

beforeAll(async () => {
  await postgres.client.query(`insert into planner.operators (name, is_admin) values ('ops.admin', true)`);
  const result = await postgres.client.query<{ id: string }>(
    `insert into planner.repositories (name, path) values ('shop', '/r/shop') returning id`,
  );
  repositoryId = result.rows[0]!.id;
});

const operatorRows = async () =>
  (
    await postgres.client.query(
      'select name, is_admin, created_by, disabled_at is not null as disabled from planner.operators order by name',
    )
  ).rows;

describe('planner operators', () => {
  it('refuses a request of an operator without a row, before any service runs', async () => {
    const error = await expectHuddleError(
      asActor(test.db, actorNamed('ops.nobody'), async () => 'ran'),
      UnauthorizedError,
    );
    expect(error.message).toBe(
      'subject: planner operator ops.nobody does not exist; an admin adds operators (huddle planner operator add ops.nobody)',
    );
  });

  it('reads whether the operator is an admin from their row, never from the token', async () => {
    expect(await asActor(test.db, { ...OPERATOR, isAdmin: true }, async (_em, actor) => actor.isAdmin)).toBe(
      false,
    );
    expect(await asActor(test.db, ADMIN, async (_em, actor) => actor.isAdmin)).toBe(true);
  });

  it('lets an admin add, disable and enable operators, and nobody else; a disabled operator is refused at once', async () => {
    const byOperator: ((em: EntityManager, actor: PlannerActor) => Promise<unknown>)[] = [
      (em, actor) => listOperators(em, actor, { limit: 50 }),
      (em, actor) => addOperator(em, actor, { operator: 'ops.eve', isAdmin: true }),
      (em, actor) => disableOperator(em, actor, { operator: 'ops.admin' }),
      (em, actor) => enableOperator(em, actor, { operator: 'ops.admin' }),
    ];
    for (const call of byOperator) {
      const error = await expectHuddleError(asActor(test.db, OPERATOR, call), ForbiddenError);
      expect(error.message).toMatch(/^operator: only planner admins may /);
    }
    const added = await asActor(test.db, ADMIN, (em, actor) =>
      addOperator(em, actor, { operator: 'ops.bo', isAdmin: false }),
    );
    expect(added).toMatchObject({ name: 'ops.bo', isAdmin: false, createdBy: 'ops.admin', disabledAt: null });
    await expectHuddleError(
      asActor(test.db, ADMIN, (em, actor) => addOperator(em, actor, { operator: 'ops.bo', isAdmin: true })),
      ConflictError,
    );
    expect(await asActor(test.db, actorNamed('ops.bo'), async (_em, actor) => actor.operator)).toBe('ops.bo');

    const disabled = await asActor(test.db, ADMIN, (em, actor) =>
      disableOperator(em, actor, { operator: 'ops.bo' }),
    );
    expect(disabled.disabledAt).not.toBeNull();
    const refused = await expectHuddleError(
      asActor(test.db, actorNamed('ops.bo'), async () => 'ran'),
      UnauthorizedError,
    );
    expect(refused.message).toBe('subject: planner operator ops.bo is disabled');
    await expectHuddleError(
      asActor(test.db, ADMIN, (em, actor) => disableOperator(em, actor, { operator: 'ops.bo' })),
      ConflictError,
    );
    await expectHuddleError(
      asActor(test.db, ADMIN, (em, actor) => disableOperator(em, actor, { operator: 'ops.ghost' })),
      NotFoundError,
    );
    const self = await expectHuddleError(
      asActor(test.db, ADMIN, (em, actor) => disableOperator(em, actor, { operator: 'ops.admin' })),
      ForbiddenError,
    );
    expect(self.message).toBe('operator: admins may not disable themselves; ask another admin');

    await asActor(test.db, ADMIN, (em, actor) => enableOperator(em, actor, { operator: 'ops.bo' }));
    expect(await asActor(test.db, actorNamed('ops.bo'), async (_em, actor) => actor.operator)).toBe('ops.bo');
    expect(await operatorRows()).toEqual([
      { name: 'ops.admin', is_admin: true, created_by: null, disabled: false },
      { name: 'ops.ann', is_admin: false, created_by: null, disabled: false },
      { name: 'ops.bo', is_admin: false, created_by: 'ops.admin', disabled: false },
    ]);
    const page = await asActor(test.db, ADMIN, (em, actor) => listOperators(em, actor, { limit: 2 }));
    expect(page.items.map((operator) => operator.name)).toEqual(['ops.admin', 'ops.ann']);
    expect(page.nextCursor).not.toBeNull();
  });

  it('refuses a malformed operator name at the edge, naming the field', async () => {
    const schema = plannerOperations.operators.add.input;
    expect(schema.safeParse({ operator: 'Ops.Upper' }).data).toEqual({
      operator: 'ops.upper',
      isAdmin: false,
    });
    for (const operator of ['', '1ops', 'ops bo', 'o'.repeat(64)]) {
      const parsed = schema.safeParse({ operator });
      expect(parsed.success, operator).toBe(false);
      expect(parsed.error?.issues[0]?.path, operator).toEqual(['operator']);
    }
  });

  it('records which operator acted on a plan version and a chat session', async () => {
    const plan = await asActor(test.db, OPERATOR, (em, actor) =>
      createPlan(em, actor, { repositoryId, name: 'Audit' }),
    );
    await asActor(test.db, actorNamed('ops.bo'), (em, actor) =>
      openChatSession(em, actor, { planId: plan.id }),
    );
    await asActor(test.db, ADMIN, (em, actor) => archivePlanVersion(em, actor, { planId: plan.id }));
    const planRow = await postgres.client.query(
      'select created_by, updated_by from planner.plans where id = $1',
      [plan.id],
    );
    expect(planRow.rows).toEqual([{ created_by: 'ops.ann', updated_by: 'ops.admin' }]);
    const chatRow = await postgres.client.query(
      'select created_by, updated_by from planner.chat_sessions where plan_id = $1',
      [plan.id],
    );
    expect(chatRow.rows).toEqual([{ created_by: 'ops.bo', updated_by: 'ops.bo' }]);
  });
});
