import type { DemoContext } from '@huddle/db';
import type { PlannerActor } from './actor.ts';
import type { RepositoryAccess } from './roots.ts';

/** The start banner's example: the seeded repositories, as the seeded operator `demo` (a planner token names one). */
export async function plannerDemo({
  url,
  tokenFor,
}: DemoContext<PlannerActor, RepositoryAccess>): Promise<string[]> {
  const token = await tokenFor({ module: 'planner', operator: 'demo', isAdmin: true });
  return [
    'The planner’s repositories, as operator demo:',
    `  curl -s -H "authorization: Bearer ${token}" ${url}/planner.repositories.list`,
  ];
}
