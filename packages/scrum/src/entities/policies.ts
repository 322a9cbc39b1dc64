import { APPLICATION_ROLE, rolePolicy } from '@huddle/db';
import { MANAGER_ROLES } from '../schemas.ts';

/**
 * Building blocks of scrum's row-level-security policies. The request's user id and role come from the
 * settings `runAsActor` makes (`scrumActor.load.settings`) and are read in a scalar subquery, so PostgreSQL
 * evaluates them once per statement (an InitPlan) rather than once per row. Outside a request the settings
 * are missing or empty, and the id is then null: a policy comparing with it matches nothing. The aliases are
 * the ones PostgreSQL would print back, so `migrationCheck` compares the entities' policies with the
 * database's without drift.
 */
export const appUserId = `(select nullif(current_setting('app.user_id', true), '')::integer as user_id)`;
export const appRole = `(select current_setting('app.user_role', true) as user_role)`;
export const isManager = `${appRole} in (${MANAGER_ROLES.map((role) => `'${role}'`).join(', ')})`;

/** One permissive policy per role and action: requests run as `application_user`. */
export function requestPolicy(
  name: string,
  command: 'select' | 'insert' | 'update' | 'delete',
  rules: { using?: string; check?: string },
) {
  return rolePolicy(APPLICATION_ROLE, name, command, rules);
}
