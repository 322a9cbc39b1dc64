import type { ModuleWithActors } from '@huddle/db';
import { type PlannerActor, plannerActor } from './actor.ts';
import { plannerCommands } from './commands.ts';
import { plannerDemo } from './demo.ts';
import { PlannerArtifact } from './entities/artifact.ts';
import { PlannerChatSession } from './entities/chat-session.ts';
import { PlannerOperator } from './entities/operator.ts';
import { PlannerPlan } from './entities/plan.ts';
import { PlannerRepository } from './entities/repository.ts';
import { plannerMigrations } from './migrations/index.ts';
import { plannerOperations } from './operations.ts';
import { PLANNER_REQUEST_ROLE } from './request-role.ts';
import { plannerAccessFromEnv, type RepositoryAccess } from './roots.ts';
import { PlannerMinimalSeeder } from './seeders/minimal.ts';
import { PlannerRealisticSeeder } from './seeders/realistic.ts';

/** Code-change plans as a Huddle module: Postgres schema `planner`, its own migrations and seeders. */
export const plannerModule = {
  name: 'planner' as const,
  actor: plannerActor,
  signInHint:
    'an operator issues planner tokens for an existing operator: `huddle planner operator add <operator>`, then `huddle token issue --module planner --user <operator>`',
  entities: [PlannerRepository, PlannerPlan, PlannerArtifact, PlannerChatSession, PlannerOperator],
  migrations: plannerMigrations,
  requestRole: PLANNER_REQUEST_ROLE,
  seeders: { minimal: PlannerMinimalSeeder, realistic: PlannerRealisticSeeder },
  resources: plannerAccessFromEnv,
  operations: plannerOperations,
  commands: plannerCommands,
  demo: plannerDemo,
  fuzz: async (db) => (await import('./fuzz.ts')).plannerFuzzFixtures(db),
} satisfies ModuleWithActors<PlannerActor, RepositoryAccess>;
