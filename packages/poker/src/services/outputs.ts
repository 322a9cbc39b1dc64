import type { Loaded } from '@huddle/db';
import type { PokerSession } from '../entities/session.ts';
import type { PokerSessionParticipant } from '../entities/session-participant.ts';
import type { PokerStory } from '../entities/story.ts';
import type { PokerUser } from '../entities/user.ts';
import type { Participant, Session, Story, User } from '../schemas.ts';

/** Entities → the plain, serialisable shapes of schemas.ts that services return. */

export function toUser(user: PokerUser): User {
  return {
    id: user.id,
    name: user.name,
    email: user.email ?? null,
    createdAt: user.createdAt.toISOString(),
    lastActive: user.lastActive.toISOString(),
  };
}

/** A session as `viewerId` sees it: only its facilitator sees the join code. */
export function toSession(session: PokerSession, viewerId: number): Session {
  return {
    id: session.id,
    name: session.name,
    facilitatorId: session.facilitator.id,
    status: session.status,
    joinCode: session.facilitator.id === viewerId ? session.joinCode : null,
    createdAt: session.createdAt.toISOString(),
    updatedAt: session.updatedAt.toISOString(),
  };
}

export function toStory(story: PokerStory): Story {
  return {
    id: story.id,
    sessionId: story.session.id,
    title: story.title,
    description: story.description ?? null,
    storyOrder: story.storyOrder,
    status: story.status,
    finalPoints: story.finalPoints ?? null,
    revealedAt: story.revealedAt?.toISOString() ?? null,
    createdAt: story.createdAt.toISOString(),
  };
}

export function toParticipant(participant: Loaded<PokerSessionParticipant, 'user'>): Participant {
  return {
    sessionId: participant.session.id,
    userId: participant.user.id,
    name: participant.user.$.name,
    isSpectator: participant.isSpectator,
    joinedAt: participant.joinedAt.toISOString(),
  };
}
