import type { Dictionary, EntityManager, SeedContext } from '@huddle/db';
import { Seeder } from '@huddle/db';
import type { UserRole } from '../schemas.ts';

/** The seed document's development users. */
export const MINIMAL_USERS = [
  { githubId: 'dev1', username: 'developer1', role: 'developer' },
  { githubId: 'pm1', username: 'projectmanager1', role: 'project_manager' },
  { githubId: 'admin1', username: 'admin', role: 'admin' },
] as const satisfies readonly { githubId: string; username: string; role: UserRole }[];

/** The seed document's sample task, created by pm1. */
export const SAMPLE_TASK = {
  title: 'Implement user authentication',
  description: 'Set up GitHub OAuth integration',
  assignedRole: 'developer',
  startDate: '2025-09-25T00:00:00Z',
  endDate: '2025-09-30T00:00:00Z',
} as const;

/**
 * The seed document's users and sample task. Idempotent: users are upserted by `github_id` without changing
 * an existing one, and the task is written only when pm1 has no task of that title, so a second run writes
 * nothing.
 */
export class ScrumMinimalSeeder extends Seeder<SeedContext & Dictionary> {
  async run(em: EntityManager): Promise<void> {
    await em.execute(
      `insert into scrum.users (github_id, username, role)
       select * from unnest(array[?]::text[], array[?]::text[], array[?]::text[])
       on conflict (github_id) do nothing`,
      [
        MINIMAL_USERS.map((user) => user.githubId),
        MINIMAL_USERS.map((user) => user.username),
        MINIMAL_USERS.map((user) => user.role),
      ],
      'run',
    );
    await em.execute(
      `insert into scrum.tasks (title, description, assigned_role, start_date, end_date, created_by_id)
       select ?, ?, ?, ?, ?, pm.id from scrum.users pm
       where pm.github_id = 'pm1'
         and not exists (select 1 from scrum.tasks t where t.created_by_id = pm.id and t.title = ?)`,
      [
        SAMPLE_TASK.title,
        SAMPLE_TASK.description,
        SAMPLE_TASK.assignedRole,
        SAMPLE_TASK.startDate,
        SAMPLE_TASK.endDate,
        SAMPLE_TASK.title,
      ],
      'run',
    );
  }
}
