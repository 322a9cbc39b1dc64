import { createdAt, defineEntity, p, sqlStringList } from '@huddle/db';
import { POINT_VALUES } from '../schemas.ts';
import { raiseCheckViolation, requestActs } from './policies.ts';
import { PokerStory } from './story.ts';
import { PokerUser } from './user.ts';

/** poker.votes: one participant's card for one story; at most one per user and story. */
const PokerVoteSchema = defineEntity({
  name: 'PokerVote',
  tableName: 'votes',
  properties: {
    id: p.integer().primary().autoincrement(),
    story: () => p.manyToOne(PokerStory).ref().deleteRule('cascade').index('idx_votes_story'),
    user: () => p.manyToOne(PokerUser).ref().index('idx_votes_user'),
    points: p.string().length(10),
    createdAt: createdAt(),
    /**
     * The deck of the story's session, copied by trigger `points_in_deck` (whatever a request sends); null: the
     * seed's deck, whose rule `check_points_format` then holds the vote to.
     */
    deckId: p.integer().nullable(),
  },
  uniques: [{ properties: ['story', 'user'] }],
  checks: [
    {
      name: 'check_points_format',
      expression: `deck_id is not null or points in (${sqlStringList(POINT_VALUES)})`,
    },
  ],
  triggers: [
    {
      name: 'points_in_deck',
      timing: 'before',
      events: ['insert', 'update'],
      when: requestActs,
      body: `new.deck_id := (select s.deck_id from poker.stories st join poker.sessions s on s.id = st.session_id where st.id = new.story_id); if new.deck_id is not null and not exists (select 1 from poker.deck_cards c where c.deck_id = new.deck_id and c.card = new.points) then ${raiseCheckViolation("points: % is not a card of this session''s deck", 'new.points', 'votes_points_in_deck', 'votes', 'points')} end if; return new;`,
    },
  ],
});
export class PokerVote extends PokerVoteSchema.class {}
PokerVoteSchema.setClass(PokerVote);
