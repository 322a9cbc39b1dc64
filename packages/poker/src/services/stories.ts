import { type EntityManager, InvalidInputError, publish } from '@huddle/db';
import type { PokerActor } from '../actor.ts';
import { PokerStory } from '../entities/story.ts';
import {
  type AddStoryInput,
  type CompleteStoryInput,
  type EditStoryInput,
  type ImportStoriesInput,
  POKER_EVENTS_CHANNEL,
  type ReorderStoriesInput,
  type StartRoundInput,
  type Story,
  type StoryIdInput,
} from '../schemas.ts';
import {
  lockSession,
  lockStory,
  requireFacilitator,
  requireNoOtherVotingStory,
  requireSessionOpen,
  requireSessionStatus,
  storyStatusConflict,
} from './access.ts';
import { sessionDeck } from './decks.ts';
import { toStory } from './outputs.ts';
import { parseStoriesCsv } from './story-csv.ts';
import { votingDeadline } from './votes.ts';

/** Adds a story at the end of the session's order. */
export async function addStory(em: EntityManager, actor: PokerActor, input: AddStoryInput): Promise<Story> {
  const { sessionId, title, description } = input;
  const { userId } = actor;
  const session = await lockSession(em, sessionId, 'write');
  requireFacilitator(session, userId, 'add stories');
  requireSessionOpen(session, 'add a story');
  // Served by idx_stories_session (session_id, story_order), read backwards.
  const last = await em.findOne(PokerStory, { session: sessionId }, { orderBy: { storyOrder: 'desc' } });
  const story = em.create(PokerStory, {
    session,
    title,
    description: description ?? null,
    storyOrder: (last?.storyOrder ?? 0) + 1,
  });
  await em.flush();
  await publish(em, POKER_EVENTS_CHANNEL, {
    type: 'story_changed',
    sessionId,
    storyId: story.id,
    change: 'added',
  });
  return toStory(story);
}

export async function editStory(em: EntityManager, actor: PokerActor, input: EditStoryInput): Promise<Story> {
  const { storyId, title, description } = input;
  const { userId } = actor;
  const { story, session } = await lockStory(em, storyId, 'write');
  requireFacilitator(session, userId, 'edit its stories');
  requireSessionOpen(session, 'edit a story');
  if (title !== undefined) story.title = title;
  if (description !== undefined) story.description = description;
  await publish(em, POKER_EVENTS_CHANNEL, {
    type: 'story_changed',
    sessionId: session.id,
    storyId,
    change: 'edited',
  });
  return toStory(story);
}

/** Deletes a story; the database deletes its votes with it (on delete cascade). Returns the story as it was. */
export async function deleteStory(em: EntityManager, actor: PokerActor, input: StoryIdInput): Promise<Story> {
  const { storyId } = input;
  const { userId } = actor;
  const { story, session } = await lockStory(em, storyId, 'write');
  requireFacilitator(session, userId, 'delete its stories');
  requireSessionOpen(session, 'delete a story');
  const deleted = toStory(story);
  em.remove(story);
  await publish(em, POKER_EVENTS_CHANNEL, {
    type: 'story_changed',
    sessionId: session.id,
    storyId,
    change: 'deleted',
  });
  return deleted;
}

/**
 * Puts the session's stories in the given order, all or nothing: `storyIds` must list every story of the
 * session exactly once. Returns the stories in their new order.
 */
export async function reorderStories(
  em: EntityManager,
  actor: PokerActor,
  input: ReorderStoriesInput,
): Promise<Story[]> {
  const { sessionId, storyIds } = input;
  const { userId } = actor;
  const session = await lockSession(em, sessionId, 'write');
  requireFacilitator(session, userId, 'reorder its stories');
  requireSessionOpen(session, 'reorder stories');
  const stories = await em.find(PokerStory, { session: sessionId });
  const position = new Map(storyIds.map((id, index) => [id, index + 1]));
  const unknown = storyIds.filter((id) => !stories.some((story) => story.id === id));
  const missing = stories.filter((story) => !position.has(story.id)).map((story) => story.id);
  if (unknown.length > 0 || missing.length > 0) {
    const problems = [
      unknown.length > 0 && `not in session ${sessionId}: ${unknown.join(', ')}`,
      missing.length > 0 && `missing: ${missing.join(', ')}`,
    ].filter(Boolean);
    throw new InvalidInputError(
      `storyIds: must list every story of session ${sessionId} exactly once (${problems.join('; ')})`,
      { field: 'storyIds' },
    );
  }
  for (const story of stories) story.storyOrder = position.get(story.id)!;
  await publish(em, POKER_EVENTS_CHANNEL, {
    type: 'story_changed',
    sessionId,
    storyId: null,
    change: 'reordered',
  });
  return stories.sort((a, b) => a.storyOrder - b.storyOrder).map(toStory);
}

/**
 * pending → voting: opens the story's voting round, with a timer when `votingSeconds` is given (its votes
 * are then revealed when it runs out, if not before). One story per session votes at a time.
 */
export async function startVoting(
  em: EntityManager,
  actor: PokerActor,
  input: StartRoundInput,
): Promise<Story> {
  const { storyId, votingSeconds } = input;
  const { userId } = actor;
  const { story, session } = await lockStory(em, storyId, 'write');
  requireFacilitator(session, userId, 'start voting');
  requireSessionStatus(session, ['active'], 'start voting');
  if (story.status !== 'pending') {
    throw storyStatusConflict(story, 'start voting on it', 'pending');
  }
  await requireNoOtherVotingStory(em, story);
  story.status = 'voting';
  story.votingDeadline = votingDeadline(votingSeconds);
  await publish(em, POKER_EVENTS_CHANNEL, {
    type: 'story_changed',
    sessionId: session.id,
    storyId,
    change: 'voting_started',
  });
  return toStory(story);
}

/**
 * pending or voting → completed with the agreed estimate. Completing ends the voting round, so its votes
 * become visible (revealed_at is set) if the facilitator had not revealed them yet.
 */
export async function completeStory(
  em: EntityManager,
  actor: PokerActor,
  input: CompleteStoryInput,
): Promise<Story> {
  const { storyId, finalPoints } = input;
  const { userId } = actor;
  const { story, session } = await lockStory(em, storyId, 'write');
  requireFacilitator(session, userId, 'complete stories');
  requireSessionStatus(session, ['active'], 'complete a story');
  if (story.status === 'completed') {
    throw storyStatusConflict(story, 'complete it again (start a re-vote to change it)', 'pending or voting');
  }
  const deck = await sessionDeck(em, session.deck?.id ?? null);
  if (!deck.cards.some((card) => card.card === finalPoints)) {
    throw new InvalidInputError(
      `finalPoints: ${JSON.stringify(finalPoints)} is not a card of session ${session.id}'s deck (${deck.cards.map((card) => card.card).join(' ')})`,
      { field: 'finalPoints' },
    );
  }
  if (story.status === 'voting') story.revealedAt ??= new Date();
  story.status = 'completed';
  story.finalPoints = finalPoints;
  await publish(em, POKER_EVENTS_CHANNEL, {
    type: 'story_changed',
    sessionId: session.id,
    storyId,
    change: 'completed',
  });
  return toStory(story);
}

/**
 * Adds the stories of a CSV file (a header naming `title` and optionally `description`, then one story per
 * row) at the end of the session's order, all or nothing: if any row is wrong, nothing is added and the
 * refusal names each wrong row (as a spreadsheet numbers them: the header is row 1) and field.
 */
export async function importStories(
  em: EntityManager,
  actor: PokerActor,
  input: ImportStoriesInput,
): Promise<Story[]> {
  const { sessionId, csv } = input;
  const { userId } = actor;
  const rows = parseStoriesCsv(csv);
  const session = await lockSession(em, sessionId, 'write');
  requireFacilitator(session, userId, 'import stories');
  requireSessionOpen(session, 'import stories');
  const last = await em.findOne(PokerStory, { session: sessionId }, { orderBy: { storyOrder: 'desc' } });
  const first = (last?.storyOrder ?? 0) + 1;
  const stories = rows.map((row, index) =>
    em.create(PokerStory, {
      session,
      title: row.title,
      description: row.description ?? null,
      storyOrder: first + index,
    }),
  );
  await em.flush();
  await publish(em, POKER_EVENTS_CHANNEL, {
    type: 'story_changed',
    sessionId,
    storyId: null,
    change: 'imported',
  });
  return stories.map(toStory);
}
