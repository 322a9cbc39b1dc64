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
/** The planning-poker deck; '?' means "can't estimate" and is left out of the numeric statistics. */
export const POINT_VALUES = ['1', '2', '3', '5', '8', '13', '21', '?'] as const;

export const sessionStatusSchema = z.enum(SESSION_STATUSES);
export const storyStatusSchema = z.enum(STORY_STATUSES);
export const pointValueSchema = z.enum(POINT_VALUES);
export type SessionStatus = z.infer<typeof sessionStatusSchema>;
export type StoryStatus = z.infer<typeof storyStatusSchema>;
export type PointValue = z.infer<typeof pointValueSchema>;

const idSchema = serialId();
const timestampSchema = isoTimestamp();

// Every input string starts from `text()` (@huddle/db/zod) (well-formed, no NUL). Lengths mirror the column
// types (varchar(100), varchar(200), varchar(500)), so the caller hears about a too-long value by field
// name instead of as a database error.
const userNameSchema = text().trim().min(1).max(100);
const sessionNameSchema = text().trim().min(1).max(200);
const storyTitleSchema = text().trim().min(1).max(500);
const storyDescriptionSchema = text().max(10_000);

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

export const createSessionInputSchema = z.object({ name: sessionNameSchema });
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
export const completeStoryInputSchema = z.object({ storyId: idSchema, finalPoints: pointValueSchema });
export const castVoteInputSchema = z.object({ storyId: idSchema, points: pointValueSchema });

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

export const sessionSchema = z.object({
  id: idSchema,
  name: z.string(),
  facilitatorId: idSchema,
  status: sessionStatusSchema,
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
  finalPoints: pointValueSchema.nullable(),
  revealedAt: timestampSchema.nullable(),
  createdAt: timestampSchema,
});

export const sessionDetailSchema = sessionSchema.extend({
  /** In story order. */
  stories: z.array(storySchema),
  /** In joining order. */
  participants: z.array(participantSchema),
});

/** A vote as its voter sees it (castVote's result); others see values only in a revealed summary. */
export const voteSchema = z.object({
  storyId: idSchema,
  userId: idSchema,
  points: pointValueSchema,
  createdAt: timestampSchema,
});

export const voteStatisticsSchema = z.object({
  /** Mean of the numeric votes, rounded to two decimals; null when every vote is '?'. */
  average: z.number().nullable(),
  /** Median of the numeric votes; null when every vote is '?'. */
  median: z.number().nullable(),
  /** The most frequent card(s), '?' included, in deck order; several when tied, none without votes. */
  modes: z.array(pointValueSchema),
  /** True when at least one vote was cast and every vote shows the same card. */
  unanimous: z.boolean(),
});

export const storySummarySchema = z.object({
  storyId: idSchema,
  sessionId: idSchema,
  status: storyStatusSchema,
  revealedAt: timestampSchema.nullable(),
  finalPoints: pointValueSchema.nullable(),
  /** Who voted, in voting order; `points` is null until the facilitator reveals. */
  votes: z.array(z.object({ userId: idSchema, name: z.string(), points: pointValueSchema.nullable() })),
  /** The actor's own vote, which the actor may always see; null when the actor has not voted. */
  ownPoints: pointValueSchema.nullable(),
  /** Null until the facilitator reveals: the statistics would give the values away. */
  statistics: voteStatisticsSchema.nullable(),
  /** Voting participants (not spectators) without a vote on this story. */
  notVoted: z.array(z.object({ userId: idSchema, name: z.string() })),
});

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
]);
export const sessionChangeSchema = z.enum(['created', 'renamed', 'participant_joined']);

export const pokerEventSchema = z.discriminatedUnion('type', [
  // Strict: a vote_cast event carrying the card would reveal it before the facilitator does.
  z.strictObject({ type: z.literal('vote_cast'), sessionId: idSchema, storyId: idSchema, userId: idSchema }),
  z.strictObject({ type: z.literal('revealed'), sessionId: idSchema, storyId: idSchema }),
  z.strictObject({
    type: z.literal('story_changed'),
    sessionId: idSchema,
    /** Null only for 'reordered', which concerns every story of the session. */
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
export type PokerEvent = z.infer<typeof pokerEventSchema>;
