import { type EntityManager, publish } from '@huddle/db';
import { POKER_EVENTS_CHANNEL, type PokerEvent } from '../schemas.ts';

/**
 * Publishes `event` inside the caller's transaction: listeners receive it when (and only if) the change it
 * describes commits. Flushes first so the event never precedes a write that could still fail.
 */
export async function publishPokerEvent(em: EntityManager, event: PokerEvent): Promise<void> {
  await em.flush();
  await publish(em, POKER_EVENTS_CHANNEL, event);
}
