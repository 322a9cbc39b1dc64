import { operationsFor } from '@huddle/db';
import type { PokerActor } from './actor.ts';
import {
  addStoryInputSchema,
  castVoteInputSchema,
  completeStoryInputSchema,
  createDeckInputSchema,
  createSessionInputSchema,
  deckIdInputSchema,
  deckPageSchema,
  deckSchema,
  deviceLinkSchema,
  editStoryInputSchema,
  exportSessionInputSchema,
  importStoriesInputSchema,
  joinInputSchema,
  joinSessionInputSchema,
  listDecksInputSchema,
  listMySessionsInputSchema,
  MAX_IMPORT_ROWS,
  mySessionPageSchema,
  POKER_EVENTS_CHANNEL,
  participantInputSchema,
  participantSchema,
  pokerEventSchema,
  renameSessionInputSchema,
  reorderStoriesInputSchema,
  sessionCsvExportSchema,
  sessionDetailSchema,
  sessionExportSchema,
  sessionIdInputSchema,
  sessionSchema,
  setSpectatorInputSchema,
  startRoundInputSchema,
  storyIdInputSchema,
  storySchema,
  storySummarySchema,
  userSchema,
  voteSchema,
} from './schemas.ts';
import { createDeck, deleteDeck, listDecks } from './services/decks.ts';
import { exportSession, exportSessionCsv } from './services/export.ts';
import {
  completeSession,
  createSession,
  getSession,
  handOverSession,
  joinSession,
  listMySessions,
  pauseSession,
  removeParticipant,
  renameSession,
  resumeSession,
  rotateJoinCode,
  setSpectator,
} from './services/sessions.ts';
import {
  addStory,
  completeStory,
  deleteStory,
  editStory,
  importStories,
  reorderStories,
  startVoting,
} from './services/stories.ts';
import { getStorySummary } from './services/summary.ts';
import { createDeviceLink, getCurrentUser, join } from './services/users.ts';
import { castVote, revealVotes, revote } from './services/votes.ts';

const operation = operationsFor<PokerActor>();

/** What poker offers callers: the API serves each as `poker.<path>` (see DomainModule.operations). */
export const pokerOperations = {
  /**
   * Temporary identity: a new user (guest, or a new email), or a user with that email again (with their own
   * token, or a device link's code); a poker token.
   */
  join: operation.signIn({
    input: joinInputSchema,
    user: userSchema,
    run: async (transactions, input, { caller }) => {
      const user = await transactions((em) => join(em, input, caller));
      return { user, actor: { module: 'poker', userId: user.id } };
    },
  }),
  me: operation.query({ output: userSchema, run: getCurrentUser }),
  /** A one-time code that signs the caller in on another device (`join` with `email` and `deviceLink`). */
  deviceLink: operation.mutation({ output: deviceLinkSchema, run: createDeviceLink }),

  sessions: {
    create: operation.mutation({
      input: createSessionInputSchema,
      output: sessionSchema,
      run: createSession,
    }),
    rename: operation.mutation({
      input: renameSessionInputSchema,
      output: sessionSchema,
      run: renameSession,
    }),
    pause: operation.mutation({ input: sessionIdInputSchema, output: sessionSchema, run: pauseSession }),
    resume: operation.mutation({ input: sessionIdInputSchema, output: sessionSchema, run: resumeSession }),
    complete: operation.mutation({
      input: sessionIdInputSchema,
      output: sessionSchema,
      run: completeSession,
    }),
    rotateJoinCode: operation.mutation({
      input: sessionIdInputSchema,
      output: sessionSchema,
      run: rotateJoinCode,
    }),
    join: operation.mutation({ input: joinSessionInputSchema, output: participantSchema, run: joinSession }),
    get: operation.query({ input: sessionIdInputSchema, output: sessionDetailSchema, run: getSession }),
    mine: operation.query({
      input: listMySessionsInputSchema.prefault({}),
      output: mySessionPageSchema,
      run: listMySessions,
    }),
    /** The facilitator makes another participant the facilitator. */
    handOver: operation.mutation({
      input: participantInputSchema,
      output: sessionSchema,
      run: handOverSession,
    }),
    /** The facilitator removes a participant (not themselves). */
    removeParticipant: operation.mutation({
      input: participantInputSchema,
      output: participantSchema,
      run: removeParticipant,
    }),
    /** A participant becomes a spectator or a voter again (the facilitator for anyone, anyone for themselves). */
    setSpectator: operation.mutation({
      input: setSpectatorInputSchema,
      output: participantSchema,
      run: setSpectator,
    }),
    /** A page of the session's results: stories, final estimates and every round's votes, as JSON. */
    export: operation.query({
      input: exportSessionInputSchema,
      output: sessionExportSchema,
      run: exportSession,
    }),
    /** The same page as CSV, one line per vote. */
    exportCsv: operation.query({
      input: exportSessionInputSchema,
      output: sessionCsvExportSchema,
      run: exportSessionCsv,
    }),
  },

  decks: {
    /** The built-in decks and the actor's own (the seed's deck, every session's default, is `sessions.get`'s). */
    list: operation.query({
      input: listDecksInputSchema.prefault({}),
      output: deckPageSchema,
      run: listDecks,
    }),
    create: operation.mutation({ input: createDeckInputSchema, output: deckSchema, run: createDeck }),
    delete: operation.mutation({ input: deckIdInputSchema, output: deckSchema, run: deleteDeck }),
  },

  stories: {
    add: operation.mutation({ input: addStoryInputSchema, output: storySchema, run: addStory }),
    edit: operation.mutation({ input: editStoryInputSchema, output: storySchema, run: editStory }),
    delete: operation.mutation({ input: storyIdInputSchema, output: storySchema, run: deleteStory }),
    reorder: operation.mutation({
      input: reorderStoriesInputSchema,
      output: storySchema.array(),
      run: reorderStories,
    }),
    startVoting: operation.mutation({ input: startRoundInputSchema, output: storySchema, run: startVoting }),
    reveal: operation.mutation({ input: storyIdInputSchema, output: storySchema, run: revealVotes }),
    revote: operation.mutation({ input: startRoundInputSchema, output: storySchema, run: revote }),
    /** Stories from CSV (title, description), all or nothing; a refusal names each wrong row and field. */
    import: operation.mutation({
      input: importStoriesInputSchema,
      output: storySchema.array().max(MAX_IMPORT_ROWS),
      run: importStories,
    }),
    complete: operation.mutation({
      input: completeStoryInputSchema,
      output: storySchema,
      run: completeStory,
    }),
    summary: operation.query({ input: storyIdInputSchema, output: storySummarySchema, run: getStorySummary }),
  },

  votes: {
    cast: operation.mutation({ input: castVoteInputSchema, output: voteSchema, run: castVote }),
  },

  /**
   * Live events of one session: votes cast (who, never the value), reveals, story and session changes. Only
   * for those who may see the session (checked before the stream starts).
   */
  events: operation.subscription({
    input: sessionIdInputSchema,
    channel: POKER_EVENTS_CHANNEL,
    notice: pokerEventSchema,
    authorize: getSession,
    accepts: (event, _actor, input) => event.sessionId === input.sessionId,
  }),
};
