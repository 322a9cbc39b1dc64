import { defineEntity, p, timestamps, touchUpdatedAt } from '@huddle/db';
import { PlannerPlan } from './plan.ts';

/** planner.repositories: a local git work tree that plans are written against, by its resolved path. */
const PlannerRepositorySchema = defineEntity({
  name: 'PlannerRepository',
  tableName: 'repositories',
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    name: p.string().length(255),
    /** The real path (symlinks and `..` resolved), so one work tree cannot be registered twice. */
    path: p.text().unique('repositories_path_unique'),
    gitUrl: p.text().nullable(),
    defaultBranch: p.string().length(100).default('main'),
    ...timestamps(),
    plans: () => p.oneToMany(PlannerPlan).mappedBy('repository'),
  },
  // The seed's name, although it duplicates the index behind UNIQUE(path) (see docs/schema/lint-allow.json).
  indexes: [{ name: 'idx_repositories_path', properties: ['path'] }],
  triggers: [touchUpdatedAt],
});
export class PlannerRepository extends PlannerRepositorySchema.class {}
PlannerRepositorySchema.setClass(PlannerRepository);
