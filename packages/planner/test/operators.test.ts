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
import { asOperator, expectHuddleError, OPERATOR, usePlannerDatabase, useSqlClient } from './helpers.ts';

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
      asOperator(test.db, async () => 'ran', actorNamed('ops.nobody')),
      UnauthorizedError,
    );
    expect(error.message).toBe(
      'subject: planner operator ops.nobody does not exist; an admin adds operators (huddle planner operator add ops.nobody)',
    );
  });

  it('reads whether the operator is an admin from their row, never from the token', async () => {
    expect(
      await asOperator(test.db, async (_em, actor) => actor.isAdmin, { ...OPERATOR, isAdmin: true }),
    ).toBe(false);
    expect(await asOperator(test.db, async (_em, actor) => actor.isAdmin, ADMIN)).toBe(true);
  });

  it('lets an admin add, disable and enable operators, and nobody else; a disabled operator is refused at once', async () => {
    const byOperator: ((em: EntityManager, actor: PlannerActor) => Promise<unknown>)[] = [
      (em, actor) => listOperators(em, actor, { limit: 50 }),
      (em, actor) => addOperator(em, actor, { operator: 'ops.eve', isAdmin: true }),
      (em, actor) => disableOperator(em, actor, { operator: 'ops.admin' }),
      (em, actor) => enableOperator(em, actor, { operator: 'ops.admin' }),
    ];
    for (const call of byOperator) {
      const error = await expectHuddleError(asOperator(test.db, call), ForbiddenError);
      expect(error.message).toMatch(/^operator: only planner admins may /);
    }
    const added = await asOperator(
      test.db,
      (em, actor) => addOperator(em, actor, { operator: 'ops.bo', isAdmin: false }),
      ADMIN,
    );
    expect(added).toMatchObject({ name: 'ops.bo', isAdmin: false, createdBy: 'ops.admin', disabledAt: null });
    await expectHuddleError(
      asOperator(
        test.db,
        (em, actor) => addOperator(em, actor, { operator: 'ops.bo', isAdmin: true }),
        ADMIN,
      ),
      ConflictError,
    );
    expect(await asOperator(test.db, async (_em, actor) => actor.operator, actorNamed('ops.bo'))).toBe(
      'ops.bo',
    );

    const disabled = await asOperator(
      test.db,
      (em, actor) => disableOperator(em, actor, { operator: 'ops.bo' }),
      ADMIN,
    );
    expect(disabled.disabledAt).not.toBeNull();
    const refused = await expectHuddleError(
      asOperator(test.db, async () => 'ran', actorNamed('ops.bo')),
      UnauthorizedError,
    );
    expect(refused.message).toBe('subject: planner operator ops.bo is disabled');
    await expectHuddleError(
      asOperator(test.db, (em, actor) => disableOperator(em, actor, { operator: 'ops.bo' }), ADMIN),
      ConflictError,
    );
    await expectHuddleError(
      asOperator(test.db, (em, actor) => disableOperator(em, actor, { operator: 'ops.ghost' }), ADMIN),
      NotFoundError,
    );
    const self = await expectHuddleError(
      asOperator(test.db, (em, actor) => disableOperator(em, actor, { operator: 'ops.admin' }), ADMIN),
      ForbiddenError,
    );
    expect(self.message).toBe('operator: admins may not disable themselves; ask another admin');

    await asOperator(test.db, (em, actor) => enableOperator(em, actor, { operator: 'ops.bo' }), ADMIN);
    expect(await asOperator(test.db, async (_em, actor) => actor.operator, actorNamed('ops.bo'))).toBe(
      'ops.bo',
    );
    expect(await operatorRows()).toEqual([
      { name: 'ops.admin', is_admin: true, created_by: null, disabled: false },
      { name: 'ops.ann', is_admin: false, created_by: null, disabled: false },
      { name: 'ops.bo', is_admin: false, created_by: 'ops.admin', disabled: false },
    ]);
    const page = await asOperator(test.db, (em, actor) => listOperators(em, actor, { limit: 2 }), ADMIN);
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
    const plan = await asOperator(test.db, (em, actor) =>
      createPlan(em, actor, { repositoryId, name: 'Audit' }),
    );
    await asOperator(
      test.db,
      (em, actor) => openChatSession(em, actor, { planId: plan.id }),
      actorNamed('ops.bo'),
    );
    await asOperator(test.db, (em, actor) => archivePlanVersion(em, actor, { planId: plan.id }), ADMIN);
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
