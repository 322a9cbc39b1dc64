import { checkIn, createdAt, defineEntity, p, sqlStringList, timestamptz } from '@huddle/db';
import { POINT_VALUES, STORY_STATUSES, type StoryStatus } from '../schemas.ts';
import { raiseCheckViolation, requestActs } from './policies.ts';
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
    finalPoints: p.string().length(10).nullable(),
    /** When this round's votes were revealed (by the facilitator, the last vote or the timer); null while hidden. */
    revealedAt: timestamptz().nullable(),
    /** When this round's votes are revealed whoever has voted (the `reveal-expired-rounds` job); null: no timer. */
    votingDeadline: timestamptz().nullable(),
    /** The voting round, from 1: a re-vote moves the votes to past_votes and starts the next. */
    round: p.integer().default(1),
    votes: () => p.oneToMany(PokerVote).mappedBy('story'),
  },
  // Leads with session_id, so it also covers the foreign key.
  indexes: [
    { name: 'idx_stories_session', properties: ['session', 'storyOrder'] },
    // The timer job's read: open rounds whose deadline passed.
    {
      name: 'stories_open_deadline_index',
      properties: ['votingDeadline'],
      where: "status = 'voting' and revealed_at is null and voting_deadline is not null",
    },
  ],
  // A session votes on one story at a time; the database refuses a second one even when two requests race.
  uniques: [{ name: 'stories_one_voting_per_session', properties: ['session'], where: "status = 'voting'" }],
  checks: [
    checkIn('check_story_status', 'status', STORY_STATUSES),
    { name: 'stories_round_check', expression: 'round >= 1' },
  ],
  // The estimate is a card of the session's deck (the seed's when it has none): a CHECK cannot read the session.
  triggers: [
    {
      name: 'final_points_in_deck',
      timing: 'before',
      events: ['insert', 'update'],
      when: `((new.final_points IS NOT NULL) AND ${requestActs})`,
      body: `if not coalesce((select case when s.deck_id is null then new.final_points in (${sqlStringList(POINT_VALUES)}) else exists (select 1 from poker.deck_cards c where c.deck_id = s.deck_id and c.card = new.final_points) end from poker.sessions s where s.id = new.session_id), true) then ${raiseCheckViolation("finalPoints: % is not a card of session %''s deck", 'new.final_points, new.session_id', 'stories_final_points_in_deck', 'stories', 'final_points')} end if; return new;`,
    },
  ],
});
export class PokerStory extends PokerStorySchema.class {}
PokerStorySchema.setClass(PokerStory);
