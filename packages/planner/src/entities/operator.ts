import { createdAt, defineEntity, p, timestamptz } from '@huddle/db';
import type { TriggerDef } from '@mikro-orm/core';

/**
 * planner.operators (beyond the seed): who may act in the planner. A planner token names an operator; the
 * request's first statement reads this row, so an unknown or disabled operator is refused there. Admins add
 * and disable operators (`planner.operators.*`); the CLI does too (`huddle planner operator …`), and adds the
 * first admin. Plans keep the operator's name (`plans.created_by`), without a foreign key, so the seed's
 * inserts stay valid.
 */
const PlannerOperatorSchema = defineEntity({
  name: 'PlannerOperator',
  tableName: 'operators',
  properties: {
    id: p.integer().primary().autoincrement(),
    name: p.string().length(63).unique('operators_name_unique'),
    isAdmin: p.boolean().default(false),
    createdAt: createdAt(),
    /** The admin who added the operator; null when the CLI did. */
    createdBy: p.string().length(63).nullable(),
    /** Set while the operator may not act; their tokens are refused from the next request. */
    disabledAt: timestamptz().nullable(),
  },
  checks: [{ name: 'operators_name_check', expression: "name ~ '^[a-z][a-z0-9._-]{0,62}$'" }],
});
export class PlannerOperator extends PlannerOperatorSchema.class {}
PlannerOperatorSchema.setClass(PlannerOperator);

/**
 * Records the acting operator on the row (`updated_by`, and `created_by` of a new row that names none): the
 * request's first statement sets `app.operator` (plannerActor's load), so every write of a request is
 * attributed without any service remembering to. A write outside a request (CLI, seeders) names nobody.
 */
export function recordOperator(options: { created: boolean }): TriggerDef {
  const operator = "nullif(current_setting('app.operator', true), '')";
  return {
    name: 'record_operator',
    timing: 'before',
    events: ['insert', 'update'],
    body: `${options.created ? `if tg_op = 'INSERT' then new.created_by = coalesce(new.created_by, ${operator}); end if; ` : ''}new.updated_by = ${operator}; return new;`,
  };
}
