import type { Dictionary, EntityManager, SeedContext } from '@huddle/db';
import { Seeder } from '@huddle/db';
import { PokerSession } from '../entities/session.ts';
import { PokerSessionParticipant } from '../entities/session-participant.ts';
import { PokerStory } from '../entities/story.ts';
import { PokerUser } from '../entities/user.ts';

/** The seed document's sample users. */
export const MINIMAL_USERS = [
  { name: 'Test Facilitator', email: 'facilitator@example.com' },
  { name: 'Test Member 1', email: 'member1@example.com' },
  { name: 'Test Member 2', email: 'member2@example.com' },
] as const;

export const DEMO_SESSION_NAME = 'Demo planning session';

const DEMO_STORIES = [
  { title: 'Sign in with a magic link', description: 'Users get a one-time sign-in link by email.' },
  { title: 'Show who has not voted yet', description: null },
  { title: 'Export the estimates as CSV', description: 'One row per story with its final points.' },
];

/**
 * The sample data of the seed document plus one demo session ("Demo planning session", facilitated by Test
 * Facilitator, both members taking part, three stories). Idempotent: it writes only what is missing, so a
 * second run changes nothing.
 */
export class PokerMinimalSeeder extends Seeder<SeedContext & Dictionary> {
  async run(em: EntityManager): Promise<void> {
    const emails = MINIMAL_USERS.map((user) => user.email);
    const existing = await em.find(PokerUser, { email: { $in: emails } });
    const users = MINIMAL_USERS.map(
      (sample) => existing.find((user) => user.email === sample.email) ?? em.create(PokerUser, { ...sample }),
    );
    await em.flush();
    const [facilitator, ...members] = users as [PokerUser, ...PokerUser[]];
    if (await em.count(PokerSession, { name: DEMO_SESSION_NAME, facilitator })) return;
    const session = em.create(PokerSession, { name: DEMO_SESSION_NAME, facilitator });
    for (const user of [facilitator, ...members]) em.create(PokerSessionParticipant, { session, user });
    for (const [index, story] of DEMO_STORIES.entries()) {
      em.create(PokerStory, { session, ...story, storyOrder: index + 1 });
    }
  }
}
