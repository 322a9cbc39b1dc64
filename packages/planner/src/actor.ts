import { type ActorSpec, type ModuleActor, UnauthorizedError } from '@huddle/db';

/**
 * An operator acting in the planner: planner has no users table (its seed has none), so a token's subject is
 * the operator's name, recorded on the plan versions they create (`plans.created_by`).
 */
export interface PlannerActor extends ModuleActor<'planner'> {
  readonly operator: string;
}

/** Lower-case letters, digits, `.`, `_` and `-`, starting with a letter; fits `plans.created_by` (varchar(63)). */
const OPERATOR_NAME = /^[a-z][a-z0-9._-]{0,62}$/;

/** A token subject is an operator name; anyone holding a valid planner token may act. */
export const plannerActor: ActorSpec<PlannerActor> = {
  parse(subject) {
    if (!OPERATOR_NAME.test(subject)) {
      throw new UnauthorizedError(
        `subject: "${subject.slice(0, 40)}" is not a planner operator name (${OPERATOR_NAME.source})`,
      );
    }
    return { module: 'planner', operator: subject };
  },
  // No `load`: nothing in the database says who may act, the token's signature is the whole check.
  subject: (actor) => actor.operator,
};
