import { issueActorToken } from '@huddle/composition';
import { runAsActor } from '@huddle/db';
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
  mySessionPageSchema,
  POKER_EVENTS_CHANNEL,
  participantSchema,
  pauseSession,
  pokerActor,
  pokerEventSchema,
  pokerModule,
  renameSession,
  renameSessionInputSchema,
  reorderStories,
  reorderStoriesInputSchema,
  resumeSession,
  revealVotes,
  revote,
  rotateJoinCode,
  sessionDetailSchema,
  sessionIdInputSchema,
  sessionSchema,
  startVoting,
  storyIdInputSchema,
  storySchema,
  storySummarySchema,
  userSchema,
  voteSchema,
} from '@huddle/poker';
import { z } from 'zod';
import { eventStream } from '../event-stream.ts';
import { actorProcedure, anonymousTransaction, authedProcedure, router, signInProcedure } from '../trpc.ts';

/** Every poker procedure but `join` acts as the user of a poker token, with least privilege. */
const pokerProcedure = actorProcedure(pokerModule);

export const pokerRouter = router({
  /** Temporary identity: a new user (guest, or a new email), or the token's own user again; a poker token. */
  join: signInProcedure
    .use(anonymousTransaction(pokerModule))
    .input(joinInputSchema)
    .output(z.object({ user: userSchema, token: z.string(), expiresAt: z.iso.datetime() }))
    .mutation(async ({ ctx, input }) => {
      // A valid poker token proves who is joining again with their email; anything else is a newcomer.
      const caller = ctx.token?.module === pokerModule.name ? pokerActor.parse(ctx.token.subject) : null;
      const user = await join(ctx.em, input, caller);
      const issued = await issueActorToken(ctx.secret, pokerActor, { module: 'poker', userId: user.id });
      return { user, ...issued };
    }),
  me: pokerProcedure.output(userSchema).query(({ ctx }) => getCurrentUser(ctx.em, ctx.actor)),

  sessions: router({
    create: pokerProcedure
      .output(sessionSchema)
      .input(createSessionInputSchema)
      .mutation(({ ctx, input }) => createSession(ctx.em, ctx.actor, input)),
    rename: pokerProcedure
      .output(sessionSchema)
      .input(renameSessionInputSchema)
      .mutation(({ ctx, input }) => renameSession(ctx.em, ctx.actor, input)),
    pause: pokerProcedure
      .output(sessionSchema)
      .input(sessionIdInputSchema)
      .mutation(({ ctx, input }) => pauseSession(ctx.em, ctx.actor, input)),
    resume: pokerProcedure
      .output(sessionSchema)
      .input(sessionIdInputSchema)
      .mutation(({ ctx, input }) => resumeSession(ctx.em, ctx.actor, input)),
    complete: pokerProcedure
      .output(sessionSchema)
      .input(sessionIdInputSchema)
      .mutation(({ ctx, input }) => completeSession(ctx.em, ctx.actor, input)),
    rotateJoinCode: pokerProcedure
      .output(sessionSchema)
      .input(sessionIdInputSchema)
      .mutation(({ ctx, input }) => rotateJoinCode(ctx.em, ctx.actor, input)),
    join: pokerProcedure
      .output(participantSchema)
      .input(joinSessionInputSchema)
      .mutation(({ ctx, input }) => joinSession(ctx.em, ctx.actor, input)),
    get: pokerProcedure
      .output(sessionDetailSchema)
      .input(sessionIdInputSchema)
      .query(({ ctx, input }) => getSession(ctx.em, ctx.actor, input)),
    mine: pokerProcedure
      .output(mySessionPageSchema)
      .input(listMySessionsInputSchema.prefault({}))
      .query(({ ctx, input }) => listMySessions(ctx.em, ctx.actor, input)),
  }),

  stories: router({
    add: pokerProcedure
      .output(storySchema)
      .input(addStoryInputSchema)
      .mutation(({ ctx, input }) => addStory(ctx.em, ctx.actor, input)),
    edit: pokerProcedure
      .output(storySchema)
      .input(editStoryInputSchema)
      .mutation(({ ctx, input }) => editStory(ctx.em, ctx.actor, input)),
    delete: pokerProcedure
      .output(storySchema)
      .input(storyIdInputSchema)
      .mutation(({ ctx, input }) => deleteStory(ctx.em, ctx.actor, input)),
    reorder: pokerProcedure
      .output(storySchema.array())
      .input(reorderStoriesInputSchema)
      .mutation(({ ctx, input }) => reorderStories(ctx.em, ctx.actor, input)),
    startVoting: pokerProcedure
      .output(storySchema)
      .input(storyIdInputSchema)
      .mutation(({ ctx, input }) => startVoting(ctx.em, ctx.actor, input)),
    reveal: pokerProcedure
      .output(storySchema)
      .input(storyIdInputSchema)
      .mutation(({ ctx, input }) => revealVotes(ctx.em, ctx.actor, input)),
    revote: pokerProcedure
      .output(storySchema)
      .input(storyIdInputSchema)
      .mutation(({ ctx, input }) => revote(ctx.em, ctx.actor, input)),
    complete: pokerProcedure
      .output(storySchema)
      .input(completeStoryInputSchema)
      .mutation(({ ctx, input }) => completeStory(ctx.em, ctx.actor, input)),
    summary: pokerProcedure
      .output(storySummarySchema)
      .input(storyIdInputSchema)
      .query(({ ctx, input }) => getStorySummary(ctx.em, ctx.actor, input)),
  }),

  votes: router({
    cast: pokerProcedure
      .output(voteSchema)
      .input(castVoteInputSchema)
      .mutation(({ ctx, input }) => castVote(ctx.em, ctx.actor, input)),
  }),

  /**
   * Live events of one session over Server-Sent Events: votes cast (who, never the value), reveals, story
   * and session changes. Fed by LISTEN/NOTIFY, so events from every API process on the database arrive.
   */
  events: authedProcedure(pokerModule)
    .input(sessionIdInputSchema)
    .subscription(async ({ ctx, input, signal }) => {
      // Checked before streaming, inside the procedure's error mapping: a session the actor can't see is
      // NOT_FOUND / FORBIDDEN as in a query, never an error from inside the stream.
      await runAsActor(ctx.db.orm, pokerModule, ctx.actor, (em, actor) => getSession(em, actor, input));
      return eventStream(ctx, POKER_EVENTS_CHANNEL, signal, (payload) => {
        const event = pokerEventSchema.safeParse(payload);
        return event.success && event.data.sessionId === input.sessionId ? event.data : undefined;
      });
    }),
});
