import {
  cursorTimestamp,
  isoTimestamp,
  keysetCursor,
  MAX_SERIAL_ID,
  pageLimit,
  pageOf,
  serialId,
  text,
} from '@huddle/db/zod';
import { z } from 'zod';

/**
 * The scrum module's zod schemas, shared by its services, the API and the CLI: what callers may send
 * (inputs), what they get back (outputs: plain JSON, ids as numbers, dates as ISO strings) and the events
 * published on SCRUM_NOTIFICATION_CHANNEL and SCRUM_CHAT_CHANNEL.
 */

export const USER_ROLES = ['developer', 'designer', 'tester', 'project_manager', 'admin'] as const;
/** Roles that plan work: they create, assign and see every task, and hear about completions and reports. */
export const MANAGER_ROLES = ['project_manager', 'admin'] as const satisfies readonly UserRole[];
export const TASK_STATUSES = ['todo', 'in_progress', 'done'] as const;
export const NOTIFICATION_TYPES = [
  'task_assigned',
  'task_delayed',
  'task_completed',
  'issue_reported',
  'system',
] as const;
export const MESSAGE_TYPES = ['text', 'system', 'file'] as const;
export const TRIAGE_STATUSES = ['pending', 'in_review', 'resolved', 'rejected'] as const;
export const TRIAGE_PRIORITIES = ['low', 'medium', 'high', 'critical'] as const;

export const userRoleSchema = z.enum(USER_ROLES);
export const taskStatusSchema = z.enum(TASK_STATUSES);
export const notificationTypeSchema = z.enum(NOTIFICATION_TYPES);
export const messageTypeSchema = z.enum(MESSAGE_TYPES);
export const triageStatusSchema = z.enum(TRIAGE_STATUSES);
export const triagePrioritySchema = z.enum(TRIAGE_PRIORITIES);
export type UserRole = z.infer<typeof userRoleSchema>;
export type TaskStatus = z.infer<typeof taskStatusSchema>;
export type NotificationType = z.infer<typeof notificationTypeSchema>;
export type MessageType = z.infer<typeof messageTypeSchema>;
export type TriageStatus = z.infer<typeof triageStatusSchema>;
export type TriagePriority = z.infer<typeof triagePrioritySchema>;

const idSchema = serialId();
const timestampSchema = isoTimestamp();
/** A timestamp a client sends: ISO 8601 with an offset (`2026-01-05T09:00:00Z`), read as a Date. */
const dateInputSchema = z.iso.datetime({ offset: true }).transform((value) => new Date(value));

// Lengths mirror the column types, so the caller hears about a too-long value by field name instead of as
// a database error.
const taskTitleSchema = text().trim().min(1).max(200);
const longTextSchema = text().trim().min(1).max(20_000);
const referenceSchema = text().trim().min(1).max(50);
const channelSchema = text()
  .trim()
  .min(1)
  .max(50)
  .regex(/^[a-z0-9][a-z0-9_-]*$/, 'must be lower-case letters, digits, "-" or "_"');
/** A chat message's text: what a person types in one go (its event carries its id, never the text). */
const messageTextSchema = text().trim().min(1).max(2_000);
/**
 * The link of a file message: http(s) only, so a client can never be handed a `javascript:` URL; printable
 * ASCII (non-ASCII characters percent-encoded).
 */
const fileUrlSchema = z
  .url({ protocol: /^https?$/, hostname: z.regexes.domain })
  .max(1_000)
  .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII (percent-encode other characters)')
  // zod's JSON Schema drops the URL format once a pattern joins it: OpenAPI readers (and the fuzz harness's
  // inputs) should still see a URI.
  .meta({ format: 'uri' });
const prioritySchema = z.number().int().min(-1_000).max(1_000);

/**
 * Keyset cursors of scrum's lists (a list's `nextCursor`, sent back as `cursor`): the sort key of a page's
 * last item, timestamps with microseconds (`keysetTimestampSql`) so that they compare exactly. Tasks by
 * priority (highest first), then start date, then id.
 */
// The priority is an `integer` column: a forged cursor beyond its range is a refused cursor, not a 500.
const taskCursorSchema = keysetCursor(
  z.tuple([
    z
      .number()
      .int()
      .min(-MAX_SERIAL_ID - 1)
      .max(MAX_SERIAL_ID),
    cursorTimestamp(),
    idSchema,
  ]),
);
/** Newest first: created_at, then id, both descending. */
const newestFirstCursorSchema = keysetCursor(z.tuple([cursorTimestamp(), idSchema]));

// ---------------------------------------------------------------------------------------------- inputs

/** For the operations that only name a user: deactivate, reactivate. */
export const userIdInputSchema = z.object({ userId: idSchema });
export const directoryInputSchema = z.object({
  role: userRoleSchema.optional(),
  /** Admins may include deactivated users (to reactivate them); others never see them. */
  includeInactive: z.boolean().default(false),
  limit: pageLimit(100),
  /** By username, then id. */
  cursor: keysetCursor(z.tuple([z.string().max(100), idSchema])).optional(),
});
export const changeUserRoleInputSchema = z.object({ userId: idSchema, role: userRoleSchema });
/** A GitHub login as GitHub allows it (letters, digits, hyphens; at most 39), lower-cased: logins ignore case. */
export const githubLoginSchema = text()
  .trim()
  .toLowerCase()
  .min(1)
  .max(39)
  .regex(/^[a-z0-9-]+$/, 'must be a GitHub login (letters, digits and hyphens)');
/** Who may join the team: a GitHub login and the role their first sign-in gets. */
export const inviteUserInputSchema = z.object({
  githubLogin: githubLoginSchema,
  role: userRoleSchema.default('developer'),
});
/** Invitations oldest first; `pending` (the default) leaves out those already accepted. */
export const listInvitationsInputSchema = z.object({
  pending: z.boolean().default(true),
  limit: pageLimit(100),
  /** By id. */
  cursor: keysetCursor(z.tuple([idSchema])).optional(),
});
/** A pending invitation withdrawn before its login signed in. */
export const revokeInvitationInputSchema = z.object({ githubLogin: githubLoginSchema });

/** How a task is planned: whose it is, when, where it belongs, how urgent (creating or promoting one). */
const taskPlanFields = {
  assignedRole: userRoleSchema,
  assignedUserId: idSchema.nullish(),
  startDate: dateInputSchema,
  endDate: dateInputSchema,
  epicId: referenceSchema.nullish(),
  storyId: referenceSchema.nullish(),
  priority: prioritySchema.default(0),
};
const endAfterStart = {
  check: (task: { startDate: Date; endDate: Date }) => task.endDate > task.startDate,
  rule: { message: 'must be after startDate', path: ['endDate'] },
};
export const createTaskInputSchema = z
  .object({ title: taskTitleSchema, description: longTextSchema, ...taskPlanFields })
  .refine(endAfterStart.check, endAfterStart.rule);
export const assignTaskInputSchema = z.object({
  taskId: idSchema,
  assignedRole: userRoleSchema,
  /** Null leaves the task to the role. */
  assignedUserId: idSchema.nullable(),
});
export const updateTaskInputSchema = z
  .object({
    taskId: idSchema,
    title: taskTitleSchema.optional(),
    description: longTextSchema.optional(),
    startDate: dateInputSchema.optional(),
    endDate: dateInputSchema.optional(),
    epicId: referenceSchema.nullable().optional(),
    storyId: referenceSchema.nullable().optional(),
    priority: prioritySchema.optional(),
  })
  .refine((input) => Object.keys(input).length > 1, { message: 'give a field to change', path: ['taskId'] })
  .refine((input) => !input.startDate || !input.endDate || input.endDate > input.startDate, {
    message: 'must be after startDate',
    path: ['endDate'],
  });
export const changeTaskStatusInputSchema = z.object({ taskId: idSchema, status: taskStatusSchema });
export const taskIdInputSchema = z.object({ taskId: idSchema });
const taskPageFields = { limit: pageLimit(100), cursor: taskCursorSchema.optional() };
export const listMyTasksInputSchema = z.object({
  /** Without it, all the actor's tasks. */
  status: taskStatusSchema.optional(),
  ...taskPageFields,
});
export const listTasksByRoleInputSchema = z.object({
  role: userRoleSchema,
  status: taskStatusSchema.optional(),
  ...taskPageFields,
});
export const listDelayedTasksInputSchema = z.object({
  limit: pageLimit(100),
  /** The most overdue first: end date, then id. */
  cursor: keysetCursor(z.tuple([cursorTimestamp(), idSchema])).optional(),
});
export const listEpicTasksInputSchema = z.object({ epicId: referenceSchema, ...taskPageFields });
export const taskHistoryInputSchema = z.object({
  taskId: idSchema,
  limit: pageLimit(50),
  cursor: newestFirstCursorSchema.optional(),
});

export const listUnreadNotificationsInputSchema = z.object({
  limit: pageLimit(50),
  cursor: newestFirstCursorSchema.optional(),
});
export const notificationIdInputSchema = z.object({ notificationId: idSchema });

/** What a message says; a file message (and only a file message) carries the file's link. */
const messageFields = {
  message: messageTextSchema,
  messageType: messageTypeSchema.default('text'),
  fileUrl: fileUrlSchema.optional(),
};
const fileUrlOnlyOnFiles = {
  check: (input: { messageType: MessageType; fileUrl?: string | undefined }) =>
    (input.messageType === 'file') === (input.fileUrl !== undefined),
  rule: { message: 'is required for a file message, and only there', path: ['fileUrl'] },
};
export const sendDirectMessageInputSchema = z
  .object({ recipientId: idSchema, ...messageFields })
  .refine(fileUrlOnlyOnFiles.check, fileUrlOnlyOnFiles.rule);
export const sendChannelMessageInputSchema = z
  .object({ channel: channelSchema, ...messageFields })
  .refine(fileUrlOnlyOnFiles.check, fileUrlOnlyOnFiles.rule);
export const editMessageInputSchema = z.object({ messageId: idSchema, message: messageTextSchema });
/**
 * Pages go back in time: without `before`, the newest `limit` messages; with it, the `limit` messages just
 * older than message `before` (the previous page's `nextBefore`). Ordered by (created_at, id), so the
 * cursor is stable however many messages arrive meanwhile.
 */
const pageFields = { before: idSchema.optional(), limit: pageLimit(50) };
export const conversationInputSchema = z.object({ userId: idSchema, ...pageFields });
export const channelHistoryInputSchema = z.object({ channel: channelSchema, ...pageFields });

export const reportIssueInputSchema = z.object({
  title: taskTitleSchema,
  description: longTextSchema,
  priority: triagePrioritySchema.default('medium'),
  category: text().trim().min(1).max(50).default('issue'),
});
export const triageItemIdInputSchema = z.object({ itemId: idSchema });
export const assignTriageItemInputSchema = z.object({ itemId: idSchema, assigneeId: idSchema.nullable() });
export const changeTriageStatusInputSchema = z
  .object({
    itemId: idSchema,
    status: z.enum(['in_review', 'resolved', 'rejected']),
    resolution: longTextSchema.optional(),
  })
  .refine((input) => input.status === 'in_review' || input.resolution !== undefined, {
    message: 'is required to resolve or reject an item',
    path: ['resolution'],
  });
export const promoteTriageItemInputSchema = z
  .object({ itemId: idSchema, ...taskPlanFields })
  .refine(endAfterStart.check, endAfterStart.rule);
/**
 * What GitHub sends back to the redirect URI (`code`, `state`), and the flow secret the client that started
 * the sign-in kept (never in a URL): without it, a callback URL is worth nothing to anyone else.
 */
export const githubCallbackInputSchema = z.object({
  code: text().min(1).max(512),
  state: text().min(1).max(512),
  flowSecret: text().min(1).max(100),
});
export const listTriageItemsInputSchema = z.object({
  status: triageStatusSchema.optional(),
  limit: pageLimit(100),
  cursor: newestFirstCursorSchema.optional(),
});

export type UserIdInput = z.output<typeof userIdInputSchema>;
export type DirectoryInput = z.output<typeof directoryInputSchema>;
export type ChangeUserRoleInput = z.output<typeof changeUserRoleInputSchema>;
export type InviteUserInput = z.output<typeof inviteUserInputSchema>;
export type ListInvitationsInput = z.output<typeof listInvitationsInputSchema>;
export type RevokeInvitationInput = z.output<typeof revokeInvitationInputSchema>;
export type CreateTaskInput = z.output<typeof createTaskInputSchema>;
export type AssignTaskInput = z.output<typeof assignTaskInputSchema>;
export type UpdateTaskInput = z.output<typeof updateTaskInputSchema>;
export type ChangeTaskStatusInput = z.output<typeof changeTaskStatusInputSchema>;
export type TaskIdInput = z.output<typeof taskIdInputSchema>;
export type ListMyTasksInput = z.output<typeof listMyTasksInputSchema>;
export type ListTasksByRoleInput = z.output<typeof listTasksByRoleInputSchema>;
export type ListDelayedTasksInput = z.output<typeof listDelayedTasksInputSchema>;
export type ListEpicTasksInput = z.output<typeof listEpicTasksInputSchema>;
export type TaskHistoryInput = z.output<typeof taskHistoryInputSchema>;
export type ListUnreadNotificationsInput = z.output<typeof listUnreadNotificationsInputSchema>;
export type NotificationIdInput = z.output<typeof notificationIdInputSchema>;
export type SendDirectMessageInput = z.output<typeof sendDirectMessageInputSchema>;
export type SendChannelMessageInput = z.output<typeof sendChannelMessageInputSchema>;
export type EditMessageInput = z.output<typeof editMessageInputSchema>;
export type ConversationInput = z.output<typeof conversationInputSchema>;
export type ChannelHistoryInput = z.output<typeof channelHistoryInputSchema>;
export type ReportIssueInput = z.output<typeof reportIssueInputSchema>;
export type TriageItemIdInput = z.output<typeof triageItemIdInputSchema>;
export type AssignTriageItemInput = z.output<typeof assignTriageItemInputSchema>;
export type ChangeTriageStatusInput = z.output<typeof changeTriageStatusInputSchema>;
export type PromoteTriageItemInput = z.output<typeof promoteTriageItemInputSchema>;
export type GitHubCallbackInput = z.output<typeof githubCallbackInputSchema>;
export type ListTriageItemsInput = z.output<typeof listTriageItemsInputSchema>;

// --------------------------------------------------------------------------------------------- outputs

/** A teammate as anyone sees them: never their email. */
export const teamMemberSchema = z.object({
  id: idSchema,
  username: z.string(),
  avatarUrl: z.string().nullable(),
  role: userRoleSchema,
  isActive: z.boolean(),
});
/** The signed-in user as they see themselves (with their own email). */
export const currentUserSchema = teamMemberSchema.extend({
  githubId: z.string(),
  email: z.string().nullable(),
  createdAt: timestampSchema,
});

export const taskSchema = z.object({
  id: idSchema,
  title: z.string(),
  description: z.string(),
  status: taskStatusSchema,
  assignedRole: userRoleSchema,
  assignedUserId: idSchema.nullable(),
  startDate: timestampSchema,
  endDate: timestampSchema,
  completedAt: timestampSchema.nullable(),
  /** Its end date has passed and it is not done, at the time of the answer. */
  isDelayed: z.boolean(),
  epicId: z.string().nullable(),
  storyId: z.string().nullable(),
  priority: z.number().int(),
  createdById: idSchema.nullable(),
  createdAt: timestampSchema,
  updatedAt: timestampSchema,
});

/** What a change to a task leaves in its history. */
const taskChangeFields = {
  id: idSchema,
  taskId: idSchema,
  /** Who changed it; null when no user did (an operator, a job). */
  actorId: idSchema.nullable(),
  changedAt: timestampSchema,
};
/**
 * One change of one field a task's history keeps (status, assignee, dates; scrum.task_activity, written by a
 * trigger), with the value before and after.
 */
export const taskChangeSchema = z.discriminatedUnion('field', [
  z.object({
    ...taskChangeFields,
    field: z.literal('status'),
    oldValue: taskStatusSchema,
    newValue: taskStatusSchema,
  }),
  z.object({
    ...taskChangeFields,
    field: z.literal('assignedRole'),
    oldValue: userRoleSchema,
    newValue: userRoleSchema,
  }),
  z.object({
    ...taskChangeFields,
    field: z.literal('assignedUserId'),
    oldValue: idSchema.nullable(),
    newValue: idSchema.nullable(),
  }),
  z.object({
    ...taskChangeFields,
    field: z.enum(['startDate', 'endDate']),
    oldValue: timestampSchema,
    newValue: timestampSchema,
  }),
]);

export const notificationSchema = z.object({
  id: idSchema,
  userId: idSchema,
  type: notificationTypeSchema,
  title: z.string(),
  message: z.string(),
  relatedTaskId: idSchema.nullable(),
  isRead: z.boolean(),
  createdAt: timestampSchema,
  readAt: timestampSchema.nullable(),
});
export const unreadCountSchema = z.object({ unread: z.number().int().nonnegative() });
export const markedReadSchema = z.object({ marked: z.number().int().nonnegative() });

export const chatMessageSchema = z.object({
  id: idSchema,
  senderId: idSchema,
  /** Set on a direct message; null on a channel message. */
  recipientId: idSchema.nullable(),
  /** Set on a channel message; null on a direct message. */
  channel: z.string().nullable(),
  message: z.string(),
  messageType: messageTypeSchema,
  fileUrl: z.string().nullable(),
  isEdited: z.boolean(),
  editedAt: timestampSchema.nullable(),
  createdAt: timestampSchema,
});
export const chatPageSchema = z.object({
  /** Oldest first. */
  messages: z.array(chatMessageSchema),
  /** Pass as `before` for the page of older messages; null when there are none. */
  nextBefore: idSchema.nullable(),
});

export const triageItemSchema = z.object({
  id: idSchema,
  reporterId: idSchema,
  title: z.string(),
  description: z.string(),
  status: triageStatusSchema,
  assignedTo: idSchema.nullable(),
  priority: triagePrioritySchema,
  category: z.string(),
  resolution: z.string().nullable(),
  resolvedAt: timestampSchema.nullable(),
  taskId: idSchema.nullable(),
  createdAt: timestampSchema,
  updatedAt: timestampSchema,
});
/**
 * The start of a GitHub sign-in: send the browser to `url` (it carries `state`); keep `flowSecret` where only
 * this client reads it (never in a URL) and pass it with GitHub's `code` and `state` to the callback before
 * `expiresAt`.
 */
export const githubAuthorizationSchema = z.object({
  url: z.url(),
  state: z.string(),
  flowSecret: z.string(),
  expiresAt: timestampSchema,
});
/** An invitation to join (admins see them): accepted by the first sign-in of its GitHub login. */
export const invitationSchema = z.object({
  id: idSchema,
  githubLogin: z.string(),
  role: userRoleSchema,
  /** Null when the operator invited (`huddle scrum invite`). */
  invitedById: idSchema.nullable(),
  createdAt: timestampSchema,
  acceptedAt: timestampSchema.nullable(),
  /** The user the invitation became, once accepted. */
  userId: idSchema.nullable(),
});
export const invitationPageSchema = pageOf(invitationSchema);
export const promotedTriageItemSchema = z.object({ item: triageItemSchema, task: taskSchema });
/** A page of a list: `items`, and `nextCursor` to send back as `cursor` for the next page (null on the last). */
export const teamMemberPageSchema = pageOf(teamMemberSchema);
export const taskPageSchema = pageOf(taskSchema);
/** Newest first. */
export const taskChangePageSchema = pageOf(taskChangeSchema);
export const notificationPageSchema = pageOf(notificationSchema);
export const triageItemPageSchema = pageOf(triageItemSchema);

export type TeamMember = z.infer<typeof teamMemberSchema>;
export type CurrentUser = z.infer<typeof currentUserSchema>;
export type Task = z.infer<typeof taskSchema>;
export type TaskChange = z.infer<typeof taskChangeSchema>;
export type TaskChangeField = TaskChange['field'];
export type TaskChangePage = z.infer<typeof taskChangePageSchema>;
export type Notification = z.infer<typeof notificationSchema>;
export type UnreadCount = z.infer<typeof unreadCountSchema>;
export type MarkedRead = z.infer<typeof markedReadSchema>;
export type ChatMessage = z.infer<typeof chatMessageSchema>;
export type ChatPage = z.infer<typeof chatPageSchema>;
export type TriageItem = z.infer<typeof triageItemSchema>;
export type GitHubAuthorization = z.infer<typeof githubAuthorizationSchema>;
export type Invitation = z.infer<typeof invitationSchema>;
export type InvitationPage = z.infer<typeof invitationPageSchema>;
export type PromotedTriageItem = z.infer<typeof promotedTriageItemSchema>;
export type TeamMemberPage = z.infer<typeof teamMemberPageSchema>;
export type TaskPage = z.infer<typeof taskPageSchema>;
export type NotificationPage = z.infer<typeof notificationPageSchema>;
export type TriageItemPage = z.infer<typeof triageItemPageSchema>;

// ---------------------------------------------------------------------------------------------- events

/**
 * The LISTEN/NOTIFY channel of notification events: one event per notification created, carrying its
 * recipient, so a subscriber delivers only `userId === subscriber`.
 */
export const SCRUM_NOTIFICATION_CHANNEL = 'scrum_notifications';
/**
 * The LISTEN/NOTIFY channel of chat events, as notices (`chatEventNoticeSchema`): which message, and who it
 * is for. A direct message's notice names its sender and recipient (a subscriber delivers it to those two
 * only); a channel message's names its channel (delivered to the subscribers of that channel).
 */
export const SCRUM_CHAT_CHANNEL = 'scrum_chat';

export const notificationEventSchema = z.strictObject({
  type: z.literal('notification_created'),
  userId: idSchema,
  notification: notificationSchema,
});
const chatEventTypeSchema = z.enum(['message_sent', 'message_edited']);
/**
 * What SCRUM_CHAT_CHANNEL carries: ids and the fields that decide who hears of the message, never its text. A
 * NOTIFY payload holds under 8000 bytes, and a message's text, JSON-escaped, can be six times its length.
 */
export const chatEventNoticeSchema = z.strictObject({
  type: chatEventTypeSchema,
  messageId: idSchema,
  senderId: idSchema,
  recipientId: idSchema.nullable(),
  channel: z.string().nullable(),
});
/** What a chat subscriber receives: the message of a notice, read with the subscriber's own visibility. */
export const chatEventSchema = z.strictObject({ type: chatEventTypeSchema, message: chatMessageSchema });
export type NotificationEvent = z.infer<typeof notificationEventSchema>;
export type ChatEventNotice = z.infer<typeof chatEventNoticeSchema>;
export type ChatEvent = z.infer<typeof chatEventSchema>;

/** What a chat subscriber asks for: their direct messages, and the messages of `channel` when given. */
export const chatEventsInputSchema = z.object({ channel: channelSchema.optional() });
export type ChatEventsInput = z.output<typeof chatEventsInputSchema>;

/** The one filter of notification events: a subscriber receives only the notifications addressed to them. */
export function isNotificationEventFor(event: NotificationEvent, userId: number): boolean {
  return event.userId === userId;
}

/**
 * The one filter of chat events: a direct message reaches its sender and recipient only; a channel message
 * reaches the subscribers of that channel (every active user may read channels).
 */
export function isChatEventFor(notice: ChatEventNotice, userId: number, input: ChatEventsInput): boolean {
  if (notice.recipientId !== null) return notice.senderId === userId || notice.recipientId === userId;
  return input.channel !== undefined && notice.channel === input.channel;
}
