import {
  ConflictError,
  type EntityManager,
  executePrepared,
  ForbiddenError,
  isoTimestampSql,
  NotFoundError,
  outputColumnsSql,
  preparedStatement,
  revokeSessions,
} from '@huddle/db';
import { rowsToPage } from '@huddle/db/zod';
import type { PlannerActor } from '../actor.ts';
import type {
  AddOperatorInput,
  ListOperatorsInput,
  Operator,
  OperatorNameInput,
  OperatorPage,
} from '../schemas.ts';

/** An `Operator` from the planner.operators row aliased `o`. */
function operatorColumnsSql(o: string): string {
  return outputColumnsSql<Operator>({
    name: `${o}.name`,
    isAdmin: `${o}.is_admin`,
    createdAt: isoTimestampSql(`${o}.created_at`),
    createdBy: `${o}.created_by`,
    disabledAt: isoTimestampSql(`${o}.disabled_at`),
  });
}

function requireAdmin(actor: PlannerActor, action: string): void {
  if (!actor.isAdmin) {
    throw new ForbiddenError(`operator: only planner admins may ${action}`, { field: 'operator' });
  }
}

/** `selectOperators`' statement: `$1` the page size and one, `$2` the cursor's name (null: first page). */
const operatorsStatement = preparedStatement<Operator>(
  'planner.operators_page',
  `select ${operatorColumnsSql('o')} from planner.operators o
   where $2::text is null or o.name > $2::text order by o.name limit $1`,
);

/** Operators by name, a page at a time, disabled ones included. */
export async function selectOperators(em: EntityManager, input: ListOperatorsInput): Promise<OperatorPage> {
  const { limit, cursor } = input;
  const rows = await executePrepared(em, operatorsStatement, [limit + 1, cursor?.[0] ?? null]);
  return rowsToPage(rows, limit, (operator) => [operator.name]);
}

/** Adds an operator; `createdBy` is the admin who did, null for the CLI. A name already taken conflicts. */
export async function insertOperator(
  em: EntityManager,
  input: AddOperatorInput,
  createdBy: string | null,
): Promise<Operator> {
  const { operator, isAdmin } = input;
  const [added] = await em.execute<Operator[]>(
    `insert into planner.operators as o (name, is_admin, created_by) values (?, ?, ?)
     on conflict (name) do nothing returning ${operatorColumnsSql('o')}`,
    [operator, isAdmin, createdBy],
  );
  if (!added) throw new ConflictError(`operator: ${operator} already exists`, { field: 'operator' });
  return added;
}

/**
 * Disables or enables an operator. A disabled operator's tokens are refused from their next request (the
 * actor's row is read in every request's first statement) and its sessions and keys end.
 */
export async function setOperatorDisabled(
  em: EntityManager,
  input: OperatorNameInput,
  disabled: boolean,
): Promise<Operator> {
  const { operator } = input;
  const [changed] = await em.execute<Operator[]>(
    `update planner.operators o set disabled_at = ${disabled ? 'now()' : 'null'}
     where o.name = ? and (o.disabled_at is null) = ? returning ${operatorColumnsSql('o')}`,
    [operator, disabled],
  );
  if (changed) {
    // Its open sessions and keys end now, streams included; enabling it again revives none of them.
    if (disabled) await revokeSessions(em, { module: 'planner', subject: operator }, 'operator_disabled');
    return changed;
  }
  const [exists] = await em.execute<unknown[]>('select 1 from planner.operators where name = ?', [operator]);
  throw exists
    ? new ConflictError(`operator: ${operator} is already ${disabled ? 'disabled' : 'enabled'}`, {
        field: 'operator',
      })
    : new NotFoundError(`operator: ${operator} does not exist`, { field: 'operator' });
}

/** The operators (admins). */
export function listOperators(
  em: EntityManager,
  actor: PlannerActor,
  input: ListOperatorsInput,
): Promise<OperatorPage> {
  requireAdmin(actor, 'list operators');
  return selectOperators(em, input);
}

/** Adds an operator (admins), in the admin's name. */
export function addOperator(
  em: EntityManager,
  actor: PlannerActor,
  input: AddOperatorInput,
): Promise<Operator> {
  requireAdmin(actor, 'add operators');
  return insertOperator(em, input, actor.operator);
}

/** Disables another operator (admins); an admin never disables themselves, so the planner keeps its admin. */
export function disableOperator(
  em: EntityManager,
  actor: PlannerActor,
  input: OperatorNameInput,
): Promise<Operator> {
  requireAdmin(actor, 'disable operators');
  if (input.operator === actor.operator) {
    throw new ForbiddenError('operator: admins may not disable themselves; ask another admin', {
      field: 'operator',
    });
  }
  return setOperatorDisabled(em, input, true);
}

export function enableOperator(
  em: EntityManager,
  actor: PlannerActor,
  input: OperatorNameInput,
): Promise<Operator> {
  requireAdmin(actor, 'enable operators');
  return setOperatorDisabled(em, input, false);
}
