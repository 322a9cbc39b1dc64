/**
 * Scrum's request role, the seed's `application_user` (scrum's row-level-security policies name it: they are
 * the seed's contract). Every other module's requests run as a role of its own (`DomainModule.requestRole`).
 */
export const APPLICATION_ROLE = 'application_user';
/** The role for reporting: each module grants it `SELECT` on its tables, never on secrets (password hashes). */
export const READ_ONLY_ROLE = 'read_only_user';
/** The group role every request role belongs to: it may keep idempotent mutations' results (platform.ts). */
export const IDEMPOTENCY_ROLE = 'huddle_request';

/** A permissive row-level-security policy of `role` for one action, as an entity's `policies` lists it. */
export function rolePolicy(
  role: string,
  name: string,
  command: 'select' | 'insert' | 'update' | 'delete',
  rules: { using?: string; check?: string },
) {
  return { name, command, roles: [role], ...rules };
}

/** Reporting reads every row of `table`: `read_only_user` has SELECT and nothing else, so it sees, never changes. */
export function readOnlySelectAll(table: string) {
  return rolePolicy(READ_ONLY_ROLE, `${table}_read_only_select`, 'select', { using: 'true' });
}

/*
 * Roles are cluster-wide: every database on the server shares them, and migrations of two databases may
 * create the same role or membership at the same moment. The loser of that race gets unique_violation (not
 * duplicate_object), so both statements below tolerate either: idempotent, and safe to run concurrently.
 */

/** Migration SQL creating `role` (no login) unless it exists. */
export function createRoleSql(role: string): string {
  return `do $$ begin
     create role "${role}" nologin;
   exception when duplicate_object or unique_violation then null;
   end $$;`;
}

/**
 * Migration SQL making the migrating role a member of `role`, so it may `SET ROLE` to it: a non-superuser
 * owner (as on managed PostgreSQL) needs that to run requests as `role`.
 */
export function grantRoleToMigratorSql(role: string): string {
  return grantMembershipSql(role, 'current_user');
}

/** Migration SQL making role `member` a member of `role`. */
export function grantRoleSql(role: string, member: string): string {
  return grantMembershipSql(role, `"${member}"`);
}

function grantMembershipSql(role: string, member: string): string {
  return `do $$ begin
     grant "${role}" to ${member};
   exception when unique_violation then null;
   end $$;`;
}
