import {
  APPLICATION_ROLE,
  fixTriggerSearchPath,
  grantRequestAccess,
  Migration,
  revokeRequestAccess,
} from '@huddle/db';

/**
 * What the decisions services need, and nothing more: requests run as `application_user` (see
 * `runAsActor`) until `Migration20261206100000DecisionsRequestRole` moves them to a role of their own.
 * Users and decisions are soft-deleted and projects archived (updates), so only memberships are ever
 * deleted by a request.
 */
export const PRIVILEGES = {
  users: ['select', 'insert', 'update'],
  projects: ['select', 'insert', 'update'],
  project_members: ['select', 'insert', 'update', 'delete'],
  transcripts: ['select', 'insert'],
  decisions: ['select', 'insert', 'update'],
  decision_relationships: ['select', 'insert'],
} as const;

const TOUCHED_TABLES = ['users', 'projects', 'decisions'] as const;

/** Least privilege for requests, and a fixed search_path for the updated_at triggers' functions. */
export class Migration20261122200100DecisionsRequestAccess extends Migration {
  override up(): void {
    for (const sql of grantRequestAccess(APPLICATION_ROLE, 'decisions', PRIVILEGES)) this.addSql(sql);
    for (const table of TOUCHED_TABLES)
      this.addSql(fixTriggerSearchPath('decisions', table, 'touch_updated_at'));
  }

  override down(): void {
    for (const table of TOUCHED_TABLES) {
      this.addSql(`alter function "decisions"."${table}_touch_updated_at_fn"() reset search_path;`);
    }
    for (const sql of revokeRequestAccess(APPLICATION_ROLE, 'decisions', PRIVILEGES)) this.addSql(sql);
  }
}
