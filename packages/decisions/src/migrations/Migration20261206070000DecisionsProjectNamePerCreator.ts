import { Migration } from '@huddle/db';

/**
 * A live project's name is unique per creator rather than across everyone: a conflict on another user's
 * project name told a non-member that project existed (issue 20). Down fails while two creators' live
 * projects share a name, which the old rule cannot hold.
 */
export class Migration20261206070000DecisionsProjectNamePerCreator extends Migration {
  override up(): void {
    this.addSql('drop index "decisions"."projects_name_live_unique";');
    this.addSql(
      'create unique index "projects_name_live_unique" on "decisions"."projects" ("created_by", lower("name")) where "archived_at" is null;',
    );
  }

  override down(): void {
    this.addSql('drop index "decisions"."projects_name_live_unique";');
    this.addSql(
      'create unique index "projects_name_live_unique" on "decisions"."projects" (lower("name")) where "archived_at" is null;',
    );
  }
}
