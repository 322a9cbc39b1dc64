import type { Dictionary, EntityManager, SeedContext } from '@huddle/db';
import { Seeder } from '@huddle/db';
import type { ProjectRole, UserRole } from '../schemas.ts';
import { hashPassword } from '../services/passwords.ts';

/** The spec's sample users; every one signs in with the password `password`. */
export const MINIMAL_USERS = [
  { email: 'test@example.com', name: 'Test Director', role: 'director' },
  { email: 'architect@example.com', name: 'Test Architect', role: 'architect' },
  { email: 'member@example.com', name: 'Test Member', role: 'member' },
] as const satisfies readonly { email: string; name: string; role: UserRole }[];
export const MINIMAL_PASSWORD = 'password';
export const MINIMAL_PROJECTS = ['Test Project Alpha', 'Test Project Beta'] as const;

const MEMBERSHIPS: { project: (typeof MINIMAL_PROJECTS)[number]; email: string; role: ProjectRole }[] = [
  { project: 'Test Project Alpha', email: 'test@example.com', role: 'owner' },
  { project: 'Test Project Beta', email: 'test@example.com', role: 'owner' },
  { project: 'Test Project Alpha', email: 'architect@example.com', role: 'member' },
  { project: 'Test Project Alpha', email: 'member@example.com', role: 'viewer' },
];

/**
 * The spec's minimal seed: the director `test@example.com`, an architect and a member (password `password`),
 * "Test Project Alpha" and "Test Project Beta" created by the director, and their memberships. Idempotent:
 * every statement inserts only what is missing (matched on the live unique keys), so a second run writes
 * nothing.
 */
export class DecisionsMinimalSeeder extends Seeder<SeedContext & Dictionary> {
  async run(em: EntityManager): Promise<void> {
    const passwordHash = await hashPassword(MINIMAL_PASSWORD);
    for (const user of MINIMAL_USERS) {
      await em.execute(
        `insert into decisions.users (email, name, password_hash, role)
         select ?, ?, ?, ? where not exists
           (select 1 from decisions.users where lower(email) = lower(?) and deleted_at is null)`,
        [user.email, user.name, passwordHash, user.role, user.email],
      );
    }
    for (const project of MINIMAL_PROJECTS) {
      await em.execute(
        `insert into decisions.projects (name, created_by)
         select ?, u.id from decisions.users u
         where lower(u.email) = 'test@example.com' and u.deleted_at is null
           and not exists (select 1 from decisions.projects where lower(name) = lower(?) and archived_at is null)`,
        [project, project],
      );
    }
    for (const membership of MEMBERSHIPS) {
      await em.execute(
        `insert into decisions.project_members (project_id, user_id, role)
         select p.id, u.id, ? from decisions.projects p, decisions.users u
         where lower(p.name) = lower(?) and p.archived_at is null
           and lower(u.email) = ? and u.deleted_at is null
         on conflict (project_id, user_id) do nothing`,
        [membership.role, membership.project, membership.email],
      );
    }
  }
}
