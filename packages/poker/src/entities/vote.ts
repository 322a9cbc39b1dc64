import { checkIn, createdAt, defineEntity, p } from '@huddle/db';
import { POINT_VALUES, type PointValue } from '../schemas.ts';
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
    points: p.string().length(10).$type<PointValue>(),
    createdAt: createdAt(),
  },
  uniques: [{ properties: ['story', 'user'] }],
  checks: [checkIn('check_points_format', 'points', POINT_VALUES)],
});
export class PokerVote extends PokerVoteSchema.class {}
PokerVoteSchema.setClass(PokerVote);
