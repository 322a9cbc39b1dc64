import { type ActorSpec, type ModuleActor, UnauthorizedError } from '@huddle/db';
import { OPERATOR_NAME } from './schemas.ts';

/**
 * An operator acting in the planner: a row of planner.operators, by name. The name is recorded on what their
 * requests write (`plans.created_by`, `updated_by`, `chat_sessions.created_by`).
 */
export interface PlannerActor extends ModuleActor<'planner'> {
  readonly operator: string;
  /** Admins add, disable and enable operators; read from the operator's row at the start of every request. */
  readonly isAdmin: boolean;
}

/**
 * A token subject is an operator name. `load` reads the operator's row at the start of every request: an
 * unknown or disabled operator is refused there, and `app.operator` names them for `recordOperator`.
 */
export const plannerActor: ActorSpec<PlannerActor> = {
  parse(subject) {
    if (!OPERATOR_NAME.test(subject)) {
      throw new UnauthorizedError(
        `subject: "${subject.slice(0, 40)}" is not a planner operator name (${OPERATOR_NAME.source})`,
      );
    }
    // Not an admin until `load` reads the row; runAsActor always loads before a service runs.
    return { module: 'planner', operator: subject, isAdmin: false };
  },
  subject: (actor) => actor.operator,
  load: {
    sql: 'select name, is_admin, disabled_at from planner.operators where name = ?',
    params: (actor) => [actor.operator],
    confirm(actor, row) {
      if (!row) {
        throw new UnauthorizedError(
          `subject: planner operator ${actor.operator} does not exist; an admin adds operators (huddle planner operator add ${actor.operator})`,
        );
      }
      if (row.disabled_at)
        throw new UnauthorizedError(`subject: planner operator ${actor.operator} is disabled`);
      return { module: 'planner', operator: actor.operator, isAdmin: row.is_admin === true };
    },
    settings: { 'app.operator': 'name' },
  },
};
