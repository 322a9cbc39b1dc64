import { ConflictError, type EntityManager, ForbiddenError, LockMode, notFound } from '@huddle/db';
import { PokerSession } from '../entities/session.ts';
import { PokerSessionParticipant } from '../entities/session-participant.ts';
import { PokerStory } from '../entities/story.ts';
import type { SessionStatus } from '../schemas.ts';

/**
 * The rules every poker service shares: who the actor is, who may do what, and the locking that keeps a
 * session's state from changing between a service's checks and its writes.
 *
 * Locking: every operation that changes a session, its stories or a voting round holds the session row
 * `for update`; casting a vote holds it `for share`. Votes can then be cast concurrently with each other,
 * but never concurrently with a pause, reveal, re-vote or story change in the same session, and every
 * service takes this one lock first, so they cannot deadlock with each other.
 */

export type SessionLock = 'write' | 'share';

/** Loads a session, locking its row (see above); NotFoundError names `sessionId`. */
export async function lockSession(
  em: EntityManager,
  sessionId: number,
  lock: SessionLock,
): Promise<PokerSession> {
  const session = await em.findOne(PokerSession, sessionId, {
    lockMode: lock === 'write' ? LockMode.PESSIMISTIC_WRITE : LockMode.PESSIMISTIC_READ,
    // Re-read even if this EntityManager has the row already: the locked version is the one that counts.
    refresh: true,
  });
  if (!session) throw notFound('sessionId', 'session', sessionId);
  return session;
}

/**
 * Loads a story and its session with the session locked (see above), reading the story's state only once
 * the lock is held; NotFoundError names `storyId`.
 */
export async function lockStory(
  em: EntityManager,
  storyId: number,
  lock: SessionLock,
): Promise<{ story: PokerStory; session: PokerSession }> {
  const unlocked = await em.findOne(PokerStory, storyId);
  if (!unlocked) throw notFound('storyId', 'story', storyId);
  const session = await lockSession(em, unlocked.session.id, lock);
  // Read again under the lock: the story may have changed, or gone, while this transaction waited for it.
  const story = await em.findOne(PokerStory, storyId, { refresh: true });
  if (!story) throw notFound('storyId', 'story', storyId);
  return { story, session };
}

export function requireFacilitator(session: PokerSession, userId: number, action: string): void {
  if (session.facilitator.id !== userId) {
    throw new ForbiddenError(`sessionId: only the facilitator of session ${session.id} may ${action}`, {
      field: 'sessionId',
    });
  }
}

/** A completed session is read-only. */
export function requireSessionOpen(session: PokerSession, action: string): void {
  requireSessionStatus(session, ['active', 'paused'], action);
}

export function requireSessionStatus(
  session: Pick<PokerSession, 'id' | 'status'>,
  allowed: readonly SessionStatus[],
  action: string,
): void {
  if (!allowed.includes(session.status)) {
    throw new ConflictError(
      `sessionId: cannot ${action}: session ${session.id} is ${session.status} (must be ${allowed.join(' or ')})`,
      { field: 'sessionId' },
    );
  }
}

/** The actor's participation in a session, or null. */
function findParticipant(
  em: EntityManager,
  sessionId: number,
  userId: number,
): Promise<PokerSessionParticipant | null> {
  return em.findOne(PokerSessionParticipant, { session: sessionId, user: userId });
}

/** Reading a session's content is for its participants (the facilitator is one from the start). */
export async function requireParticipant(
  em: EntityManager,
  session: PokerSession,
  userId: number,
): Promise<void> {
  if (session.facilitator.id === userId) return;
  if (!(await findParticipant(em, session.id, userId))) {
    throw new ForbiddenError(`sessionId: join session ${session.id} to see it`, { field: 'sessionId' });
  }
}

/** At most one story of a session is being voted on; the partial unique index enforces it under races too. */
export async function requireNoOtherVotingStory(em: EntityManager, story: PokerStory): Promise<void> {
  const voting = await em.findOne(PokerStory, {
    session: story.session.id,
    status: 'voting',
    id: { $ne: story.id },
  });
  if (voting) {
    throw new ConflictError(
      `storyId: session ${story.session.id} is already voting on story ${voting.id}; complete it first`,
      { field: 'storyId' },
    );
  }
}

export function storyStatusConflict(
  story: Pick<PokerStory, 'id' | 'status'>,
  action: string,
  expected: string,
): ConflictError {
  const message = `storyId: cannot ${action}: story ${story.id} is ${story.status} (must be ${expected})`;
  return new ConflictError(message, { field: 'storyId' });
}
