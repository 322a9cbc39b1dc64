import { EventEmitter, on } from 'node:events';
import { inRequestScope } from '@huddle/db';
import {
  addStory,
  addStoryInputSchema,
  castVote,
  castVoteInputSchema,
  completeSession,
  completeStory,
  completeStoryInputSchema,
  createSession,
  createSessionInputSchema,
  deleteStory,
  editStory,
  editStoryInputSchema,
  getCurrentUser,
  getSession,
  getStorySummary,
  join,
  joinInputSchema,
  joinSession,
  joinSessionInputSchema,
  listMySessions,
  listMySessionsInputSchema,
  POKER_EVENTS_CHANNEL,
  type PokerEvent,
  pauseSession,
  pokerEventSchema,
  pokerModule,
  renameSession,
  renameSessionInputSchema,
  reorderStories,
  reorderStoriesInputSchema,
  resumeSession,
  revealVotes,
  revote,
  sessionIdInputSchema,
  startVoting,
  storyIdInputSchema,
} from '@huddle/poker';
import { issueToken } from '../auth.ts';
import { authedProcedure, publicProcedure, router, transactional } from '../trpc.ts';

/** Every poker procedure but `join` acts as the user of a poker token, in one transaction. */
const pokerProcedure = authedProcedure(pokerModule.name).use(transactional);

/**
 * The subscription's first message: sent once the server is listening, so a client knows that every
 * event committed from now on will reach it.
 */
type SubscribedMessage = { type: 'subscribed'; sessionId: number };

export const pokerRouter = router({
  /** Temporary identity: creates or finds the user (by email) and returns a poker token for it. */
  join: publicProcedure
    .use(transactional)
    .input(joinInputSchema)
    .mutation(async ({ ctx, input }) => {
      const user = await join(ctx.em, input);
      const { token, expiresAt } = await issueToken(ctx.secret, {
        module: pokerModule.name,
        userId: String(user.id),
      });
      return { user, token, expiresAt };
    }),
  me: pokerProcedure.query(({ ctx }) => getCurrentUser(ctx.em, ctx.actor)),

  sessions: router({
    create: pokerProcedure
      .input(createSessionInputSchema)
      .mutation(({ ctx, input }) => createSession(ctx.em, ctx.actor, input)),
    rename: pokerProcedure
      .input(renameSessionInputSchema)
      .mutation(({ ctx, input }) => renameSession(ctx.em, ctx.actor, input)),
    pause: pokerProcedure
      .input(sessionIdInputSchema)
      .mutation(({ ctx, input }) => pauseSession(ctx.em, ctx.actor, input)),
    resume: pokerProcedure
      .input(sessionIdInputSchema)
      .mutation(({ ctx, input }) => resumeSession(ctx.em, ctx.actor, input)),
    complete: pokerProcedure
      .input(sessionIdInputSchema)
      .mutation(({ ctx, input }) => completeSession(ctx.em, ctx.actor, input)),
    join: pokerProcedure
      .input(joinSessionInputSchema)
      .mutation(({ ctx, input }) => joinSession(ctx.em, ctx.actor, input)),
    get: pokerProcedure
      .input(sessionIdInputSchema)
      .query(({ ctx, input }) => getSession(ctx.em, ctx.actor, input)),
    mine: pokerProcedure
      .input(listMySessionsInputSchema.optional())
      .query(({ ctx, input }) => listMySessions(ctx.em, ctx.actor, input ?? {})),
  }),

  stories: router({
    add: pokerProcedure
      .input(addStoryInputSchema)
      .mutation(({ ctx, input }) => addStory(ctx.em, ctx.actor, input)),
    edit: pokerProcedure
      .input(editStoryInputSchema)
      .mutation(({ ctx, input }) => editStory(ctx.em, ctx.actor, input)),
    delete: pokerProcedure
      .input(storyIdInputSchema)
      .mutation(({ ctx, input }) => deleteStory(ctx.em, ctx.actor, input)),
    reorder: pokerProcedure
      .input(reorderStoriesInputSchema)
      .mutation(({ ctx, input }) => reorderStories(ctx.em, ctx.actor, input)),
    startVoting: pokerProcedure
      .input(storyIdInputSchema)
      .mutation(({ ctx, input }) => startVoting(ctx.em, ctx.actor, input)),
    reveal: pokerProcedure
      .input(storyIdInputSchema)
      .mutation(({ ctx, input }) => revealVotes(ctx.em, ctx.actor, input)),
    revote: pokerProcedure
      .input(storyIdInputSchema)
      .mutation(({ ctx, input }) => revote(ctx.em, ctx.actor, input)),
    complete: pokerProcedure
      .input(completeStoryInputSchema)
      .mutation(({ ctx, input }) => completeStory(ctx.em, ctx.actor, input)),
    summary: pokerProcedure
      .input(storyIdInputSchema)
      .query(({ ctx, input }) => getStorySummary(ctx.em, ctx.actor, input)),
  }),

  votes: router({
    cast: pokerProcedure
      .input(castVoteInputSchema)
      .mutation(({ ctx, input }) => castVote(ctx.em, ctx.actor, input)),
  }),

  /**
   * Live events of one session over Server-Sent Events: votes cast (who, never the value), reveals, story
   * and session changes. Fed by LISTEN/NOTIFY, so events from every API process on the database arrive.
   */
  events: authedProcedure(pokerModule.name)
    .input(sessionIdInputSchema)
    .subscription(async function* ({ ctx, input, signal }): AsyncGenerator<PokerEvent | SubscribedMessage> {
      // Fails (NOT_FOUND / FORBIDDEN) before streaming when the session can't be seen by the actor.
      await inRequestScope(ctx.db.orm, (em) => getSession(em, ctx.actor, input));
      const events = new EventEmitter();
      const unlisten = await ctx.db.events.listen(POKER_EVENTS_CHANNEL, (payload) => {
        const event = pokerEventSchema.safeParse(payload);
        if (event.success && event.data.sessionId === input.sessionId) events.emit('event', event.data);
      });
      try {
        yield { type: 'subscribed', sessionId: input.sessionId };
        for await (const [event] of on(events, 'event', { signal })) yield event as PokerEvent;
      } finally {
        await unlisten();
      }
    }),
});
