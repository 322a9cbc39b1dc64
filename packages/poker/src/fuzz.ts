import { type Database, type EntityManager, type ModuleFuzzFixtures, runAsActor } from '@huddle/db';
import type { PokerActor } from './actor.ts';
import { pokerModule } from './module.ts';
import { createDeck } from './services/decks.ts';
import { createSession, joinSession, pauseSession } from './services/sessions.ts';
import { addStory, startVoting } from './services/stories.ts';
import { revealVotes } from './services/votes.ts';

/** Poker sessions with a story in voting each: a reveal, a completion or a pause uses one up. */
const VOTING_SESSIONS = 6;

/**
 * Poker's fixtures for the API's fuzz harness (`pokerModule.fuzz`), in a database seeded with the minimal
 * sample data: every generation has sessions facilitated by the seed's facilitator (poker user 1, the
 * harness's first token), each with a story whose voting round is open (one per session votes at a time),
 * every third one revealed, and the seed's second user taking part: the states `votes.cast`,
 * `votes.reveal`, `stories.complete`, `stories.revote`, `sessions.handOver` and
 * `sessions.removeParticipant` need, and for `stories.reorder` the one story each session has (examples:
 * the session and its stories agree; a story of the first token's in voting to reveal). Also a deck of
 * user 1's own that no session uses (`decks.delete`), a session with two participants only the examples
 * remove (`sessions.removeParticipant`), and values `decks.create` and `stories.import` accept.
 */
export async function pokerFuzzFixtures(db: Database): Promise<ModuleFuzzFixtures<undefined>> {
  const facilitator: PokerActor = { module: 'poker', userId: 1 };
  const participant: PokerActor = { module: 'poker', userId: 2 };
  const as = <T>(work: (em: EntityManager, actor: PokerActor) => Promise<T>, actor = facilitator) =>
    runAsActor(db.orm, pokerModule, actor, work);
  return {
    sources: [
      // Newest last, so reused fields mostly pick them.
      { fields: ['sessionId'], sql: 'select id from poker.sessions order by id' },
      { fields: ['joinCode'], sql: 'select join_code as id from poker.sessions' },
      { fields: ['storyId'], sql: 'select id from poker.stories order by id' },
      // Built-in decks (sessions.create takes them) and the fixtures' own (decks.delete takes those).
      { fields: ['deckId'], sql: 'select id from poker.decks order by id' },
      // Participants other than the facilitator: handOver, removeParticipant and setSpectator take them.
      {
        fields: ['userId'],
        sql: 'select distinct user_id as id from poker.session_participants where user_id <> 1',
      },
    ],
    async generation(generation) {
      const values: Record<string, unknown[]> = {
        sessionId: [],
        joinCode: [],
        storyId: [],
        storyIds: [],
        cards: [
          [
            { card: 'S', value: 1 },
            { card: 'L', value: 2 },
          ],
        ],
        scale: ['ordinal'],
        csv: ['title,description\nFuzz import,"from a CSV"\n'],
      };
      await as((em, actor) =>
        createDeck(em, actor, {
          name: `Fuzz deck ${generation}`,
          scale: 'numeric',
          cards: [
            { card: '1', value: 1 },
            { card: '2', value: 2 },
          ],
        }),
      );
      const reorders: unknown[] = [];
      const reveals: unknown[] = [];
      const votes: unknown[] = [];
      const completions: unknown[] = [];
      const starts: unknown[] = [];
      for (let index = 0; index < VOTING_SESSIONS; index++) {
        const session = await as((em, actor) =>
          createSession(em, actor, { name: `Fuzz session ${generation}.${index}` }),
        );
        await as(
          (em, actor) => joinSession(em, actor, { joinCode: session.joinCode!, role: 'voter' }),
          participant,
        );
        const story = await as((em, actor) =>
          addStory(em, actor, { sessionId: session.id, title: `Fuzz story ${index}` }),
        );
        await as((em, actor) => startVoting(em, actor, { storyId: story.id }));
        // A story per example: the examples of one generation go out together, and a revealed story takes no vote.
        if (index % 3 === 2) {
          await as((em, actor) => revealVotes(em, actor, { storyId: story.id }));
          completions.push({ storyId: story.id, finalPoints: '5' });
        } else if (index % 3 === 1) {
          votes.push({ storyId: story.id, points: '3' });
        } else {
          reveals.push({ storyId: story.id });
        }
        const waiting = await as((em, actor) =>
          addStory(em, actor, { sessionId: session.id, title: `Fuzz story ${index} to vote on next` }),
        );
        starts.push({ storyId: waiting.id });
        values.sessionId!.push(session.id);
        values.joinCode!.push(session.joinCode);
        values.storyId!.push(story.id);
        values.storyIds!.push([story.id, waiting.id]);
        reorders.push({ sessionId: session.id, storyIds: [story.id, waiting.id] });
      }
      // A paused session of its own, for `sessions.resume`.
      const paused = await as((em, actor) => createSession(em, actor, { name: `Fuzz paused ${generation}` }));
      await as((em, actor) => pauseSession(em, actor, { sessionId: paused.id }));
      // A session of its own (in no value) whose participants only the examples remove: random calls hand
      // over, remove and make spectators in the voting sessions.
      const left = await as((em, actor) =>
        createSession(em, actor, { name: `Fuzz session to leave ${generation}` }),
      );
      const removals: unknown[] = [];
      for (const leaver of [participant, { module: 'poker', userId: 3 } satisfies PokerActor]) {
        await as((em, actor) => joinSession(em, actor, { joinCode: left.joinCode!, role: 'voter' }), leaver);
        removals.push({ sessionId: left.id, userId: leaver.userId });
      }
      return {
        values,
        examples: {
          'poker.sessions.resume': [{ sessionId: paused.id }],
          'poker.sessions.removeParticipant': removals,
          'poker.stories.reorder': reorders,
          'poker.stories.reveal': reveals,
          'poker.votes.cast': votes,
          'poker.stories.complete': completions,
          'poker.stories.startVoting': starts,
        },
      };
    },
  };
}
