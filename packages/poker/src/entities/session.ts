import { checkIn, defineEntity, p, timestamps, touchUpdatedAt } from '@huddle/db';
import { SESSION_STATUSES, type SessionStatus } from '../schemas.ts';
import { PokerSessionParticipant } from './session-participant.ts';
import { PokerStory } from './story.ts';
import { PokerUser } from './user.ts';

/** poker.sessions: one planning meeting, run by its facilitator. */
const PokerSessionSchema = defineEntity({
  name: 'PokerSession',
  tableName: 'sessions',
  properties: {
    id: p.integer().primary().autoincrement(),
    name: p.string().length(200),
    facilitator: () => p.manyToOne(PokerUser).ref().index('idx_sessions_facilitator'),
    status: p.string().length(20).$type<SessionStatus>().default('active'),
    /** Required to join: sequential ids are guessable, this is not (122 random bits). */
    joinCode: p
      .string()
      .length(32)
      .defaultRaw(`replace((gen_random_uuid())::text, '-'::text, ''::text)`)
      .unique('sessions_join_code_unique'),
    ...timestamps(),
    stories: () => p.oneToMany(PokerStory).mappedBy('session'),
    participants: () => p.oneToMany(PokerSessionParticipant).mappedBy('session'),
  },
  checks: [checkIn('check_status', 'status', SESSION_STATUSES)],
  // The database keeps updated_at current, so no writer (service, seeder, raw SQL) can forget it.
  triggers: [touchUpdatedAt],
});
export class PokerSession extends PokerSessionSchema.class {}
PokerSessionSchema.setClass(PokerSession);
