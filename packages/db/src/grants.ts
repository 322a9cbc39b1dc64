import { APPLICATION_ROLE, READ_ONLY_ROLE } from './roles.ts';

export type TablePrivilege = 'select' | 'insert' | 'update' | 'delete';

/**
 * Migration SQL for least privilege: `application_user` gets exactly `privileges` per table (what the
 * module's services need) and the sequences behind serial ids; `read_only_user` reads every listed table.
 */
export function grantRequestAccess(
  schema: string,
  privileges: Record<string, readonly TablePrivilege[]>,
): string[] {
  return [
    `grant usage on schema "${schema}" to ${APPLICATION_ROLE}, ${READ_ONLY_ROLE};`,
    ...Object.entries(privileges).map(
      ([table, granted]) => `grant ${granted.join(', ')} on "${schema}"."${table}" to ${APPLICATION_ROLE};`,
    ),
    `grant usage on all sequences in schema "${schema}" to ${APPLICATION_ROLE};`,
    ...Object.keys(privileges).map((table) => `grant select on "${schema}"."${table}" to ${READ_ONLY_ROLE};`),
  ];
}

/** The down of `grantRequestAccess`. */
export function revokeRequestAccess(
  schema: string,
  privileges: Record<string, readonly TablePrivilege[]>,
): string[] {
  return [
    ...Object.keys(privileges).map(
      (table) => `revoke all on "${schema}"."${table}" from ${APPLICATION_ROLE}, ${READ_ONLY_ROLE};`,
    ),
    `revoke usage on all sequences in schema "${schema}" from ${APPLICATION_ROLE};`,
    `revoke usage on schema "${schema}" from ${APPLICATION_ROLE}, ${READ_ONLY_ROLE};`,
  ];
}
