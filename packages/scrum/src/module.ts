import { APPLICATION_ROLE, type ModuleWithActors } from '@huddle/db';
import { type ScrumActor, scrumActor } from './actor.ts';
import { scrumCommands } from './commands.ts';
import { scrumDemo } from './demo.ts';
import { ScrumChatMessage } from './entities/chat-message.ts';
import { ScrumInvitation } from './entities/invitation.ts';
import { ScrumNotification } from './entities/notification.ts';
import { ScrumSignInFlow } from './entities/sign-in-flow.ts';
import { ScrumTask } from './entities/task.ts';
import { ScrumTaskActivity } from './entities/task-activity.ts';
import { ScrumTriageItem } from './entities/triage-item.ts';
import { ScrumUser } from './entities/user.ts';
import { scrumJobs } from './jobs.ts';
import { scrumMigrations } from './migrations/index.ts';
import { scrumOperations } from './operations.ts';
import { ScrumMinimalSeeder } from './seeders/minimal.ts';
import { ScrumRealisticSeeder } from './seeders/realistic.ts';
import { type GitHubOAuthConfig, githubOAuthConfigFromEnv } from './services/github.ts';

/** What scrum's operations need from outside a request: GitHub's OAuth settings (`GITHUB_*`), if configured. */
export interface ScrumResources {
  github: GitHubOAuthConfig | null;
}

/** The scrum master as a Huddle module: Postgres schema `scrum`, row-level security on its tables. */
export const scrumModule = {
  name: 'scrum' as const,
  actor: scrumActor,
  signInHint:
    'sign in with GitHub through `scrum.auth.githubAuthorizeUrl` and `scrum.auth.githubCallback`, or have an operator run `huddle token issue --module scrum --user <id>`',
  entities: [
    ScrumUser,
    ScrumTask,
    ScrumNotification,
    ScrumChatMessage,
    ScrumTriageItem,
    ScrumInvitation,
    ScrumSignInFlow,
    ScrumTaskActivity,
  ],
  migrations: scrumMigrations,
  // The seed's role: its row-level-security policies are the seed's contract.
  requestRole: APPLICATION_ROLE,
  seeders: { minimal: ScrumMinimalSeeder, realistic: ScrumRealisticSeeder },
  operations: scrumOperations,
  jobs: scrumJobs,
  commands: scrumCommands,
  resources: (env): ScrumResources => ({ github: githubOAuthConfigFromEnv(env) }),
  demo: scrumDemo,
  fuzz: async (db) => (await import('./fuzz.ts')).scrumFuzzFixtures(db),
} satisfies ModuleWithActors<ScrumActor, ScrumResources>;
