import { createdAt, defineEntity, p } from '@huddle/db';
import { PokerSession } from './session.ts';
import { PokerUser } from './user.ts';

/** poker.session_participants: who takes part in a session, and whether they vote or only watch. */
const PokerSessionParticipantSchema = defineEntity({
  name: 'PokerSessionParticipant',
  tableName: 'session_participants',
  properties: {
    id: p.integer().primary().autoincrement(),
    session: () => p.manyToOne(PokerSession).ref().deleteRule('cascade'),
    user: () => p.manyToOne(PokerUser).ref().index('session_participants_user_id_index'),
    joinedAt: createdAt(),
    isSpectator: p.boolean().default(false),
  },
  // Leads with session_id, so it also covers that foreign key.
  uniques: [{ properties: ['session', 'user'] }],
});
export class PokerSessionParticipant extends PokerSessionParticipantSchema.class {}
PokerSessionParticipantSchema.setClass(PokerSessionParticipant);
