import { rolePolicy } from '@huddle/db';
import { POKER_REQUEST_ROLE } from '../request-role.ts';

/**
 * Building blocks of poker's row-level-security policies (on the decks users make). The request's user id
 * comes from the setting `runAsActor` makes (`pokerActor.load.settings`), read in a scalar subquery so
 * PostgreSQL evaluates it once per statement; outside a request it is null and matches nothing. Written as
 * PostgreSQL prints them back, so `migrationCheck` compares them without drift.
 */
export const appUserId = `( SELECT (NULLIF(current_setting('app.user_id'::text, true), ''::text))::integer AS user_id)`;

/** One permissive policy per action for poker's request role. */
export function requestPolicy(
  name: string,
  command: 'select' | 'insert' | 'delete',
  rules: { using?: string; check?: string },
) {
  return rolePolicy(POKER_REQUEST_ROLE, name, command, rules);
}

/**
 * A trigger's condition: the request role is acting. The deck triggers guard what requests write; the owner
 * (migrations, seeders, `huddle restore`, jobs) is trusted, as row-level security trusts it — a restore's
 * load, which drops the indexes while it copies, would otherwise look each row's session up by a scan.
 */
export const requestActs = `(CURRENT_USER = '${POKER_REQUEST_ROLE}'::name)`;

/**
 * Raises a check violation naming `constraint` and the offending `column`, which `@huddle/db` maps like a
 * CHECK constraint's: for the rules a CHECK cannot state because they read another row.
 */
export function raiseCheckViolation(
  message: string,
  args: string,
  constraint: string,
  table: string,
  column: string,
) {
  return `raise exception '${message}', ${args} using errcode = 'check_violation', constraint = '${constraint}', schema = 'poker', table = '${table}', column = '${column}';`;
}
