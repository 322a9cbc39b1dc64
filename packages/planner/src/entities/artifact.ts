import { createdAt, defineEntity, p } from '@huddle/db';
import { ARTIFACT_TYPES } from '../schemas.ts';
import { PlannerPlan } from './plan.ts';

/**
 * The English-stemmed words of a steps artifact's step titles and details, `content` being its content
 * column: the expression `idx_plan_artifacts_steps_search` indexes, which a search must spell the same way
 * (with `artifact_type = 'implementation_steps'`) for PostgreSQL to use the index.
 */
export function stepWordsSql(content: string): string {
  return `jsonb_to_tsvector('english', jsonb_path_query_array(${content}, '$.steps[*].title') || jsonb_path_query_array(${content}, '$.steps[*].detail'), '["string"]')`;
}

/** planner.plan_artifacts: one piece of a plan version (feature plan, steps, code changes) as JSONB. */
const PlannerArtifactSchema = defineEntity({
  name: 'PlannerArtifact',
  tableName: 'plan_artifacts',
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    plan: () => p.manyToOne(PlannerPlan).ref().deleteRule('cascade'),
    /** Validated per artifact type by the services (`artifactSchema`). */
    content: p.json<Record<string, unknown>>().columnType('jsonb'),
    artifactType: p.enum(ARTIFACT_TYPES).nativeEnumName('artifact_type'),
    createdAt: createdAt(),
  },
  indexes: [
    { name: 'idx_plan_artifacts_plan_type', properties: ['plan', 'artifactType'] },
    { name: 'idx_plan_artifacts_content_gin', properties: ['content'], type: 'gin' },
    {
      name: 'idx_plan_artifacts_steps_search',
      expression: `create index "idx_plan_artifacts_steps_search" on "planner"."plan_artifacts" using gin ((${stepWordsSql('content')})) where artifact_type = 'implementation_steps'`,
    },
  ],
});
export class PlannerArtifact extends PlannerArtifactSchema.class {}
PlannerArtifactSchema.setClass(PlannerArtifact);
