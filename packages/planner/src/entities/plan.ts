import { defineEntity, p, timestamps, touchUpdatedAt } from '@huddle/db';
import { PLAN_STATUSES } from '../schemas.ts';
import { PlannerArtifact } from './artifact.ts';
import { PlannerChatSession } from './chat-session.ts';
import { recordOperator } from './operator.ts';
import { PlannerRepository } from './repository.ts';

/**
 * planner.plans: one version of a named plan. A plan is its (repository, name); each row is a version of
 * it, numbered from 1, and at most one version of a plan is active.
 */
const PlannerPlanSchema = defineEntity({
  name: 'PlannerPlan',
  tableName: 'plans',
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    repository: () => p.manyToOne(PlannerRepository).ref().deleteRule('cascade'),
    name: p.string().length(255),
    description: p.text().nullable(),
    targetBranch: p.string().length(100),
    version: p.integer().default(1),
    status: p.enum(PLAN_STATUSES).nativeEnumName('plan_status').default('draft'),
    ...timestamps(),
    /** The operator (token subject) who created this version; null for rows written outside a request. */
    createdBy: p.string().length(63).nullable(),
    /**
     * The commit the target branch was at when this version was planned (created, or its target branch
     * changed); null for versions written outside a request (seeds) or before it was recorded.
     */
    baseCommit: p.string().length(40).nullable(),
    /** The operator whose request last wrote this version (`recordOperator`); null for writes outside one. */
    updatedBy: p.string().length(63).nullable(),
    artifacts: () => p.oneToMany(PlannerArtifact).mappedBy('plan'),
    chatSessions: () => p.oneToMany(PlannerChatSession).mappedBy('plan'),
  },
  indexes: [
    { name: 'idx_plans_repository_status', properties: ['repository', 'status'] },
    { name: 'idx_plans_version', properties: ['repository', 'name', 'version'] },
  ],
  uniques: [
    { name: 'plans_repository_id_name_version_unique', properties: ['repository', 'name', 'version'] },
    // Beyond the seed: a plan has at most one version in force, even when two activations race.
    { name: 'plans_one_active_version', properties: ['repository', 'name'], where: "status = 'active'" },
  ],
  checks: [
    { name: 'plans_version_positive', expression: 'version >= 1' },
    // A full object id as git writes it, so a check can read it without resolving anything.
    { name: 'plans_base_commit_sha', expression: "base_commit ~ '^[0-9a-f]{40}$'" },
  ],
  triggers: [touchUpdatedAt, recordOperator({ created: false })],
});
export class PlannerPlan extends PlannerPlanSchema.class {}
PlannerPlanSchema.setClass(PlannerPlan);
