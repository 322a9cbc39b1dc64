import { Migration } from '@huddle/db';

/**
 * Step search by words (`search.artifactsWithStep({ words })`): a GIN index over the English-stemmed words
 * of every implementation-steps artifact's step titles and details, so a search is an index lookup, not a
 * scan of every artifact's JSON. An expression index: no column to keep in step with `content`.
 */
export class Migration20261206130000PlannerStepSearch extends Migration {
  override up(): void {
    this.addSql(
      `create index "idx_plan_artifacts_steps_search" on "planner"."plan_artifacts" using gin ((jsonb_to_tsvector('english', jsonb_path_query_array(content, '$.steps[*].title') || jsonb_path_query_array(content, '$.steps[*].detail'), '["string"]'))) where artifact_type = 'implementation_steps';`,
    );
  }

  override down(): void {
    this.addSql(`drop index "planner"."idx_plan_artifacts_steps_search";`);
  }
}
