import { ConflictError } from '@huddle/db';
import { useTestDatabase } from '@huddle/testing';
import { describe, expect, it } from 'vitest';
import { pokerModule } from '../src/module.ts';
import { POINT_VALUES } from '../src/schemas.ts';
import { createSession, joinSession } from '../src/services/sessions.ts';
import { addStory, startVoting } from '../src/services/stories.ts';
import { join } from '../src/services/users.ts';
import { castVote, revealVotes } from '../src/services/votes.ts';
import { actorOf, asActor, inRequest, newUser, settleAll, useSqlClient } from './helpers.ts';

const test = useTestDatabase([pokerModule]);
const PARALLEL = 50;
const postgres = useSqlClient(test);

/**
 * Runs `race` while every write of `table` (`insert or update` / `update`) sleeps 0.3 s in a test-only
 * trigger; `race` gets `untilSleeping`, which resolves once a write is asleep, holding its locks.
 */
async function withSlowWrites<T>(
  table: string,
  events: string,
  race: (untilSleeping: () => Promise<void>) => Promise<T>,
): Promise<T> {
  await postgres.client.query(`
    create function public.huddle_test_slow_write() returns trigger language plpgsql as
      $$ begin perform pg_sleep(0.3); return new; end $$;
    create trigger huddle_test_slow_write before ${events} on ${table}
      for each row execute function public.huddle_test_slow_write();`);
  const untilSleeping = async () => {
    for (let attempt = 0; ; attempt++) {
      const { rows } = await postgres.client.query(
        "select 1 from pg_stat_activity where state = 'active' and wait_event = 'PgSleep'",
      );
      if (rows.length > 0) return;
      if (attempt > 500) throw new Error(`no write of ${table} reached its trigger`);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  };
  try {
    return await race(untilSleeping);
  } finally {
    await postgres.client.query(
      `drop trigger huddle_test_slow_write on ${table}; drop function public.huddle_test_slow_write();`,
    );
  }
}

async function votingStory(title: string) {
  const facilitator = await newUser(test.db, 'Fran');
  const voter = await newUser(test.db, 'Vera');
  const session = await asActor(test.db, facilitator.actor, (em, actor) =>
    createSession(em, actor, { name: title }),
  );
  await asActor(test.db, voter.actor, (em, actor) =>
    joinSession(em, actor, { joinCode: session.joinCode!, role: 'voter' }),
  );
  const stories = [];
  for (const storyTitle of ['First', 'Second']) {
    stories.push(
      await asActor(test.db, facilitator.actor, (em, actor) =>
        addStory(em, actor, { sessionId: session.id, title: storyTitle }),
      ),
    );
  }
  return { facilitator, voter, session, stories };
}

describe('under concurrency', () => {
  it(`${PARALLEL} simultaneous casts by one user on one story leave exactly one vote`, async () => {
    const { facilitator, voter, stories } = await votingStory('Race');
    const storyId = stories[0]!.id;
    await asActor(test.db, facilitator.actor, (em, actor) => startVoting(em, actor, { storyId }));
    const cards = Array.from({ length: PARALLEL }, (_, index) => POINT_VALUES[index % POINT_VALUES.length]!);

    const { results, errors } = await settleAll(
      cards.map(
        (points) => () =>
          asActor(test.db, voter.actor, (em, actor) => castVote(em, actor, { storyId, points })),
      ),
    );

    expect(errors).toEqual([]);
    expect(results).toHaveLength(PARALLEL);
    const votes = await postgres.client.query<{ user_id: number; points: string }>(
      'select user_id, points from poker.votes where story_id = $1',
      [storyId],
    );
    expect(votes.rows).toHaveLength(1);
    expect(votes.rows[0]!.user_id).toBe(voter.id);
    expect(cards).toContain(votes.rows[0]!.points);
  });

  it('two stories started at once: one votes, the other is refused with a ConflictError', async () => {
    const { facilitator, session, stories } = await votingStory('Two at once');
    const { results, errors } = await settleAll(
      stories.map(
        (story) => () =>
          asActor(test.db, facilitator.actor, (em, actor) => startVoting(em, actor, { storyId: story.id })),
      ),
    );
    expect(results).toHaveLength(1);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(ConflictError);
    const voting = await postgres.client.query(
      `select id from poker.stories where session_id = $1 and status = 'voting'`,
      [session.id],
    );
    expect(voting.rows).toEqual([{ id: results[0]!.id }]);
  });

  it('simultaneous joins with one new email make one user (the rest are refused); simultaneous session joins one participant', async () => {
    const email = `race.${process.pid}@test.example`;
    const joined = await settleAll(
      Array.from(
        { length: 10 },
        () => () => inRequest(test.db, (em) => join(em, { name: 'Racer', email }, null)),
      ),
    );
    expect(joined.results).toHaveLength(1);
    expect(joined.errors.map((error) => error.constructor)).toEqual(Array(9).fill(ConflictError));
    const users = await postgres.client.query('select id from poker.users where email = $1', [email]);
    expect(users.rows).toEqual([{ id: joined.results[0]!.id }]);

    const { session } = await votingStory('Crowded');
    const racer = actorOf(joined.results[0]!);
    const participations = await settleAll(
      Array.from(
        { length: 10 },
        (_, index) => () =>
          asActor(test.db, racer, (em, actor) =>
            joinSession(em, actor, {
              joinCode: session.joinCode!,
              role: index % 2 === 0 ? 'voter' : 'spectator',
            }),
          ),
      ),
    );
    expect(participations.errors).toEqual([]);
    const rows = await postgres.client.query(
      'select id from poker.session_participants where session_id = $1 and user_id = $2',
      [session.id, joined.results[0]!.id],
    );
    expect(rows.rows).toHaveLength(1);
  });

  it('a vote racing a reveal lands before it (and is among the revealed cards) or is refused, never after', async () => {
    const { facilitator, voter, stories } = await votingStory('Photo finish');
    const storyId = stories[0]!.id;
    await asActor(test.db, facilitator.actor, (em, actor) => startVoting(em, actor, { storyId }));
    // Slow every vote write down, so the reveal arrives while the vote is between its checks and its commit.
    await withSlowWrites('poker.votes', 'insert or update', async (untilSleeping) => {
      const vote = asActor(test.db, voter.actor, (em, actor) => castVote(em, actor, { storyId, points: '8' }))
        .then(() => 'cast' as const)
        .catch((error: unknown) => {
          if (error instanceof ConflictError) return 'refused' as const;
          throw error;
        });
      await untilSleeping();
      await asActor(test.db, facilitator.actor, (em, actor) => revealVotes(em, actor, { storyId }));
      const cardsAtReveal = await postgres.client.query(
        'select points from poker.votes where story_id = $1',
        [storyId],
      );
      const outcome = await vote;
      const cardsNow = await postgres.client.query('select points from poker.votes where story_id = $1', [
        storyId,
      ]);
      expect(cardsNow.rows).toEqual(cardsAtReveal.rows);
      expect(cardsNow.rows).toEqual(outcome === 'cast' ? [{ points: '8' }] : []);
    });
  });

  it('a vote that waits for a reveal reads the revealed story and is refused', async () => {
    const { facilitator, voter, stories } = await votingStory('Too late');
    const storyId = stories[0]!.id;
    await asActor(test.db, facilitator.actor, (em, actor) => startVoting(em, actor, { storyId }));
    // Slow the reveal's write down, so the vote arrives while the reveal holds its locks.
    await withSlowWrites('poker.stories', 'update', async (untilSleeping) => {
      const reveal = asActor(test.db, facilitator.actor, (em, actor) => revealVotes(em, actor, { storyId }));
      await untilSleeping();
      // Settled at once: the vote may be refused before the reveal's promise resolves here.
      const vote = asActor(test.db, voter.actor, (em, actor) =>
        castVote(em, actor, { storyId, points: '8' }),
      ).then(
        () => undefined,
        (error: unknown) => error,
      );
      await reveal;
      const refusal = await vote;
      expect(refusal).toBeInstanceOf(ConflictError);
      expect((refusal as ConflictError).message).toMatch(/revealed/);
      const cards = await postgres.client.query('select points from poker.votes where story_id = $1', [
        storyId,
      ]);
      expect(cards.rows).toEqual([]);
    });
  });
});
