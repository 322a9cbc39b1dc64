import type { DomainModule } from '@huddle/db';
import { type PokerActor, pokerActor } from './actor.ts';
import { pokerDemo } from './demo.ts';
import { PokerDeck } from './entities/deck.ts';
import { PokerDeckCard } from './entities/deck-card.ts';
import { PokerDeviceLink } from './entities/device-link.ts';
import { PokerPastVote } from './entities/past-vote.ts';
import { PokerSession } from './entities/session.ts';
import { PokerSessionParticipant } from './entities/session-participant.ts';
import { PokerStory } from './entities/story.ts';
import { PokerUser } from './entities/user.ts';
import { PokerVote } from './entities/vote.ts';
import { pokerJobs } from './jobs.ts';
import { pokerMigrations } from './migrations/index.ts';
import { pokerOperations } from './operations.ts';
import { POKER_REQUEST_ROLE } from './request-role.ts';
import { PokerMinimalSeeder } from './seeders/minimal.ts';
import { PokerRealisticSeeder } from './seeders/realistic.ts';

/** Planning poker as a Huddle module: Postgres schema `poker`, its own migrations and seeders. */
export const pokerModule = {
  name: 'poker' as const,
  actor: pokerActor,
  signInHint: 'get a poker token from `poker.join` (a guest name, or an email)',
  entities: [
    PokerUser,
    PokerSession,
    PokerStory,
    PokerVote,
    PokerSessionParticipant,
    PokerDeck,
    PokerDeckCard,
    PokerPastVote,
    PokerDeviceLink,
  ],
  migrations: pokerMigrations,
  requestRole: POKER_REQUEST_ROLE,
  seeders: { minimal: PokerMinimalSeeder, realistic: PokerRealisticSeeder },
  operations: pokerOperations,
  jobs: pokerJobs,
  demo: pokerDemo,
  fuzz: async (db) => (await import('./fuzz.ts')).pokerFuzzFixtures(db),
} satisfies DomainModule<PokerActor, undefined>;
