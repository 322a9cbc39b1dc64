import { fixTriggerSearchPath, grantRequestAccess, Migration, revokeRequestAccess } from '@huddle/db';

/**
 * What the decisions services need, and nothing more: requests run as `application_user` (see
 * `runAsActor`). Users and decisions are soft-deleted and projects archived (updates), so only memberships
 * are ever deleted by a request.
 */
const PRIVILEGES = {
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
    for (const sql of grantRequestAccess('decisions', PRIVILEGES)) this.addSql(sql);
    for (const table of TOUCHED_TABLES)
      this.addSql(fixTriggerSearchPath('decisions', table, 'touch_updated_at'));
  }

  override down(): void {
    for (const table of TOUCHED_TABLES) {
      this.addSql(`alter function "decisions"."${table}_touch_updated_at_fn"() reset search_path;`);
    }
    for (const sql of revokeRequestAccess('decisions', PRIVILEGES)) this.addSql(sql);
  }
}
