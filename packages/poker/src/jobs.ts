import { type EntityManager, type ModuleJob, publish } from '@huddle/db';
import { POKER_EVENTS_CHANNEL } from './schemas.ts';

/**
 * Reveals the open rounds whose timer ran out, in active sessions, and announces each. Exactly once across
 * API processes and requests: it locks each round's session first (as every service that changes a round
 * does), and its update re-checks on the locked row that the round is still open and still past its
 * deadline, so a round revealed, re-voted or completed meanwhile is left alone.
 */
async function revealExpiredRounds(em: EntityManager, { now }: { now: Date }) {
  const revealed = await em.execute<{ storyId: number; sessionId: number }[]>(
    `with due as (
       select st.id from poker.stories st join poker.sessions s on s.id = st.session_id
       where st.status = 'voting' and st.revealed_at is null and st.voting_deadline <= ?
         and s.status = 'active'
       for no key update of s)
     update poker.stories st set revealed_at = ?
     from due
     where st.id = due.id and st.status = 'voting' and st.revealed_at is null and st.voting_deadline <= ?
     returning st.id as "storyId", st.session_id as "sessionId"`,
    [now, now, now],
  );
  for (const { storyId, sessionId } of revealed) {
    await publish(em, POKER_EVENTS_CHANNEL, { type: 'revealed', sessionId, storyId, reason: 'deadline' });
  }
  return { rows: revealed.length, summary: `${revealed.length} rounds revealed when their timer ran out` };
}

/** Poker's scheduled work (`huddle jobs run poker.<name>`), each idempotent. */
export const pokerJobs: ModuleJob[] = [
  {
    name: 'reveal-expired-rounds',
    description: 'Reveal the votes of open rounds whose voting timer ran out, once, and announce it',
    schedule: '* * * * *',
    run: revealExpiredRounds,
  },
];
