import { migrationList } from '@huddle/db';
import { Migration20261122120000PlannerInitial } from './Migration20261122120000PlannerInitial.ts';
import { Migration20261122120100PlannerRequestAccess } from './Migration20261122120100PlannerRequestAccess.ts';
import { Migration20261206100000PlannerRequestRole } from './Migration20261206100000PlannerRequestRole.ts';
import { Migration20261206120000PlannerBaseCommit } from './Migration20261206120000PlannerBaseCommit.ts';
import { Migration20261206130000PlannerStepSearch } from './Migration20261206130000PlannerStepSearch.ts';
import { Migration20261206140000PlannerOperators } from './Migration20261206140000PlannerOperators.ts';

/** The planner module's migrations, oldest first (class names sort in the order they apply). */
export const plannerMigrations = migrationList(
  Migration20261122120000PlannerInitial,
  Migration20261122120100PlannerRequestAccess,
  Migration20261206100000PlannerRequestRole,
  Migration20261206120000PlannerBaseCommit,
  Migration20261206130000PlannerStepSearch,
  Migration20261206140000PlannerOperators,
);
