import { cursorTimestamp, isoTimestamp, keysetCursor, pageLimit, pageOf, text } from '@huddle/db/zod';
import { z } from 'zod';
import { parseFileDiff } from './diffs.ts';

/**
 * The planner module's zod schemas, shared by its services, the API and the CLI: what callers may send
 * (inputs) and what they get back (outputs: plain JSON, ids as UUID strings, dates as ISO strings).
 */

export const PLAN_STATUSES = ['draft', 'active', 'completed', 'archived'] as const;
export const ARTIFACT_TYPES = ['feature_plan', 'implementation_steps', 'code_changes'] as const;
export const CHAT_SESSION_STATUSES = ['active', 'completed'] as const;
export const CHAT_ROLES = ['user', 'assistant', 'system'] as const;
export const CHANGE_ACTIONS = ['create', 'modify', 'delete', 'rename'] as const;

export const planStatusSchema = z.enum(PLAN_STATUSES);
export const artifactTypeSchema = z.enum(ARTIFACT_TYPES);
export const chatSessionStatusSchema = z.enum(CHAT_SESSION_STATUSES);
export const chatRoleSchema = z.enum(CHAT_ROLES);
export const changeActionSchema = z.enum(CHANGE_ACTIONS);
export type PlanStatus = z.infer<typeof planStatusSchema>;
export type ArtifactType = z.infer<typeof artifactTypeSchema>;
export type ChatSessionStatus = z.infer<typeof chatSessionStatusSchema>;
export type ChatRole = z.infer<typeof chatRoleSchema>;
export type ChangeAction = z.infer<typeof changeActionSchema>;

const uuidSchema = z.uuid();

/** Lower-case letters, digits, `.`, `_` and `-`, starting with a letter; fits `plans.created_by` (varchar(63)). */
export const OPERATOR_NAME = /^[a-z][a-z0-9._-]{0,62}$/;
const operatorNameSchema = text()
  .trim()
  .toLowerCase()
  .regex(OPERATOR_NAME, 'must be an operator name: a lower-case letter, then up to 62 of a-z 0-9 . _ -');

// Lengths mirror the column types (varchar(255), varchar(100)), so a too-long value is refused by field name.
const repositoryNameSchema = text().trim().min(1).max(255);
const planNameSchema = text().trim().min(1).max(255);
/** A git branch name, as far as a plan needs one: no spaces or control characters. */
const branchNameSchema = text()
  .trim()
  .min(1)
  .max(100)
  .regex(/^[^\s~^:?*[\\\p{Cc}]+$/u, { message: 'must be a git branch name' });
const descriptionSchema = text().max(20_000);

/** A file path inside a repository: relative, with `/` separators, never leaving the repository. */
export const repositoryFilePathSchema = text()
  .trim()
  .min(1)
  .max(1_024)
  .refine(
    (value) => !value.startsWith('/') && !value.split('/').some((part) => part === '..' || part === ''),
    {
      message: 'must be a relative path inside the repository (no leading /, no .. or empty segments)',
    },
  );

// ----------------------------------------------------------------------------------- artifact contents

const listItemSchema = text().trim().min(1).max(2_000);

export const featurePlanContentSchema = z.strictObject({
  summary: text().trim().min(1).max(20_000),
  goals: z.array(listItemSchema).max(100),
  nonGoals: z.array(listItemSchema).max(100),
  risks: z.array(listItemSchema).max(100),
});

export const implementationStepSchema = z.strictObject({
  title: text().trim().min(1).max(300),
  detail: text().max(20_000),
  files: z.array(repositoryFilePathSchema).max(200),
});

export const implementationStepsContentSchema = z.strictObject({
  /** In the order they are to be carried out. */
  steps: z.array(implementationStepSchema).min(1).max(500),
});

export const fileChangeSchema = z
  .strictObject({
    path: repositoryFilePathSchema,
    action: changeActionSchema,
    /** The path the file had before a rename; only for `rename`. */
    previousPath: repositoryFilePathSchema.optional(),
    /** A unified diff (may be empty for a pure rename or a delete). */
    diff: text().max(1_000_000),
  })
  .refine((change) => (change.action === 'rename') === (change.previousPath !== undefined), {
    message: 'previousPath is required for a rename and allowed only for one',
    path: ['previousPath'],
  });

export const codeChangesContentSchema = z.strictObject({
  changes: z
    .array(fileChangeSchema)
    .min(1)
    .max(1_000)
    .refine((changes) => new Set(changes.map((change) => change.path)).size === changes.length, {
      message: 'must not list a path twice',
    }),
});

/**
 * Code changes as a caller writes them: each diff must parse as the unified diff of one file (`parseFileDiff`),
 * and a `modify` needs one. Only writes are checked: reads return what was stored, and `plans.check` reports
 * a stored diff that does not parse (rows written before this rule, or by SQL).
 */
const codeChangesInputContentSchema = codeChangesContentSchema.superRefine((content, context) => {
  content.changes.forEach((change, index) => {
    const parsed = parseFileDiff(change.diff);
    const refusal =
      'refusal' in parsed
        ? parsed.refusal
        : change.action === 'modify' && parsed.patch.hunks.length === 0
          ? 'must not be empty for a modify'
          : undefined;
    if (refusal) context.addIssue({ code: 'custom', message: refusal, path: ['changes', index, 'diff'] });
  });
});

/** An artifact as a caller writes it: its type and the content that type requires. */
export const artifactInputSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('feature_plan'), content: featurePlanContentSchema }),
  z.strictObject({ type: z.literal('implementation_steps'), content: implementationStepsContentSchema }),
  z.strictObject({ type: z.literal('code_changes'), content: codeChangesInputContentSchema }),
]);

export type FeaturePlanContent = z.infer<typeof featurePlanContentSchema>;
export type ImplementationStep = z.infer<typeof implementationStepSchema>;
export type ImplementationStepsContent = z.infer<typeof implementationStepsContentSchema>;
export type FileChange = z.infer<typeof fileChangeSchema>;
export type CodeChangesContent = z.infer<typeof codeChangesContentSchema>;
export type ArtifactInput = z.input<typeof artifactInputSchema>;
export type ArtifactBody = z.infer<typeof artifactInputSchema>;

// -------------------------------------------------------------------------------------- chat messages

/**
 * A chat message as stored in `chat_sessions.messages`: what the caller sent, when it was appended, and the
 * distinct lower-cased words of its content (`terms`), so that `messages @> '[{"terms":["word"]}]'` finds
 * the sessions mentioning a word through `idx_chat_messages_gin`.
 */
export interface StoredChatMessage {
  role: ChatRole;
  content: string;
  at: string;
  terms: string[];
}

/** A search term: one word as `chatTerms` splits messages into words (letters and digits). */
const searchTermSchema = text()
  .trim()
  .min(2)
  .max(100)
  .regex(/^[\p{L}\p{N}_]+$/u, { message: 'must be one word (letters, digits, _)' })
  .toLowerCase();

// ---------------------------------------------------------------------------------------------- inputs

export const registerRepositoryInputSchema = z.object({
  /** A local git work tree under one of the configured roots; resolved (symlinks, `..`) before storing. */
  path: text().trim().min(1).max(4_096),
  /** Default: the work tree's directory name. */
  name: repositoryNameSchema.optional(),
  /** Default: the branch origin's HEAD points at, else the checked-out branch. */
  defaultBranch: branchNameSchema.optional(),
  /** Default: the URL of the `origin` remote (or the first remote). */
  gitUrl: text().trim().min(1).max(2_048).optional(),
});
export const repositoryIdInputSchema = z.object({ repositoryId: uuidSchema });
export const renameRepositoryInputSchema = z.object({ repositoryId: uuidSchema, name: repositoryNameSchema });
export const unregisterRepositoryInputSchema = z.object({
  repositoryId: uuidSchema,
  /** Unregistering deletes every plan of the repository: the caller confirms that explicitly. */
  confirm: z.literal(true, { error: 'must be true: unregistering deletes every plan of the repository' }),
});

export const createPlanInputSchema = z.object({
  repositoryId: uuidSchema,
  name: planNameSchema,
  description: descriptionSchema.nullish(),
  /** Default: the repository's default branch. */
  targetBranch: branchNameSchema.optional(),
});
/** For the operations that name one plan version: get, new version (of its plan), activate, complete, archive. */
export const planIdInputSchema = z.object({ planId: uuidSchema });
/** A plan by its name in a repository: its latest version, or all of them. */
export const planNameInputSchema = z.object({ repositoryId: uuidSchema, name: planNameSchema });
// Lists are paged (`limit`, then `cursor`: the `nextCursor` of the page before), by keys that are unique.
const DEFAULT_PAGE_SIZE = 50;

/** Planner admins (and the CLI) add operators; an admin may add, disable and enable others. */
export const addOperatorInputSchema = z.object({
  operator: operatorNameSchema,
  isAdmin: z.boolean().default(false),
});
export const operatorNameInputSchema = z.object({ operator: operatorNameSchema });
export const listOperatorsInputSchema = z.object({
  limit: pageLimit(DEFAULT_PAGE_SIZE),
  /** By name. */
  cursor: keysetCursor(z.tuple([z.string().max(63)])).optional(),
});
export const listRepositoriesInputSchema = z.object({
  limit: pageLimit(DEFAULT_PAGE_SIZE),
  /** By name, then id. */
  cursor: keysetCursor(z.tuple([z.string(), uuidSchema])).optional(),
});
export const listPlansInputSchema = z.object({
  repositoryId: uuidSchema,
  status: planStatusSchema.optional(),
  limit: pageLimit(DEFAULT_PAGE_SIZE),
  /** By name (one latest version per name). */
  cursor: keysetCursor(z.tuple([z.string()])).optional(),
});
export const listPlanVersionsInputSchema = planNameInputSchema.extend({
  limit: pageLimit(DEFAULT_PAGE_SIZE),
  /** By version. */
  cursor: keysetCursor(z.tuple([z.number().int().positive()])).optional(),
});
export const listChatSessionsInputSchema = planIdInputSchema.extend({
  limit: pageLimit(DEFAULT_PAGE_SIZE),
  /** By creation time (microseconds), then id. */
  cursor: keysetCursor(z.tuple([cursorTimestamp(), uuidSchema])).optional(),
});
export const updatePlanInputSchema = z
  .object({
    planId: uuidSchema,
    description: descriptionSchema.nullable().optional(),
    targetBranch: branchNameSchema.optional(),
  })
  .refine((input) => input.description !== undefined || input.targetBranch !== undefined, {
    message: 'give a description or a target branch to change',
    path: ['description'],
  });

export const addArtifactInputSchema = z.object({ planId: uuidSchema, artifact: artifactInputSchema });
export const replaceArtifactInputSchema = z.object({ artifactId: uuidSchema, artifact: artifactInputSchema });
export const artifactIdInputSchema = z.object({ artifactId: uuidSchema });

export const plansTouchingFileInputSchema = z.object({
  path: repositoryFilePathSchema,
  repositoryId: uuidSchema.optional(),
  limit: pageLimit(DEFAULT_PAGE_SIZE),
  /** By plan name, version, then id. */
  cursor: keysetCursor(z.tuple([z.string(), z.number().int().positive(), uuidSchema])).optional(),
});
export const artifactsWithStepInputSchema = z
  .object({
    /** A step's exact title. */
    title: text().trim().min(1).max(300).optional(),
    /**
     * Words a step's title or detail has, English-stemmed (`refactor` finds "Refactoring the checkout"),
     * in web-search syntax: all words by default, `"a phrase"`, `or`, `-excluded`.
     */
    words: text().trim().min(1).max(300).optional(),
    repositoryId: uuidSchema.optional(),
    limit: pageLimit(DEFAULT_PAGE_SIZE),
    /** By plan name, version, the artifact's creation time (microseconds), then its id. */
    cursor: keysetCursor(
      z.tuple([z.string(), z.number().int().positive(), isoTimestamp(), uuidSchema]),
    ).optional(),
  })
  .refine((input) => (input.title === undefined) !== (input.words === undefined), {
    message: 'give either a title or words to search for',
    path: ['title'],
  });
export const chatSessionsMentioningInputSchema = z.object({
  term: searchTermSchema,
  /** Only messages of this role. */
  role: chatRoleSchema.optional(),
  repositoryId: uuidSchema.optional(),
  limit: pageLimit(DEFAULT_PAGE_SIZE),
  /** Latest change first (microseconds), then id, descending. */
  cursor: keysetCursor(z.tuple([cursorTimestamp(), uuidSchema])).optional(),
});

export const chatSessionIdInputSchema = z.object({ sessionId: uuidSchema });
export const appendChatMessageInputSchema = z.object({
  sessionId: uuidSchema,
  role: chatRoleSchema,
  content: text().trim().min(1).max(20_000),
});
export const chatMessagesInputSchema = z.object({
  sessionId: uuidSchema,
  offset: z.number().int().min(0).max(1_000_000).default(0),
  limit: z.number().int().min(1).max(200).default(50),
});

export const comparePlanVersionsInputSchema = z.object({ fromPlanId: uuidSchema, toPlanId: uuidSchema });

/** The most files one read answers: each up to MAX_FILE_BYTES, all together up to MAX_READ_BYTES. */
export const MAX_FILES_PER_READ = 20;
export const MAX_FILE_BYTES = 256 * 1024;
export const MAX_READ_BYTES = 1024 * 1024;

export const readFilesInputSchema = z.object({
  repositoryId: uuidSchema,
  /** A branch (local, else `origin`'s), a tag or a full commit id. */
  ref: branchNameSchema,
  paths: z
    .array(repositoryFilePathSchema)
    .min(1)
    .max(MAX_FILES_PER_READ)
    .refine((paths) => new Set(paths).size === paths.length, { message: 'must not list a path twice' }),
});
export const planContextInputSchema = planIdInputSchema.extend({
  limit: z.number().int().min(1).max(MAX_FILES_PER_READ).default(MAX_FILES_PER_READ),
  /** By path. */
  cursor: keysetCursor(z.tuple([z.string()])).optional(),
});

/**
 * Every input as parsed at the edge (the API's `.input()`, or `callOperation`): what the services take —
 * strings trimmed, defaults and page sizes resolved, cursors decoded into their typed keys.
 */
export type AddOperatorInput = z.output<typeof addOperatorInputSchema>;
export type OperatorNameInput = z.output<typeof operatorNameInputSchema>;
export type ListOperatorsInput = z.output<typeof listOperatorsInputSchema>;
export type RegisterRepositoryInput = z.output<typeof registerRepositoryInputSchema>;
export type RepositoryIdInput = z.output<typeof repositoryIdInputSchema>;
export type RenameRepositoryInput = z.output<typeof renameRepositoryInputSchema>;
export type UnregisterRepositoryInput = z.output<typeof unregisterRepositoryInputSchema>;
export type CreatePlanInput = z.output<typeof createPlanInputSchema>;
export type PlanIdInput = z.output<typeof planIdInputSchema>;
export type PlanNameInput = z.output<typeof planNameInputSchema>;
export type ListRepositoriesInput = z.output<typeof listRepositoriesInputSchema>;
export type ListPlansInput = z.output<typeof listPlansInputSchema>;
export type ListPlanVersionsInput = z.output<typeof listPlanVersionsInputSchema>;
export type ListChatSessionsInput = z.output<typeof listChatSessionsInputSchema>;
export type UpdatePlanInput = z.output<typeof updatePlanInputSchema>;
export type AddArtifactInput = z.output<typeof addArtifactInputSchema>;
export type ReplaceArtifactInput = z.output<typeof replaceArtifactInputSchema>;
export type ArtifactIdInput = z.output<typeof artifactIdInputSchema>;
export type PlansTouchingFileInput = z.output<typeof plansTouchingFileInputSchema>;
export type ArtifactsWithStepInput = z.output<typeof artifactsWithStepInputSchema>;
export type ChatSessionsMentioningInput = z.output<typeof chatSessionsMentioningInputSchema>;
export type ChatSessionIdInput = z.output<typeof chatSessionIdInputSchema>;
export type AppendChatMessageInput = z.output<typeof appendChatMessageInputSchema>;
export type ChatMessagesInput = z.output<typeof chatMessagesInputSchema>;
export type ComparePlanVersionsInput = z.output<typeof comparePlanVersionsInputSchema>;
export type ReadFilesInput = z.output<typeof readFilesInputSchema>;
export type PlanContextInput = z.output<typeof planContextInputSchema>;

// --------------------------------------------------------------------------------------------- outputs

/** An operator: who may act with a planner token naming them. */
export const operatorSchema = z.object({
  name: z.string(),
  isAdmin: z.boolean(),
  createdAt: isoTimestamp(),
  /** The admin who added them; null when the CLI did. */
  createdBy: z.string().nullable(),
  /** Set while they may not act. */
  disabledAt: isoTimestamp().nullable(),
});
export const repositorySchema = z.object({
  id: uuidSchema,
  name: z.string(),
  path: z.string(),
  gitUrl: z.string().nullable(),
  defaultBranch: z.string(),
  createdAt: isoTimestamp(),
  updatedAt: isoTimestamp(),
});

export const unregisteredRepositorySchema = z.object({
  repositoryId: uuidSchema,
  /** Plan versions deleted with the repository (their artifacts and chat sessions went with them). */
  deletedPlanVersions: z.number().int().min(0),
});

export const planVersionSchema = z.object({
  id: uuidSchema,
  repositoryId: uuidSchema,
  name: z.string(),
  description: z.string().nullable(),
  targetBranch: z.string(),
  version: z.number().int().positive(),
  status: planStatusSchema,
  /** The operator who created this version; null for versions written outside a request (seeds). */
  createdBy: z.string().nullable(),
  /**
   * The commit of the target branch this version was planned against (when it was created or its target
   * branch changed); null for versions written outside a request (seeds).
   */
  baseCommit: z.string().nullable(),
  createdAt: isoTimestamp(),
  updatedAt: isoTimestamp(),
});

const artifactFields = { id: uuidSchema, planId: uuidSchema, createdAt: isoTimestamp() };

/** An artifact as read back: typed by its `type`, so `content` is that type's content. */
export const artifactSchema = z.discriminatedUnion('type', [
  z.object({ ...artifactFields, type: z.literal('feature_plan'), content: featurePlanContentSchema }),
  z.object({
    ...artifactFields,
    type: z.literal('implementation_steps'),
    content: implementationStepsContentSchema,
  }),
  z.object({ ...artifactFields, type: z.literal('code_changes'), content: codeChangesContentSchema }),
]);

export const planDetailSchema = planVersionSchema.extend({
  /** By type (feature plan, steps, code changes), then in the order they were written. */
  artifacts: z.array(artifactSchema),
});

/** An activation's result: the version now active and the one it superseded (archived), if any. */
export const activatedPlanSchema = z.object({
  activated: planVersionSchema,
  superseded: planVersionSchema.nullable(),
});

export const chatMessageSchema = z.object({ role: chatRoleSchema, content: z.string(), at: isoTimestamp() });

export const chatSessionSchema = z.object({
  id: uuidSchema,
  planId: uuidSchema,
  status: chatSessionStatusSchema,
  messageCount: z.number().int().min(0),
  createdAt: isoTimestamp(),
  updatedAt: isoTimestamp(),
});

export const appendedChatMessageSchema = z.object({
  sessionId: uuidSchema,
  /** The message's position in the session, from 0, in the order the appends committed. */
  index: z.number().int().min(0),
  message: chatMessageSchema,
});

export const chatMessagePageSchema = z.object({
  session: chatSessionSchema,
  offset: z.number().int().min(0),
  messages: z.array(chatMessageSchema.extend({ index: z.number().int().min(0) })),
});

/** A plan version found by a search, with the repository it belongs to. */
export const planMatchSchema = planVersionSchema;

export const artifactMatchSchema = z.object({
  artifact: artifactSchema,
  plan: planVersionSchema,
});

export const chatSessionMatchSchema = chatSessionSchema.extend({ plan: planVersionSchema });

export const repositoryPageSchema = pageOf(repositorySchema);
export const operatorPageSchema = pageOf(operatorSchema);
export const planVersionPageSchema = pageOf(planVersionSchema);
export const chatSessionPageSchema = pageOf(chatSessionSchema);
export const planMatchPageSchema = pageOf(planMatchSchema);
export const artifactMatchPageSchema = pageOf(artifactMatchSchema);
export const chatSessionMatchPageSchema = pageOf(chatSessionMatchSchema);

export const planExportSchema = z.object({ planId: uuidSchema, markdown: z.string() });

export const artifactChangeSchema = z.object({
  type: artifactTypeSchema,
  /** Position among the version's artifacts of this type, from 0. */
  position: z.number().int().min(0),
  change: z.enum(['added', 'removed', 'modified']),
  /**
   * What changed, one line each (e.g. `goal added: …`, `step moved: …`, `src/a.ts: diff changed`); for an
   * added or removed artifact, what it holds (`step added: …`, `file removed: …`, a feature plan's summary).
   */
  details: z.array(z.string()),
});

/** Two versions' steps, by title (see comparePlanVersions). */
export const stepDifferencesSchema = z.object({
  added: z.array(z.string()),
  removed: z.array(z.string()),
  /** Same title, other detail or files. */
  changed: z.array(z.string()),
  /** Moved relative to the other steps both versions have. */
  reordered: z.array(z.string()),
});

/** The files two versions' code changes touch, by path. */
export const fileDifferencesSchema = z.object({
  added: z.array(z.string()),
  removed: z.array(z.string()),
  /** Another action, diff or origin of a rename. */
  changed: z.array(z.string()),
});

export const planComparisonSchema = z.object({
  from: planVersionSchema,
  to: planVersionSchema,
  /** Artifact by artifact; empty when both versions' artifacts are equal by content. */
  changes: z.array(artifactChangeSchema),
  steps: stepDifferencesSchema,
  files: fileDifferencesSchema,
});

export const CHANGE_CHECK_STATUSES = [
  'applies',
  'conflicts',
  'missing',
  'exists',
  'unreadable',
  'invalid_diff',
] as const;

/** Where a diff stops applying (see `applyFileDiff`). */
export const diffConflictSchema = z.object({
  /** The hunk, from 1. */
  hunk: z.number().int().positive(),
  /** The line of the file, from 1, where the hunk's first differing line was expected. */
  line: z.number().int().positive(),
  /** What the hunk expects there and what the file has (null past its end), each cut at 200 characters. */
  expected: z.string(),
  found: z.string().nullable(),
});

/** One code change at one commit. */
export const changeAtCommitSchema = z.object({
  /**
   * `applies`; `conflicts` (a hunk does not fit: see `conflict`); `missing` (the file to change, delete or
   * rename is not there); `exists` (the file to create, or a rename's new path, is there already);
   * `unreadable` (a directory, a link, binary or too large); `invalid_diff` (stored before diffs were checked).
   */
  status: z.enum(CHANGE_CHECK_STATUSES),
  /** The same in a sentence. */
  message: z.string(),
  conflict: diffConflictSchema.nullable(),
});

export const changeCheckSchema = z.object({
  artifactId: uuidSchema,
  path: z.string(),
  action: changeActionSchema,
  previousPath: z.string().nullable(),
  /** At the commit the version was planned against; null when it has none recorded. */
  atBase: changeAtCommitSchema.nullable(),
  /** At the target branch's current head. */
  atHead: changeAtCommitSchema,
});

export const planCheckSchema = z.object({
  planId: uuidSchema,
  targetBranch: z.string(),
  baseCommit: z.string().nullable(),
  headCommit: z.string(),
  /**
   * `applies`: every change applies at the head. `stale`: every change applies where it was planned, but the
   * branch has moved on and some no longer do. `conflicts`: some change does not apply even where it was
   * planned (without a base commit: at the head).
   */
  verdict: z.enum(['applies', 'stale', 'conflicts']),
  /** Every code change of the version, artifact by artifact in the order they were written. */
  changes: z.array(changeCheckSchema),
});

/** A file as a commit holds it, read for a caller. */
export const repositoryFileSchema = z.object({
  path: z.string(),
  /** `file`: its text is `content`; `missing`: the commit has no such path; `unreadable`: see `reason`. */
  status: z.enum(['file', 'missing', 'unreadable']),
  content: z.string().nullable(),
  /** Why an unreadable file is (a directory, a link, a submodule, binary, over a size limit). */
  reason: z.string().nullable(),
});

export const repositoryFilesSchema = z.object({
  repositoryId: uuidSchema,
  ref: z.string(),
  /** The commit `ref` named when the files were read. */
  commit: z.string(),
  files: z.array(repositoryFileSchema).max(MAX_FILES_PER_READ),
});

/** The files a plan version is about, as they were at the commit it was planned against. */
export const planContextSchema = pageOf(repositoryFileSchema).extend({
  planId: uuidSchema,
  /** The version's base commit; its target branch's head for a version without one. */
  commit: z.string(),
});

export type Repository = z.infer<typeof repositorySchema>;
export type Operator = z.infer<typeof operatorSchema>;
export type OperatorPage = z.infer<typeof operatorPageSchema>;
export type UnregisteredRepository = z.infer<typeof unregisteredRepositorySchema>;
export type PlanVersion = z.infer<typeof planVersionSchema>;
export type Artifact = z.infer<typeof artifactSchema>;
export type PlanDetail = z.infer<typeof planDetailSchema>;
export type ActivatedPlan = z.infer<typeof activatedPlanSchema>;
export type ChatMessage = z.infer<typeof chatMessageSchema>;
export type ChatSession = z.infer<typeof chatSessionSchema>;
export type AppendedChatMessage = z.infer<typeof appendedChatMessageSchema>;
export type ChatMessagePage = z.infer<typeof chatMessagePageSchema>;
export type PlanMatch = z.infer<typeof planMatchSchema>;
export type ArtifactMatch = z.infer<typeof artifactMatchSchema>;
export type ChatSessionMatch = z.infer<typeof chatSessionMatchSchema>;
export type RepositoryPage = z.infer<typeof repositoryPageSchema>;
export type PlanVersionPage = z.infer<typeof planVersionPageSchema>;
export type ChatSessionPage = z.infer<typeof chatSessionPageSchema>;
export type PlanMatchPage = z.infer<typeof planMatchPageSchema>;
export type ArtifactMatchPage = z.infer<typeof artifactMatchPageSchema>;
export type ChatSessionMatchPage = z.infer<typeof chatSessionMatchPageSchema>;
export type PlanExport = z.infer<typeof planExportSchema>;
export type ArtifactChange = z.infer<typeof artifactChangeSchema>;
export type PlanComparison = z.infer<typeof planComparisonSchema>;
export type StepDifferences = z.infer<typeof stepDifferencesSchema>;
export type FileDifferences = z.infer<typeof fileDifferencesSchema>;
export type DiffConflict = z.infer<typeof diffConflictSchema>;
export type ChangeAtCommit = z.infer<typeof changeAtCommitSchema>;
export type ChangeCheck = z.infer<typeof changeCheckSchema>;
export type PlanCheck = z.infer<typeof planCheckSchema>;
export type RepositoryFile = z.infer<typeof repositoryFileSchema>;
export type RepositoryFiles = z.infer<typeof repositoryFilesSchema>;
export type PlanContext = z.infer<typeof planContextSchema>;
