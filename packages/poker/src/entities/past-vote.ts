import { defineEntity, p, timestamptz } from '@huddle/db';
import { PokerStory } from './story.ts';
import { PokerUser } from './user.ts';

/**
 * poker.past_votes (beyond the seed): the votes of a story's earlier rounds, moved here by a re-vote
 * (votes keeps the seed's one vote per user and story), so an export shows every round.
 */
const PokerPastVoteSchema = defineEntity({
  name: 'PokerPastVote',
  tableName: 'past_votes',
  properties: {
    id: p.integer().primary().autoincrement(),
    story: () => p.manyToOne(PokerStory).ref().deleteRule('cascade'),
    round: p.integer(),
    user: () => p.manyToOne(PokerUser).ref().index('past_votes_user_id_index'),
    points: p.string().length(10),
    castAt: timestamptz(),
  },
  // Leads with story_id, so it also covers that foreign key.
  uniques: [{ properties: ['story', 'round', 'user'] }],
  checks: [{ name: 'past_votes_round_check', expression: 'round >= 1' }],
});
export class PokerPastVote extends PokerPastVoteSchema.class {}
PokerPastVoteSchema.setClass(PokerPastVote);
