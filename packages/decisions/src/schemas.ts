import {
  cursorTimestamp,
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
 * The decisions module's zod schemas, shared by its services, the API and the CLI: what callers may send
 * (inputs) and what they get back (outputs: plain JSON, ids as numbers, dates as ISO strings). Lengths
 * mirror the column types, so a too-long value is refused by field name, not by the database.
 */

export const USER_ROLES = ['director', 'architect', 'lead', 'member', 'viewer'] as const;
export const PROJECT_ROLES = ['owner', 'member', 'viewer'] as const;
export const TRANSCRIPT_SOURCES = ['manual', 'webhook', 'upload'] as const;
export const DECISION_STATUSES = ['proposed', 'accepted', 'rejected', 'deprecated', 'superseded'] as const;
export const RELATIONSHIP_KINDS = [
  'supersedes',
  'amends',
  'depends_on',
  'conflicts_with',
  'relates_to',
] as const;
export const ANOMALY_KINDS = ['contradicts'] as const;
/** The dimension of `decisions.embedding` (vector(384)); every embedder must produce it. */
export const EMBEDDING_DIMENSIONS = 384;

export const userRoleSchema = z.enum(USER_ROLES);
export const projectRoleSchema = z.enum(PROJECT_ROLES);
export const transcriptSourceSchema = z.enum(TRANSCRIPT_SOURCES);
export const decisionStatusSchema = z.enum(DECISION_STATUSES);
export const relationshipKindSchema = z.enum(RELATIONSHIP_KINDS);
export type UserRole = z.infer<typeof userRoleSchema>;
export type ProjectRole = z.infer<typeof projectRoleSchema>;
export type TranscriptSource = z.infer<typeof transcriptSourceSchema>;
export type DecisionStatus = z.infer<typeof decisionStatusSchema>;
export type RelationshipKind = z.infer<typeof relationshipKindSchema>;

// Lower-cased, so "Ann@Example.com" and "ann@example.com" are one account (the unique index is on lower(email)).
const emailSchema = z.email().max(255).toLowerCase();
const personNameSchema = text().trim().min(1).max(100);
// bcrypt reads at most 72 bytes; a longer password would be silently truncated, so it is refused instead.
const passwordSchema = text()
  .min(8)
  .refine((value) => new TextEncoder().encode(value).length <= 72, { message: 'must be at most 72 bytes' });
const projectNameSchema = text().trim().min(1).max(200);
const titleSchema = text().trim().min(1).max(300);
const longTextSchema = (max: number) => text().trim().min(1).max(max);

// ---------------------------------------------------------------------------------- JSONB column shapes

/** One entry of `transcripts.participants`. */
export const participantSchema = z.strictObject({
  name: personNameSchema,
  email: emailSchema.optional(),
});
/** One entry of `decisions.impacts`: the area a decision affects, with an optional note. */
export const impactSchema = z.strictObject({
  area: text().trim().min(1).max(100),
  note: text().trim().max(2_000).optional(),
});
const voterListSchema = z.array(personNameSchema).max(500).default([]);
/** `decisions.consensus`: who was for, against, or abstained (names as the transcript gives them). */
export const consensusSchema = z.strictObject({
  for: voterListSchema,
  against: voterListSchema,
  abstain: voterListSchema,
});
/** One entry of `decisions.anomalies`: a problem recorded against the decision, naming the other decision. */
export const anomalySchema = z.strictObject({
  kind: z.enum(ANOMALY_KINDS),
  decisionId: serialId(),
  note: z.string().optional(),
});
export type Participant = z.infer<typeof participantSchema>;
export type Impact = z.infer<typeof impactSchema>;
export type Consensus = z.infer<typeof consensusSchema>;
export type Anomaly = z.infer<typeof anomalySchema>;

// ---------------------------------------------------------------------------------------------- inputs

/** Lists are pages: `limit` items (1 to MAX_PAGE_SIZE), from after `cursor` (a `nextCursor` of the list). */
const DEFAULT_PAGE_SIZE = 50;
/** A page key of a list by name: the last item's name and id. */
const byNameCursor = () => keysetCursor(z.tuple([z.string().max(200), serialId()])).optional();
/** A page key of a list by time, latest first: the last item's timestamp (microseconds) and id. */
const byTimeCursor = () => keysetCursor(z.tuple([cursorTimestamp(), serialId()])).optional();

export const signInInputSchema = z.object({ email: emailSchema, password: text().min(1).max(200) });
export const createUserInputSchema = z.object({
  email: emailSchema,
  name: personNameSchema,
  password: passwordSchema,
  role: userRoleSchema.default('member'),
});
export const userIdInputSchema = z.object({ userId: serialId() });
export const changeUserRoleInputSchema = z.object({ userId: serialId(), role: userRoleSchema });
export const listUsersInputSchema = z.object({
  includeDeleted: z.boolean().default(false),
  limit: pageLimit(DEFAULT_PAGE_SIZE),
  cursor: byNameCursor(),
});
export const changePasswordInputSchema = z.object({
  currentPassword: text().min(1).max(200),
  newPassword: passwordSchema,
});

/** A director makes a one-time password reset link for a user who cannot sign in. */
export const createPasswordResetInputSchema = z.object({ userId: serialId() });
/** The CLI's way to the same link: by the user's email. */
export const passwordResetByEmailInputSchema = z.object({ email: emailSchema });
/** Redeems a password reset link: anyone holding it sets the new password, once. */
export const resetPasswordInputSchema = z.object({ token: oneTimeSecretText(), newPassword: passwordSchema });

export const createProjectInputSchema = z.object({
  name: projectNameSchema,
  description: longTextSchema(10_000).nullish(),
});
export const listProjectsInputSchema = z.object({
  includeArchived: z.boolean().default(false),
  limit: pageLimit(DEFAULT_PAGE_SIZE),
  cursor: byNameCursor(),
});
export const projectIdInputSchema = z.object({ projectId: serialId() });
export const listMembersInputSchema = z.object({
  projectId: serialId(),
  limit: pageLimit(DEFAULT_PAGE_SIZE),
  cursor: byNameCursor(),
});
export const addMemberInputSchema = z.object({
  projectId: serialId(),
  userId: serialId(),
  role: projectRoleSchema.default('member'),
});
export const changeMemberRoleInputSchema = z.object({
  projectId: serialId(),
  userId: serialId(),
  role: projectRoleSchema,
});
export const removeMemberInputSchema = z.object({ projectId: serialId(), userId: serialId() });

const transcriptContentSchema = longTextSchema(1_000_000);
const participantsSchema = z.array(participantSchema).max(500).default([]);
export const createTranscriptInputSchema = z.object({
  projectId: serialId(),
  title: titleSchema,
  /** `upload` when the content is a file's text; webhooks go through `receiveWebhookTranscript`. */
  source: z.enum(['manual', 'upload']).default('manual'),
  meetingAt: z.iso.datetime({ offset: true }),
  participants: participantsSchema,
  content: transcriptContentSchema,
});
export const webhookTranscriptInputSchema = z.object({
  /** The sender's delivery id: a redelivery with the same id answers with the transcript it created. */
  webhookId: text().trim().min(1).max(100),
  projectId: serialId(),
  title: titleSchema,
  meetingAt: z.iso.datetime({ offset: true }),
  participants: participantsSchema,
  content: transcriptContentSchema,
});
export const transcriptIdInputSchema = z.object({ transcriptId: serialId() });
export const listTranscriptsInputSchema = z.object({
  projectId: serialId(),
  /** Only transcripts with a participant of this email (or name): a GIN containment search. */
  participantEmail: emailSchema.optional(),
  participantName: personNameSchema.optional(),
  limit: pageLimit(DEFAULT_PAGE_SIZE),
  cursor: byTimeCursor(),
});

/** The longest statement a decision holds (an extracted one is cut to it). */
export const DECISION_STATEMENT_MAX_LENGTH = 20_000;
const confidenceSchema = z.number().min(0).max(1).multipleOf(0.01);
// No defaults here: an edit must leave the fields it does not name as they are.
const decisionFieldsSchema = z.object({
  title: titleSchema,
  statement: longTextSchema(DECISION_STATEMENT_MAX_LENGTH),
  rationale: longTextSchema(20_000).nullish(),
  confidence: confidenceSchema,
  decidedAt: z.iso.datetime({ offset: true }).optional(),
  impacts: z.array(impactSchema).max(100),
  consensus: consensusSchema,
});
export const createDecisionInputSchema = decisionFieldsSchema.extend({
  projectId: serialId(),
  transcriptId: serialId().nullish(),
  impacts: decisionFieldsSchema.shape.impacts.default([]),
  consensus: consensusSchema.default({ for: [], against: [], abstain: [] }),
});
export const editDecisionInputSchema = decisionFieldsSchema
  .partial()
  .extend({ decisionId: serialId() })
  .refine((input) => Object.keys(input).some((key) => key !== 'decisionId'), {
    message: 'give at least one field to change',
    path: ['decisionId'],
  });
export const listDecisionsInputSchema = z.object({
  projectId: serialId(),
  status: decisionStatusSchema.optional(),
  /** Soft-deleted decisions too: for the project's owners. */
  includeDeleted: z.boolean().default(false),
  limit: pageLimit(DEFAULT_PAGE_SIZE),
  cursor: byTimeCursor(),
});
export const decisionIdInputSchema = z.object({ decisionId: serialId() });
/** The statuses a caller can move a decision to; `superseded` follows from accepting its successor. */
export const transitionDecisionInputSchema = z.object({
  decisionId: serialId(),
  status: z.enum(['accepted', 'rejected', 'deprecated']),
});
export const relateDecisionsInputSchema = z
  .object({ fromDecisionId: serialId(), toDecisionId: serialId(), kind: relationshipKindSchema })
  .refine((input) => input.fromDecisionId !== input.toDecisionId, {
    message: 'a decision cannot be related to itself',
    path: ['toDecisionId'],
  });
export const similarInputSchema = z
  .object({
    decisionId: serialId().optional(),
    text: longTextSchema(20_000).optional(),
    projectId: serialId().optional(),
    k: z.number().int().min(1).max(100).default(10),
  })
  .refine((input) => (input.decisionId === undefined) !== (input.text === undefined), {
    message: 'give exactly one of decisionId or text',
    path: ['decisionId'],
  });

/** Inputs as services receive them, parsed once at the edge: defaults filled, emails lower-cased, cursors decoded. */
export type SignInInput = z.output<typeof signInInputSchema>;
export type CreateUserInput = z.output<typeof createUserInputSchema>;
export type UserIdInput = z.output<typeof userIdInputSchema>;
export type ChangeUserRoleInput = z.output<typeof changeUserRoleInputSchema>;
export type ListUsersInput = z.output<typeof listUsersInputSchema>;
export type ChangePasswordInput = z.output<typeof changePasswordInputSchema>;
export type CreatePasswordResetInput = z.output<typeof createPasswordResetInputSchema>;
export type PasswordResetByEmailInput = z.output<typeof passwordResetByEmailInputSchema>;
export type ResetPasswordInput = z.output<typeof resetPasswordInputSchema>;
export type CreateProjectInput = z.output<typeof createProjectInputSchema>;
export type ListProjectsInput = z.output<typeof listProjectsInputSchema>;
export type ProjectIdInput = z.output<typeof projectIdInputSchema>;
export type ListMembersInput = z.output<typeof listMembersInputSchema>;
export type AddMemberInput = z.output<typeof addMemberInputSchema>;
export type ChangeMemberRoleInput = z.output<typeof changeMemberRoleInputSchema>;
export type RemoveMemberInput = z.output<typeof removeMemberInputSchema>;
export type CreateTranscriptInput = z.output<typeof createTranscriptInputSchema>;
export type WebhookTranscriptInput = z.output<typeof webhookTranscriptInputSchema>;
export type TranscriptIdInput = z.output<typeof transcriptIdInputSchema>;
export type ListTranscriptsInput = z.output<typeof listTranscriptsInputSchema>;
export type CreateDecisionInput = z.output<typeof createDecisionInputSchema>;
export type EditDecisionInput = z.output<typeof editDecisionInputSchema>;
export type ListDecisionsInput = z.output<typeof listDecisionsInputSchema>;
export type DecisionIdInput = z.output<typeof decisionIdInputSchema>;
export type TransitionDecisionInput = z.output<typeof transitionDecisionInputSchema>;
export type RelateDecisionsInput = z.output<typeof relateDecisionsInputSchema>;
export type SimilarInput = z.output<typeof similarInputSchema>;

// --------------------------------------------------------------------------------------------- outputs

export const userSchema = z.object({
  id: serialId(),
  email: z.string(),
  name: z.string(),
  role: userRoleSchema,
  createdAt: isoTimestamp(),
  updatedAt: isoTimestamp(),
  deletedAt: isoTimestamp().nullable(),
});

/** A password reset link: `token` is shown this once (only its hash is stored); hand it to the user. */
export const passwordResetSchema = z.object({
  userId: serialId(),
  email: z.string(),
  token: z.string(),
  expiresAt: isoTimestamp(),
});
export type PasswordReset = z.infer<typeof passwordResetSchema>;

export const projectSchema = z.object({
  id: serialId(),
  name: z.string(),
  description: z.string().nullable(),
  createdBy: serialId(),
  createdAt: isoTimestamp(),
  updatedAt: isoTimestamp(),
  archivedAt: isoTimestamp().nullable(),
  /** The caller's role in the project. */
  myRole: projectRoleSchema,
});

export const memberSchema = z.object({
  projectId: serialId(),
  userId: serialId(),
  name: z.string(),
  email: z.string(),
  role: projectRoleSchema,
  joinedAt: isoTimestamp(),
});

export const transcriptSchema = z.object({
  id: serialId(),
  projectId: serialId(),
  webhookId: z.string().nullable(),
  title: z.string(),
  source: transcriptSourceSchema,
  meetingAt: isoTimestamp(),
  participants: z.array(participantSchema),
  content: z.string(),
  createdAt: isoTimestamp(),
});

/** A transcript in a list: what it is, never its text (`transcripts.get` reads one transcript whole). */
export const transcriptSummarySchema = transcriptSchema
  .omit({ content: true, participants: true })
  .extend({ participantCount: z.number().int().min(0) });

export const decisionSchema = z.object({
  id: serialId(),
  projectId: serialId(),
  transcriptId: serialId().nullable(),
  title: z.string(),
  statement: z.string(),
  rationale: z.string().nullable(),
  status: decisionStatusSchema,
  confidence: z.number(),
  decidedAt: isoTimestamp(),
  impacts: z.array(impactSchema),
  consensus: consensusSchema,
  anomalies: z.array(anomalySchema),
  createdAt: isoTimestamp(),
  updatedAt: isoTimestamp(),
  deletedAt: isoTimestamp().nullable(),
});

/** How a relationship reads from one decision's side: its own kind outgoing, the inverse incoming. */
export const RELATIONSHIP_LABELS = {
  supersedes: { outgoing: 'supersedes', incoming: 'superseded by' },
  amends: { outgoing: 'amends', incoming: 'amended by' },
  depends_on: { outgoing: 'depends on', incoming: 'depended on by' },
  conflicts_with: { outgoing: 'conflicts with', incoming: 'conflicts with' },
  relates_to: { outgoing: 'relates to', incoming: 'relates to' },
} as const satisfies Record<RelationshipKind, { outgoing: string; incoming: string }>;

export const relationshipSchema = z.object({
  id: serialId(),
  kind: relationshipKindSchema,
  direction: z.enum(['outgoing', 'incoming']),
  /** The relationship as read from this decision: "supersedes", "superseded by", "depended on by"… */
  label: z.string(),
  decisionId: serialId(),
  title: z.string(),
  status: decisionStatusSchema,
  createdBy: serialId().nullable(),
  createdAt: isoTimestamp(),
});

export const decisionDetailSchema = decisionSchema.extend({
  relationships: z.array(relationshipSchema),
});

/** A decision in a list of decisions (chains, similarity results). */
export const decisionSummarySchema = z.object({
  id: serialId(),
  projectId: serialId(),
  title: z.string(),
  status: decisionStatusSchema,
  decidedAt: isoTimestamp(),
});

export const supersedeChainSchema = z.object({
  /** From the origin (which supersedes nothing) to the current decision (superseded by nothing). */
  chain: z.array(decisionSummarySchema),
  /** The position of the asked-for decision in `chain`. */
  position: z.number().int().min(0),
});

export const similarDecisionSchema = decisionSummarySchema.extend({
  statement: z.string(),
  /** Cosine distance to the query: 0 is the same direction, 2 the opposite. */
  distance: z.number(),
});

/** A candidate not proposed because the project already has a live decision that says the same. */
export const duplicateProposalSchema = z.object({
  /** The candidate's title, as the extractor found it. */
  title: z.string(),
  /** The existing decision it duplicates. */
  decisionId: serialId(),
  decisionTitle: z.string(),
  status: decisionStatusSchema,
  /** `title`: the same title as compared (case, spacing and punctuation aside); `meaning`: embeddings this close. */
  match: z.enum(['title', 'meaning']),
  /** Cosine distance between the two embeddings; null when they came from different embedders. */
  distance: z.number().nullable(),
});

export const extractionSchema = z.object({
  transcriptId: serialId(),
  /** Decisions proposed by this run (none when every candidate was proposed before). */
  proposed: z.array(decisionSchema),
  /** Candidates the extractor found that an earlier run already proposed. */
  alreadyProposed: z.number().int().min(0),
  /** Candidates not proposed because another transcript (or a person) recorded the same decision in the project. */
  duplicates: z.array(duplicateProposalSchema),
});

/** What `receiveWebhookTranscript` answers: the transcript, whether this delivery created it, and what it proposed. */
export const webhookReceiptSchema = z.object({
  transcript: transcriptSchema,
  created: z.boolean(),
  /** Decisions proposed from a new transcript; empty for a redelivery. */
  proposed: z.array(decisionSchema),
  /** What the new transcript decides that the project already holds (see `extractionSchema`). */
  duplicates: z.array(duplicateProposalSchema),
});

export const userPageSchema = pageOf(userSchema);
export const projectPageSchema = pageOf(projectSchema);
export const memberPageSchema = pageOf(memberSchema);
export const transcriptPageSchema = pageOf(transcriptSummarySchema);
export const decisionPageSchema = pageOf(decisionSchema);

/** What `removeMember` answers. */
export const removedMemberSchema = z.object({ projectId: serialId(), userId: serialId() });

export type User = z.infer<typeof userSchema>;
export type Project = z.infer<typeof projectSchema>;
export type Member = z.infer<typeof memberSchema>;
export type Transcript = z.infer<typeof transcriptSchema>;
export type TranscriptSummary = z.infer<typeof transcriptSummarySchema>;
export type Decision = z.infer<typeof decisionSchema>;
export type Relationship = z.infer<typeof relationshipSchema>;
export type DecisionDetail = z.infer<typeof decisionDetailSchema>;
export type DecisionSummary = z.infer<typeof decisionSummarySchema>;
export type SupersedeChain = z.infer<typeof supersedeChainSchema>;
export type SimilarDecision = z.infer<typeof similarDecisionSchema>;
export type DuplicateProposal = z.infer<typeof duplicateProposalSchema>;
export type Extraction = z.infer<typeof extractionSchema>;
export type WebhookReceipt = z.infer<typeof webhookReceiptSchema>;
export type RemovedMember = z.infer<typeof removedMemberSchema>;
export type UserPage = z.infer<typeof userPageSchema>;
export type ProjectPage = z.infer<typeof projectPageSchema>;
export type MemberPage = z.infer<typeof memberPageSchema>;
export type TranscriptPage = z.infer<typeof transcriptPageSchema>;
export type DecisionPage = z.infer<typeof decisionPageSchema>;

// ------------------------------------------------------------------- the log: search, revisions, ADR files

/** How many of the best full-text matches and of the nearest decisions a search fuses (each). */
export const SEARCH_CANDIDATES = 200;
export const searchInputSchema = z.object({
  /** Words, "quoted phrases", `or` and `-excluded` words (PostgreSQL's websearch syntax). */
  text: text().trim().min(1).max(1_000),
  /** Only this project (archived or not); otherwise every live project the caller is a member of. */
  projectId: serialId().optional(),
  limit: pageLimit(20),
  /** After the result of this fused score and id (a `nextCursor`). */
  cursor: keysetCursor(z.tuple([z.number().min(0).max(1), serialId()])).optional(),
});
export const searchResultSchema = decisionSummarySchema.extend({
  statement: z.string(),
  /** Reciprocal rank fusion: the sum over both rankings of 1 / (60 + rank). */
  score: z.number(),
  /** The decision's rank among the full-text matches; null when its words do not match. */
  textRank: z.number().int().min(1).nullable(),
  /** Its rank among the decisions nearest in meaning; null when not among the candidates. */
  meaningRank: z.number().int().min(1).nullable(),
});
export const searchPageSchema = pageOf(searchResultSchema);

/** The fields of a decision a revision keeps: what an edit, a transition, a deletion or a link can change. */
export const decisionVersionSchema = decisionSchema.pick({
  title: true,
  statement: true,
  rationale: true,
  status: true,
  confidence: true,
  decidedAt: true,
  impacts: true,
  consensus: true,
  anomalies: true,
  transcriptId: true,
  deletedAt: true,
});
export const listRevisionsInputSchema = z.object({
  decisionId: serialId(),
  limit: pageLimit(DEFAULT_PAGE_SIZE),
  /** Revisions before this revision number (a `nextCursor`): latest first. */
  cursor: keysetCursor(z.tuple([z.number().int().min(1)])).optional(),
});
export const revisionSchema = z.object({
  decisionId: serialId(),
  /** 1 for the decision's first change, then 2, 3… */
  revision: z.number().int().min(1),
  /** Who changed it: null for an operator's command (or a user deleted since). */
  changedBy: serialId().nullable(),
  changedByName: z.string().nullable(),
  changedAt: isoTimestamp(),
  changedFields: z.array(decisionVersionSchema.keyof()),
  /** The decision as it was before this change. */
  previous: decisionVersionSchema,
});
export const revisionPageSchema = pageOf(revisionSchema);

/** ADR files per export page and per import call, and the longest file an import takes (characters). */
export const ADR_FILES_MAX = 100;
export const ADR_FILE_MAX_LENGTH = 512 * 1024;
/** A file of an ADR folder: its path in the folder (`/`-separated) and its Markdown. */
export const adrFileSchema = z.object({ path: z.string(), content: z.string() });
/** A file to import; a decision's longest fields fit, but not a pathological one's escaped ones. */
const adrFileInputSchema = z.object({
  path: text().trim().min(1).max(300),
  content: text().max(ADR_FILE_MAX_LENGTH),
});
export const exportDecisionsInputSchema = z.object({
  /** One project (archived or not); otherwise every project the caller is a member of, a folder each. */
  projectId: serialId().optional(),
  limit: z.number().int().min(1).max(ADR_FILES_MAX).default(ADR_FILES_MAX),
  /** After the decision of this id (a `nextCursor`): files in decision order. */
  cursor: keysetCursor(z.tuple([serialId()])).optional(),
});
export const importDecisionsInputSchema = z.object({
  projectId: serialId(),
  files: z.array(adrFileInputSchema).min(1).max(ADR_FILES_MAX),
});
export const adrFilePageSchema = pageOf(adrFileSchema);
export const adrImportReportSchema = z.object({
  files: z.array(
    z.object({
      path: z.string(),
      outcome: z.enum(['imported', 'skipped']),
      /** The new decision; null when skipped. */
      decisionId: serialId().nullable(),
      /** Why it was skipped: `<path>: <field>: <rule>`. */
      reason: z.string().nullable(),
      /** What was imported other than as written (a default, a link to a file not imported, a section no field holds). */
      notes: z.array(z.string()),
    }),
  ),
  imported: z.number().int().min(0),
  skipped: z.number().int().min(0),
});

export type SearchInput = z.output<typeof searchInputSchema>;
export type ListRevisionsInput = z.output<typeof listRevisionsInputSchema>;
export type ExportDecisionsInput = z.output<typeof exportDecisionsInputSchema>;
export type ImportDecisionsInput = z.output<typeof importDecisionsInputSchema>;
export type SearchResult = z.infer<typeof searchResultSchema>;
export type SearchPage = z.infer<typeof searchPageSchema>;
export type DecisionVersion = z.infer<typeof decisionVersionSchema>;
export type Revision = z.infer<typeof revisionSchema>;
export type RevisionPage = z.infer<typeof revisionPageSchema>;
export type AdrFile = z.infer<typeof adrFileSchema>;
export type AdrFilePage = z.infer<typeof adrFilePageSchema>;
export type AdrImportReport = z.infer<typeof adrImportReportSchema>;
