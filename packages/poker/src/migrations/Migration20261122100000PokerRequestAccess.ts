import {
  APPLICATION_ROLE,
  fixTriggerSearchPath,
  grantRequestAccess,
  Migration,
  revokeRequestAccess,
} from '@huddle/db';

/**
 * What poker's services need, and nothing more: requests run as `application_user` (see `runAsActor`) until
 * `Migration20261206100000PokerRequestRole` moves them to a role of their own.
 */
export const PRIVILEGES = {
  users: ['select', 'insert', 'update'],
  sessions: ['select', 'insert', 'update'],
  session_participants: ['select', 'insert', 'update'],
  stories: ['select', 'insert', 'update', 'delete'],
  votes: ['select', 'insert', 'update', 'delete'],
} as const;

/**
 * Least privilege for requests, and a fixed search_path for the updated_at trigger's function (a function
 * with a role-mutable search_path could be made to call another schema's `now()`).
 */
export class Migration20261122100000PokerRequestAccess extends Migration {
  override up(): void {
    for (const sql of grantRequestAccess(APPLICATION_ROLE, 'poker', PRIVILEGES)) this.addSql(sql);
    this.addSql(fixTriggerSearchPath('poker', 'sessions', 'touch_updated_at'));
  }

  override down(): void {
    this.addSql(`alter function "poker"."sessions_touch_updated_at_fn"() reset search_path;`);
    for (const sql of revokeRequestAccess(APPLICATION_ROLE, 'poker', PRIVILEGES)) this.addSql(sql);
  }
}
