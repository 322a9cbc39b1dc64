import {
  APPLICATION_ROLE,
  fixTriggerSearchPath,
  grantRequestAccess,
  Migration,
  revokeRequestAccess,
} from '@huddle/db';

/**
 * What scrum's services need, and nothing more: requests run as `application_user` (see `runAsActor`), and
 * row-level security narrows these privileges to rows. Nothing is deleted by a request (users are
 * deactivated; read notifications are cleaned up by a job, which runs as the owner).
 */
const PRIVILEGES = {
  users: ['select', 'update'],
  tasks: ['select', 'insert', 'update'],
  notifications: ['select', 'insert', 'update'],
  chat_messages: ['select', 'insert', 'update'],
  triage_items: ['select', 'insert', 'update'],
} as const;

const TOUCHED_TABLES = ['users', 'tasks', 'triage_items'] as const;

/**
 * Least privilege for requests (and SELECT for `read_only_user`), and a fixed search_path for the
 * updated_at triggers' functions (a function with a role-mutable search_path could be made to call another
 * schema's `now()`).
 */
export class Migration20261122200100ScrumRequestAccess extends Migration {
  override up(): void {
    for (const sql of grantRequestAccess(APPLICATION_ROLE, 'scrum', PRIVILEGES)) this.addSql(sql);
    for (const table of TOUCHED_TABLES) this.addSql(fixTriggerSearchPath('scrum', table, 'touch_updated_at'));
  }

  override down(): void {
    for (const table of TOUCHED_TABLES) {
      this.addSql(`alter function "scrum"."${table}_touch_updated_at_fn"() reset search_path;`);
    }
    for (const sql of revokeRequestAccess(APPLICATION_ROLE, 'scrum', PRIVILEGES)) this.addSql(sql);
  }
}
