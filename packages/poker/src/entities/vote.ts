import { defineEntity, p } from '@huddle/db';
import { POINT_VALUES, type PointValue } from '../schemas.ts';
import { sqlStringList } from './sql-list.ts';
import { PokerStory } from './story.ts';
import { PokerUser } from './user.ts';

/** poker.votes: one participant's card for one story; at most one per user and story. */
const PokerVoteSchema = defineEntity({
  name: 'PokerVote',
  tableName: 'votes',
  schema: 'poker',
  properties: {
    id: p.integer().primary().autoincrement(),
    story: () => p.manyToOne(PokerStory).ref().deleteRule('cascade').index('idx_votes_story'),
    user: () => p.manyToOne(PokerUser).ref().index('idx_votes_user'),
    points: p.string().length(10).$type<PointValue>(),
    createdAt: p.datetime().columnType('timestamptz').defaultRaw('current_timestamp'),
  },
  uniques: [{ properties: ['story', 'user'] }],
  checks: [{ name: 'check_points_format', expression: `points in (${sqlStringList(POINT_VALUES)})` }],
});
export class PokerVote extends PokerVoteSchema.class {}
PokerVoteSchema.setClass(PokerVote);
