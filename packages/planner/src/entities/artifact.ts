import { createdAt, defineEntity, p } from '@huddle/db';
import { ARTIFACT_TYPES } from '../schemas.ts';
import { PlannerPlan } from './plan.ts';

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
  ],
});
export class PlannerArtifact extends PlannerArtifactSchema.class {}
PlannerArtifactSchema.setClass(PlannerArtifact);
