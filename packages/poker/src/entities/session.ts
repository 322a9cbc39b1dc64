import { defineEntity, p } from '@huddle/db';
import { SESSION_STATUSES, type SessionStatus } from '../schemas.ts';
import { PokerSessionParticipant } from './session-participant.ts';
import { sqlStringList } from './sql-list.ts';
import { PokerStory } from './story.ts';
import { PokerUser } from './user.ts';

/** poker.sessions: one planning meeting, run by its facilitator. */
const PokerSessionSchema = defineEntity({
  name: 'PokerSession',
  tableName: 'sessions',
  schema: 'poker',
  properties: {
    id: p.integer().primary().autoincrement(),
    name: p.string().length(200),
    facilitator: () => p.manyToOne(PokerUser).ref().index('idx_sessions_facilitator'),
    status: p.string().length(20).$type<SessionStatus>().default('active'),
    createdAt: p.datetime().columnType('timestamptz').defaultRaw('current_timestamp'),
    updatedAt: p.datetime().columnType('timestamptz').defaultRaw('current_timestamp'),
    stories: () => p.oneToMany(PokerStory).mappedBy('session'),
    participants: () => p.oneToMany(PokerSessionParticipant).mappedBy('session'),
  },
  checks: [{ name: 'check_status', expression: `status in (${sqlStringList(SESSION_STATUSES)})` }],
  // The database keeps updated_at current, so no writer (service, seeder, raw SQL) can forget it.
  triggers: [
    {
      name: 'touch_updated_at',
      timing: 'before',
      events: ['update'],
      body: 'new.updated_at = now(); return new;',
    },
  ],
});
export class PokerSession extends PokerSessionSchema.class {}
PokerSessionSchema.setClass(PokerSession);
