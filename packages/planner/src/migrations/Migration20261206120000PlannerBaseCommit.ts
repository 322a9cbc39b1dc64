import { Migration } from '@huddle/db';

/**
 * A plan version records the commit of its target branch it was planned against (`plans.check` applies its
 * diffs there and at the branch's head). Nullable: versions written before, and seeds, have none.
 */
export class Migration20261206120000PlannerBaseCommit extends Migration {
  override up(): void {
    this.addSql(`alter table "planner"."plans" add column "base_commit" varchar(40) null;`);
    this.addSql(
      `alter table "planner"."plans" add constraint "plans_base_commit_sha" check (base_commit ~ '^[0-9a-f]{40}$');`,
    );
  }

  override down(): void {
    this.addSql(`alter table "planner"."plans" drop constraint "plans_base_commit_sha";`);
    this.addSql(`alter table "planner"."plans" drop column "base_commit";`);
  }
}
