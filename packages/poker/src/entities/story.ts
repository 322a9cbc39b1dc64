import { checkIn, createdAt, defineEntity, p, timestamptz } from '@huddle/db';
import { POINT_VALUES, type PointValue, STORY_STATUSES, type StoryStatus } from '../schemas.ts';
import { PokerSession } from './session.ts';
import { PokerVote } from './vote.ts';

/** poker.stories: the backlog items a session estimates, in the facilitator's order. */
const PokerStorySchema = defineEntity({
  name: 'PokerStory',
  tableName: 'stories',
  properties: {
    id: p.integer().primary().autoincrement(),
    session: () => p.manyToOne(PokerSession).ref().deleteRule('cascade'),
    title: p.string().length(500),
    description: p.text().nullable(),
    storyOrder: p.integer().default(0),
    status: p.string().length(20).$type<StoryStatus>().default('pending'),
    createdAt: createdAt(),
    /** The estimate the facilitator settled on when completing the story. */
    finalPoints: p.string().length(10).$type<PointValue>().nullable(),
    /** When the facilitator revealed this round's votes; null while they are hidden. */
    revealedAt: timestamptz().nullable(),
    votes: () => p.oneToMany(PokerVote).mappedBy('story'),
  },
  // Leads with session_id, so it also covers the foreign key.
  indexes: [{ name: 'idx_stories_session', properties: ['session', 'storyOrder'] }],
  // A session votes on one story at a time; the database refuses a second one even when two requests race.
  uniques: [{ name: 'stories_one_voting_per_session', properties: ['session'], where: "status = 'voting'" }],
  checks: [
    checkIn('check_story_status', 'status', STORY_STATUSES),
    checkIn('stories_final_points_check', 'final_points', POINT_VALUES),
  ],
});
export class PokerStory extends PokerStorySchema.class {}
PokerStorySchema.setClass(PokerStory);
