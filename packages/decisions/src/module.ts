import type { DomainModule } from '@huddle/db';
import { type DecisionsActor, decisionsActor } from './actor.ts';
import { decisionsCommands } from './commands.ts';
import { decisionsDemo } from './demo.ts';
import { DecisionsDecision } from './entities/decision.ts';
import { DecisionsPasswordReset } from './entities/password-reset.ts';
import { DecisionsProject } from './entities/project.ts';
import { DecisionsProjectMember } from './entities/project-member.ts';
import { DecisionsRelationship } from './entities/relationship.ts';
import { DecisionsRevision } from './entities/revision.ts';
import { DecisionsTranscript } from './entities/transcript.ts';
import { DecisionsUser } from './entities/user.ts';
import { decisionsJobs } from './jobs.ts';
import { decisionsMigrations } from './migrations/index.ts';
import { decisionsOperations } from './operations.ts';
import { DECISIONS_REQUEST_ROLE } from './request-role.ts';
import { type DecisionsResources, decisionsResourcesFromEnv } from './resources.ts';
import { DecisionsMinimalSeeder } from './seeders/minimal.ts';
import { DecisionsRealisticSeeder } from './seeders/realistic.ts';
import { transcriptsWebhook } from './webhook.ts';

/** The decision log as a Huddle module: Postgres schema `decisions`, its own migrations and seeders. */
export const decisionsModule = {
  name: 'decisions' as const,
  actor: decisionsActor,
  signInHint: 'sign in with `decisions.auth.signIn` (email and password) for a decisions token',
  entities: [
    DecisionsUser,
    DecisionsProject,
    DecisionsProjectMember,
    DecisionsTranscript,
    DecisionsDecision,
    DecisionsRelationship,
    DecisionsRevision,
    DecisionsPasswordReset,
  ],
  migrations: decisionsMigrations,
  requestRole: DECISIONS_REQUEST_ROLE,
  seeders: { minimal: DecisionsMinimalSeeder, realistic: DecisionsRealisticSeeder },
  operations: decisionsOperations,
  resources: decisionsResourcesFromEnv,
  jobs: decisionsJobs,
  webhooks: [transcriptsWebhook],
  commands: decisionsCommands,
  demo: decisionsDemo,
  fuzz: async (db) => (await import('./fuzz.ts')).decisionsFuzzFixtures(db),
} satisfies DomainModule<DecisionsActor, DecisionsResources>;
