import {
  createRoleSql,
  grantRoleSql,
  grantRoleToMigratorSql,
  IDEMPOTENCY_ROLE,
  READ_ONLY_ROLE,
} from './roles.ts';

export type TablePrivilege = 'select' | 'insert' | 'update' | 'delete';

/**
 * Migration SQL for a module's request role (`DomainModule.requestRole`): created unless it exists (roles
 * are shared by every database on the server), granted to the migrating role, which switches to it, and a
 * member of the platform's `huddle_request`, so its mutations may keep their idempotency keys.
 */
export function createRequestRole(role: string): string[] {
  return [createRoleSql(role), grantRoleToMigratorSql(role), grantRoleSql(IDEMPOTENCY_ROLE, role)];
}

/**
 * Migration SQL for least privilege: the module's request role `role` gets exactly `privileges` per table of
 * its `schema` (what the module's services need) and the sequences behind serial ids; `read_only_user`
 * reads every listed table.
 */
export function grantRequestAccess(
  role: string,
  schema: string,
  privileges: Record<string, readonly TablePrivilege[]>,
): string[] {
  return [
    `grant usage on schema "${schema}" to "${role}", ${READ_ONLY_ROLE};`,
    ...Object.entries(privileges).map(
      ([table, granted]) => `grant ${granted.join(', ')} on "${schema}"."${table}" to "${role}";`,
    ),
    `grant usage on all sequences in schema "${schema}" to "${role}";`,
    ...Object.keys(privileges).map((table) => `grant select on "${schema}"."${table}" to ${READ_ONLY_ROLE};`),
  ];
}

/** The down of `grantRequestAccess`. */
export function revokeRequestAccess(
  role: string,
  schema: string,
  privileges: Record<string, readonly TablePrivilege[]>,
): string[] {
  return [
    ...Object.keys(privileges).map(
      (table) => `revoke all on "${schema}"."${table}" from "${role}", ${READ_ONLY_ROLE};`,
    ),
    `revoke usage on all sequences in schema "${schema}" from "${role}";`,
    `revoke usage on schema "${schema}" from "${role}", ${READ_ONLY_ROLE};`,
  ];
}

/**
 * Migration SQL handing a schema's request access from role `from` to role `to`: `to` gets `privileges`
 * (`grantRequestAccess`), `from` keeps nothing in `schema`. Its down is the same call with the roles swapped.
 */
export function moveRequestAccess(
  from: string,
  to: string,
  schema: string,
  privileges: Record<string, readonly TablePrivilege[]>,
): string[] {
  return [
    ...grantRequestAccess(to, schema, privileges),
    `revoke all on all tables in schema "${schema}" from "${from}";`,
    `revoke all on all sequences in schema "${schema}" from "${from}";`,
    `revoke usage on schema "${schema}" from "${from}";`,
  ];
}
