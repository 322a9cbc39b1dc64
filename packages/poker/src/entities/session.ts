import { checkIn, defineEntity, p, timestamps, touchUpdatedAt } from '@huddle/db';
import { SESSION_STATUSES, type SessionStatus } from '../schemas.ts';
import { PokerDeck } from './deck.ts';
import { raiseCheckViolation } from './policies.ts';
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
    /** Its deck; null: the seed's deck. Chosen when the session is created (trigger `deck_fixed`). */
    deck: () =>
      p.manyToOne(PokerDeck).ref().nullable().deleteRule('restrict').index('sessions_deck_id_index'),
    stories: () => p.oneToMany(PokerStory).mappedBy('session'),
    participants: () => p.oneToMany(PokerSessionParticipant).mappedBy('session'),
  },
  checks: [checkIn('check_status', 'status', SESSION_STATUSES)],
  // The database keeps updated_at current, so no writer (service, seeder, raw SQL) can forget it.
  triggers: [
    touchUpdatedAt,
    // Votes and estimates were checked against the deck they were cast on: it cannot change under them.
    {
      name: 'deck_fixed',
      timing: 'before',
      events: ['update'],
      when: '(old.deck_id IS DISTINCT FROM new.deck_id)',
      body: `${raiseCheckViolation('deck_id: the deck of session % is chosen when it is created', 'new.id', 'sessions_deck_fixed', 'sessions', 'deck_id')} return new;`,
    },
    // The facilitator takes part: handing the role over needs a participant to take it.
    {
      name: 'facilitator_participates',
      timing: 'before',
      events: ['update'],
      when: '(old.facilitator_id IS DISTINCT FROM new.facilitator_id)',
      body: `if not exists (select 1 from poker.session_participants sp where sp.session_id = new.id and sp.user_id = new.facilitator_id) then ${raiseCheckViolation('facilitator_id: user % does not take part in session %', 'new.facilitator_id, new.id', 'sessions_facilitator_participates', 'sessions', 'facilitator_id')} end if; return new;`,
    },
  ],
});
export class PokerSession extends PokerSessionSchema.class {}
PokerSessionSchema.setClass(PokerSession);
