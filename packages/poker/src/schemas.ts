import {
  isoTimestamp,
  keysetCursor,
  oneTimeSecretText,
  pageLimit,
  pageOf,
  serialId,
  text,
} from '@huddle/db/zod';
import { z } from 'zod';

/**
 * The poker module's zod schemas, shared by its services, the API and the CLI: what callers may send
 * (inputs), what they get back (outputs: plain JSON, ids as numbers, dates as ISO strings) and the events
 * published on POKER_EVENTS_CHANNEL.
 */

export const SESSION_STATUSES = ['active', 'completed', 'paused'] as const;
export const STORY_STATUSES = ['pending', 'voting', 'completed'] as const;
/**
 * The seed's deck, every session's unless it chooses another (`check_points_format` holds its votes to it);
 * '?' means "can't estimate" and is left out of the numeric statistics.
 */
export const POINT_VALUES = ['1', '2', '3', '5', '8', '13', '21', '?'] as const;
/** A deck's scale: numeric cards average; ordinal ones (T-shirt sizes) only order, so no average or median. */
export const DECK_SCALES = ['numeric', 'ordinal'] as const;
/**
 * The built-in decks, in deck order, each card with its value (its rank on an ordinal scale; null: no
 * estimate). No rows: a session created with one uses its facilitator's copy (poker.decks.builtin_key).
 */
export const BUILTIN_DECKS = {
  fibonacci: {
    name: 'Modified Fibonacci',
    scale: 'numeric',
    cards: [
      ['0', 0],
      ['½', 0.5],
      ['1', 1],
      ['2', 2],
      ['3', 3],
      ['5', 5],
      ['8', 8],
      ['13', 13],
      ['20', 20],
      ['40', 40],
      ['100', 100],
      ['?', null],
    ],
  },
  tshirt: {
    name: 'T-shirt sizes',
    scale: 'ordinal',
    cards: [
      ['XS', 1],
      ['S', 2],
      ['M', 3],
      ['L', 4],
      ['XL', 5],
      ['XXL', 6],
      ['?', null],
    ],
  },
  powers_of_two: {
    name: 'Powers of two',
    scale: 'numeric',
    cards: [
      ['1', 1],
      ['2', 2],
      ['4', 4],
      ['8', 8],
      ['16', 16],
      ['32', 32],
      ['64', 64],
      ['?', null],
    ],
  },
} as const;
/** A deck's card count and a card's length: a card is stored in votes.points, a varchar(10). */
export const MAX_DECK_CARDS = 30;
export const MAX_CARD_LENGTH = 10;
/** Bounds of a voting timer, in seconds. */
export const MIN_VOTING_SECONDS = 10;
export const MAX_VOTING_SECONDS = 86_400;
/** Bounds of a stories import: the CSV's size and its data rows. */
export const MAX_IMPORT_CSV_LENGTH = 200_000;
export const MAX_IMPORT_ROWS = 500;
/** Stories per export page (each with its rounds and votes). */
export const MAX_EXPORT_STORIES = 100;

export const sessionStatusSchema = z.enum(SESSION_STATUSES);
export const storyStatusSchema = z.enum(STORY_STATUSES);
export const pointValueSchema = z.enum(POINT_VALUES);
export const deckScaleSchema = z.enum(DECK_SCALES);
export const builtinDeckKeySchema = z.enum([
  'fibonacci',
  'tshirt',
  'powers_of_two',
] as const satisfies readonly (keyof typeof BUILTIN_DECKS)[]);
export type SessionStatus = z.infer<typeof sessionStatusSchema>;
export type StoryStatus = z.infer<typeof storyStatusSchema>;
export type PointValue = z.infer<typeof pointValueSchema>;
export type DeckScale = z.infer<typeof deckScaleSchema>;
export type BuiltinDeckKey = z.infer<typeof builtinDeckKeySchema>;

const idSchema = serialId();
const timestampSchema = isoTimestamp();

// Every input string starts from `text()` (@huddle/db/zod) (well-formed, no NUL). Lengths mirror the column
// types (varchar(100), varchar(200), varchar(500)), so the caller hears about a too-long value by field
// name instead of as a database error.
const userNameSchema = text().trim().min(1).max(100);
const sessionNameSchema = text().trim().min(1).max(200);
const storyTitleSchema = text().trim().min(1).max(500);
const storyDescriptionSchema = text().max(10_000);
/** A card as sent: which cards a session accepts depends on its deck (the service and the database check). */
const cardSchema = text().trim().min(1).max(MAX_CARD_LENGTH);
const deckNameSchema = text().trim().min(1).max(50);
/** Seconds from now until the round's votes are revealed whoever has voted. */
const votingSecondsSchema = z.number().int().min(MIN_VOTING_SECONDS).max(MAX_VOTING_SECONDS);

// ---------------------------------------------------------------------------------------------- inputs

export const joinInputSchema = z
  .object({
    name: userNameSchema,
    // Lower-cased so that "Ann@Example.com" and "ann@example.com" find the same user.
    email: text().max(255).toLowerCase().pipe(z.email()).optional(),
    /**
     * Signs in on a new device as the player who has `email`: the code of a device link they made where they
     * are signed in (`poker.deviceLink`). Single use, valid 10 minutes.
     */
    deviceLink: oneTimeSecretText().optional(),
  })
  .refine((input) => input.deviceLink === undefined || input.email !== undefined, {
    path: ['email'],
    error: 'is required with deviceLink: the email of the player the link was made for',
  });

export const createSessionInputSchema = z
  .object({
    name: sessionNameSchema,
    /** A built-in deck; or `deckId`; with neither, the seed's deck. */
    deckKey: builtinDeckKeySchema.optional(),
    /** One of the actor's own decks (`decks.list`), or the deck of a session the actor takes part in. */
    deckId: idSchema.optional(),
  })
  .refine((input) => input.deckKey === undefined || input.deckId === undefined, {
    message: 'give a deckKey or a deckId, not both',
    path: ['deckId'],
  });
export const renameSessionInputSchema = z.object({ sessionId: idSchema, name: sessionNameSchema });
/** For the operations that only name a session: get, pause, resume, complete. */
export const sessionIdInputSchema = z.object({ sessionId: idSchema });
export const participantRoleSchema = z.enum(['voter', 'spectator']);
/** The unguessable code a facilitator shares (as a link) so people can join: 32 hex digits. */
export const joinCodeSchema = z
  .string()
  .regex(/^[0-9a-f]{32}$/, 'must be a session join code (32 hex digits)');
export const joinSessionInputSchema = z.object({
  joinCode: joinCodeSchema,
  role: participantRoleSchema.default('voter'),
});
/** For the facilitator's changes to one participant: hand over, remove. */
export const participantInputSchema = z.object({ sessionId: idSchema, userId: idSchema });
export const setSpectatorInputSchema = participantInputSchema.extend({ spectator: z.boolean() });
export const exportSessionInputSchema = z.object({
  sessionId: idSchema,
  limit: z.number().int().min(1).max(MAX_EXPORT_STORIES).default(MAX_EXPORT_STORIES),
  /** The `nextCursor` of the page before: stories in story order. */
  cursor: keysetCursor(z.tuple([z.number().int(), idSchema])).optional(),
});
export const listMySessionsInputSchema = z.object({
  status: sessionStatusSchema.optional(),
  limit: pageLimit(50),
  /** The `nextCursor` of the page before: newest first, by id. */
  cursor: keysetCursor(z.tuple([idSchema])).optional(),
});

export const addStoryInputSchema = z.object({
  sessionId: idSchema,
  title: storyTitleSchema,
  description: storyDescriptionSchema.nullish(),
});
export const editStoryInputSchema = z
  .object({
    storyId: idSchema,
    title: storyTitleSchema.optional(),
    description: storyDescriptionSchema.nullable().optional(),
  })
  .refine((input) => input.title !== undefined || input.description !== undefined, {
    message: 'give a title or a description to change',
    path: ['title'],
  });
/** For the operations that only name a story: delete, start voting, reveal, re-vote, summary. */
export const storyIdInputSchema = z.object({ storyId: idSchema });
export const reorderStoriesInputSchema = z.object({
  sessionId: idSchema,
  /** Every story of the session, each exactly once, in the new order. */
  storyIds: z
    .array(idSchema)
    .max(10_000)
    .refine((ids) => new Set(ids).size === ids.length, { message: 'must not list a story twice' }),
});
/** Starting a round (voting or re-vote), optionally with a timer. */
export const startRoundInputSchema = z.object({
  storyId: idSchema,
  votingSeconds: votingSecondsSchema.optional(),
});
export const completeStoryInputSchema = z.object({ storyId: idSchema, finalPoints: cardSchema });
export const castVoteInputSchema = z.object({ storyId: idSchema, points: cardSchema });
export const importStoriesInputSchema = z.object({
  sessionId: idSchema,
  /** A header row naming `title` (required) and `description` (optional), then one story per row. */
  csv: text().min(1).max(MAX_IMPORT_CSV_LENGTH),
});

/** One row of an imported CSV, by its header's column names. */
export const importedStoryRowSchema = z.object({
  title: storyTitleSchema,
  description: storyDescriptionSchema.optional(),
});
export type ImportedStoryRow = z.output<typeof importedStoryRowSchema>;

export const deckCardInputSchema = z.object({
  card: cardSchema,
  /** The card's number on a numeric scale, its rank on an ordinal one; none for a card that is no estimate ('?'). */
  value: z.number().finite().min(-1_000_000).max(1_000_000).nullable().default(null),
});
export const createDeckInputSchema = z.object({
  name: deckNameSchema,
  scale: deckScaleSchema,
  /** In the order they are shown. */
  cards: z
    .array(deckCardInputSchema)
    .min(2)
    .max(MAX_DECK_CARDS)
    .refine((cards) => new Set(cards.map((card) => card.card)).size === cards.length, {
      message: 'must not list a card twice',
    }),
});
export const deckIdInputSchema = z.object({ deckId: idSchema });
export const listDecksInputSchema = z.object({
  limit: pageLimit(50),
  /** The `nextCursor` of the page before: the built-in decks on the first page, then the actor's own, by id. */
  cursor: keysetCursor(z.tuple([idSchema])).optional(),
});

export type JoinInput = z.output<typeof joinInputSchema>;
export type CreateSessionInput = z.output<typeof createSessionInputSchema>;
export type RenameSessionInput = z.output<typeof renameSessionInputSchema>;
export type SessionIdInput = z.output<typeof sessionIdInputSchema>;
export type ParticipantRole = z.infer<typeof participantRoleSchema>;
export type JoinSessionInput = z.output<typeof joinSessionInputSchema>;
/** As parsed at the edge (the router, or `listMySessionsInputSchema.parse`): page size resolved, cursor decoded. */
export type ListMySessionsInput = z.output<typeof listMySessionsInputSchema>;
export type AddStoryInput = z.output<typeof addStoryInputSchema>;
export type EditStoryInput = z.output<typeof editStoryInputSchema>;
export type StoryIdInput = z.output<typeof storyIdInputSchema>;
export type ReorderStoriesInput = z.output<typeof reorderStoriesInputSchema>;
export type CompleteStoryInput = z.output<typeof completeStoryInputSchema>;
export type CastVoteInput = z.output<typeof castVoteInputSchema>;
export type ParticipantInput = z.output<typeof participantInputSchema>;
export type SetSpectatorInput = z.output<typeof setSpectatorInputSchema>;
export type ExportSessionInput = z.output<typeof exportSessionInputSchema>;
export type StartRoundInput = z.output<typeof startRoundInputSchema>;
export type ImportStoriesInput = z.output<typeof importStoriesInputSchema>;
export type CreateDeckInput = z.output<typeof createDeckInputSchema>;
export type DeckIdInput = z.output<typeof deckIdInputSchema>;
export type ListDecksInput = z.output<typeof listDecksInputSchema>;

// --------------------------------------------------------------------------------------------- outputs

export const userSchema = z.object({
  id: idSchema,
  name: z.string(),
  email: z.string().nullable(),
  createdAt: timestampSchema,
  lastActive: timestampSchema,
});

/** A device link: `code` is shown this once (only its hash is stored); type it into `poker.join` elsewhere. */
export const deviceLinkSchema = z.object({ code: z.string(), expiresAt: timestampSchema });
export type DeviceLink = z.infer<typeof deviceLinkSchema>;
export const deckCardSchema = z.object({ card: z.string(), value: z.number().nullable() });
export const deckSchema = z.object({
  /** Null for the seed's deck and the built-in ones as `decks.list` shows them, which are no rows. */
  id: idSchema.nullable(),
  /** `standard` (the seed's) or a built-in deck's (`fibonacci`, `tshirt`, `powers_of_two`); null for a user's own. */
  key: z.string().nullable(),
  name: z.string(),
  scale: deckScaleSchema,
  /** Whose it is (a session's copy of a built-in deck is its facilitator's); null for the built-in decks. */
  ownerId: idSchema.nullable(),
  /** In deck order. */
  cards: z.array(deckCardSchema).max(MAX_DECK_CARDS),
});
export const deckPageSchema = pageOf(deckSchema);

export const sessionSchema = z.object({
  id: idSchema,
  name: z.string(),
  facilitatorId: idSchema,
  status: sessionStatusSchema,
  /** Its deck (`decks.list`); null: the seed's deck. */
  deckId: idSchema.nullable(),
  /** The code that lets people join: shown to the facilitator only, null for everyone else. */
  joinCode: joinCodeSchema.nullable(),
  createdAt: timestampSchema,
  updatedAt: timestampSchema,
});

/** A session as one of the actor's sessions: with the part the actor plays in it. */
export const mySessionSchema = sessionSchema.extend({
  role: z.enum(['facilitator', ...participantRoleSchema.options]),
});

export const mySessionPageSchema = pageOf(mySessionSchema);

export const participantSchema = z.object({
  sessionId: idSchema,
  userId: idSchema,
  name: z.string(),
  isSpectator: z.boolean(),
  joinedAt: timestampSchema,
});

export const storySchema = z.object({
  id: idSchema,
  sessionId: idSchema,
  title: z.string(),
  description: z.string().nullable(),
  storyOrder: z.number().int(),
  status: storyStatusSchema,
  finalPoints: z.string().nullable(),
  revealedAt: timestampSchema.nullable(),
  /** When the round's votes are revealed whoever has voted; null without a timer. */
  votingDeadline: timestampSchema.nullable(),
  /** The voting round, from 1; a re-vote starts the next. */
  round: z.number().int(),
  createdAt: timestampSchema,
});

export const sessionDetailSchema = sessionSchema.extend({
  /** The cards its votes may show. */
  deck: deckSchema,
  /** In story order. */
  stories: z.array(storySchema),
  /** In joining order. */
  participants: z.array(participantSchema),
});

/** A vote as its voter sees it (castVote's result); others see values only in a revealed summary. */
export const voteSchema = z.object({
  storyId: idSchema,
  userId: idSchema,
  points: z.string(),
  createdAt: timestampSchema,
});

export const voteStatisticsSchema = z.object({
  /**
   * Mean of the estimates (cards with a value), rounded to two decimals; null when none is one ('?') and on
   * an ordinal deck, whose values only rank.
   */
  average: z.number().nullable(),
  /** Median of the estimates; null when none is one and on an ordinal deck. */
  median: z.number().nullable(),
  /** The most frequent card(s), '?' included, in deck order; several when tied, none without votes. */
  modes: z.array(z.string()),
  /**
   * How far the estimates lie apart: the lowest and the highest card and how many places apart they are in
   * the deck (0 when all agree); null without estimates.
   */
  spread: z.object({ lowest: z.string(), highest: z.string(), cardsApart: z.number().int() }).nullable(),
  /** True when at least one vote was cast and every vote shows the same card. */
  unanimous: z.boolean(),
});

export const storySummarySchema = z.object({
  storyId: idSchema,
  sessionId: idSchema,
  status: storyStatusSchema,
  revealedAt: timestampSchema.nullable(),
  finalPoints: z.string().nullable(),
  votingDeadline: timestampSchema.nullable(),
  round: z.number().int(),
  /** Who voted, in voting order; `points` is null until the votes are revealed. */
  votes: z.array(z.object({ userId: idSchema, name: z.string(), points: z.string().nullable() })),
  /** The actor's own vote, which the actor may always see; null when the actor has not voted. */
  ownPoints: z.string().nullable(),
  /** Null until the facilitator reveals: the statistics would give the values away. */
  statistics: voteStatisticsSchema.nullable(),
  /** Voting participants (not spectators) without a vote on this story. */
  notVoted: z.array(z.object({ userId: idSchema, name: z.string() })),
});

/** One voting round of an exported story; `points` null while the round is not revealed. */
export const exportedRoundSchema = z.object({
  round: z.number().int(),
  votes: z.array(z.object({ userId: idSchema, name: z.string(), points: z.string().nullable() })),
});
export const exportedStorySchema = z.object({
  id: idSchema,
  storyOrder: z.number().int(),
  title: z.string(),
  description: z.string().nullable(),
  status: storyStatusSchema,
  finalPoints: z.string().nullable(),
  /** Oldest first; the last is the current round. */
  rounds: z.array(exportedRoundSchema),
});
/** A page of a session's results (stories in story order), with the session and its deck on every page. */
export const sessionExportSchema = z.object({
  session: z.object({ id: idSchema, name: z.string(), status: sessionStatusSchema }),
  deck: deckSchema,
  stories: z.array(exportedStorySchema).max(MAX_EXPORT_STORIES),
  nextCursor: z.string().nullable(),
});
/** The same page as CSV: a header, then one line per vote (a story without votes has one line of its own). */
export const sessionCsvExportSchema = z.object({ csv: z.string(), nextCursor: z.string().nullable() });

export type Deck = z.infer<typeof deckSchema>;
export type DeckCard = z.infer<typeof deckCardSchema>;
export type DeckPage = z.infer<typeof deckPageSchema>;
export type SessionExport = z.infer<typeof sessionExportSchema>;
export type SessionCsvExport = z.infer<typeof sessionCsvExportSchema>;
export type User = z.infer<typeof userSchema>;
export type Session = z.infer<typeof sessionSchema>;
export type MySession = z.infer<typeof mySessionSchema>;
export type MySessionPage = z.infer<typeof mySessionPageSchema>;
export type Participant = z.infer<typeof participantSchema>;
export type Story = z.infer<typeof storySchema>;
export type SessionDetail = z.infer<typeof sessionDetailSchema>;
export type Vote = z.infer<typeof voteSchema>;
export type VoteStatistics = z.infer<typeof voteStatisticsSchema>;
export type StorySummary = z.infer<typeof storySummarySchema>;

// ---------------------------------------------------------------------------------------------- events

/** The LISTEN/NOTIFY channel every poker event is published on; subscribers filter by `sessionId`. */
export const POKER_EVENTS_CHANNEL = 'poker_events';

export const storyChangeSchema = z.enum([
  'added',
  'edited',
  'deleted',
  'reordered',
  'voting_started',
  'revote',
  'completed',
  'imported',
]);
export const sessionChangeSchema = z.enum([
  'created',
  'renamed',
  'participant_joined',
  'participant_removed',
  'participant_changed',
  'facilitator_changed',
]);
/** Who revealed a round: its facilitator, the last vote (every voter voted) or its timer. */
export const revealReasonSchema = z.enum(['facilitator', 'all_voted', 'deadline']);

export const pokerEventSchema = z.discriminatedUnion('type', [
  // Strict: a vote_cast event carrying the card would reveal it before the facilitator does.
  z.strictObject({ type: z.literal('vote_cast'), sessionId: idSchema, storyId: idSchema, userId: idSchema }),
  z.strictObject({
    type: z.literal('revealed'),
    sessionId: idSchema,
    storyId: idSchema,
    reason: revealReasonSchema,
  }),
  z.strictObject({
    type: z.literal('story_changed'),
    sessionId: idSchema,
    /** Null only for 'reordered' and 'imported', which concern several stories of the session. */
    storyId: idSchema.nullable(),
    change: storyChangeSchema,
  }),
  z.strictObject({
    type: z.literal('session_status_changed'),
    sessionId: idSchema,
    status: sessionStatusSchema,
  }),
  z.strictObject({ type: z.literal('session_changed'), sessionId: idSchema, change: sessionChangeSchema }),
]);

export type StoryChange = z.infer<typeof storyChangeSchema>;
export type SessionChange = z.infer<typeof sessionChangeSchema>;
export type RevealReason = z.infer<typeof revealReasonSchema>;
export type PokerEvent = z.infer<typeof pokerEventSchema>;
