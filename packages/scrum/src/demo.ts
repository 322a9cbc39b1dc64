import { type DemoContext, inRequestScope } from '@huddle/db';
import type { ScrumActor } from './actor.ts';
import type { ScrumResources } from './module.ts';
import { MINIMAL_USERS } from './seeders/minimal.ts';
import { findActiveUserIdByGithubId } from './services/users.ts';

/** The start banner's example: the team directory, as the seed's project manager. */
export async function scrumDemo({
  db,
  url,
  tokenFor,
}: DemoContext<ScrumActor, ScrumResources>): Promise<string[]> {
  const projectManager = await inRequestScope(db.orm, (em) =>
    findActiveUserIdByGithubId(em, MINIMAL_USERS[1].githubId),
  );
  if (!projectManager) return [];
  const token = await tokenFor({ module: 'scrum', userId: projectManager, role: 'project_manager' });
  return [
    'The scrum team directory, as the seed’s project manager:',
    `  curl -s -H "authorization: Bearer ${token}" ${url}/scrum.users.directory`,
  ];
}
