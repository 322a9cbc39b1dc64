import { type DemoContext, inRequestScope } from '@huddle/db';
import type { PokerActor } from './actor.ts';
import { MINIMAL_USERS } from './seeders/minimal.ts';
import { findUserByEmail } from './services/users.ts';

/** The start banner's example: the seeded demo session, as its facilitator. */
export async function pokerDemo({
  db,
  url,
  tokenFor,
}: DemoContext<PokerActor, undefined>): Promise<string[]> {
  const facilitator = await inRequestScope(db.orm, (em) => findUserByEmail(em, MINIMAL_USERS[0].email));
  if (!facilitator) return [];
  const token = await tokenFor({ module: 'poker', userId: facilitator.id });
  return [
    'The demo session, as its facilitator:',
    `  curl -s -H "authorization: Bearer ${token}" ${url}/poker.sessions.mine`,
  ];
}
