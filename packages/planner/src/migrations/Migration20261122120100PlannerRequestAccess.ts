import {
  APPLICATION_ROLE,
  fixTriggerSearchPath,
  grantRequestAccess,
  Migration,
  revokeRequestAccess,
} from '@huddle/db';

/**
 * What planner's services need, and nothing more: requests run as `application_user` (see `runAsActor`)
 * until `Migration20261206100000PlannerRequestRole` moves them to a role of their own.
 * Plan versions, artifacts and chat sessions are deleted only by the cascades from `repositories`, which
 * PostgreSQL runs as the tables' owner, so only repositories and artifacts (removed from a draft) need DELETE.
 */
export const PRIVILEGES = {
  repositories: ['select', 'insert', 'update', 'delete'],
  plans: ['select', 'insert', 'update'],
  plan_artifacts: ['select', 'insert', 'update', 'delete'],
  chat_sessions: ['select', 'insert', 'update'],
} as const;

const TRIGGER_TABLES = ['repositories', 'plans', 'chat_sessions'] as const;

/**
 * Least privilege for requests, and a fixed search_path for the updated_at triggers' functions (a function
 * with a role-mutable search_path could be made to call another schema's `now()`).
 */
export class Migration20261122120100PlannerRequestAccess extends Migration {
  override up(): void {
    for (const sql of grantRequestAccess(APPLICATION_ROLE, 'planner', PRIVILEGES)) this.addSql(sql);
    for (const table of TRIGGER_TABLES)
      this.addSql(fixTriggerSearchPath('planner', table, 'touch_updated_at'));
  }

  override down(): void {
    for (const table of TRIGGER_TABLES) {
      this.addSql(`alter function "planner"."${table}_touch_updated_at_fn"() reset search_path;`);
    }
    for (const sql of revokeRequestAccess(APPLICATION_ROLE, 'planner', PRIVILEGES)) this.addSql(sql);
  }
}
