import { issueActorToken } from '@huddle/composition';
import { type Database, inRequestScope, runAsActor } from '@huddle/db';
import {
  assignTask,
  assignTaskInputSchema,
  assignTriageItem,
  assignTriageItemInputSchema,
  type ChatEvent,
  type ChatEventNotice,
  changeTaskStatus,
  changeTaskStatusInputSchema,
  changeTriageStatus,
  changeTriageStatusInputSchema,
  changeUserRole,
  changeUserRoleInputSchema,
  channelHistoryInputSchema,
  chatEventNoticeSchema,
  chatEventOf,
  chatEventsInputSchema,
  chatMessageSchema,
  chatPageSchema,
  conversationInputSchema,
  countUnreadNotifications,
  createTask,
  createTaskInputSchema,
  currentUserSchema,
  deactivateUser,
  directoryInputSchema,
  editMessage,
  editMessageInputSchema,
  type GitHubOAuthConfig,
  getChannelHistory,
  getConversation,
  getCurrentUser,
  getTask,
  getTriageItem,
  githubAuthorizationSchema,
  githubAuthorizeUrl,
  githubCallback,
  githubCallbackInputSchema,
  invitationSchema,
  inviteUser,
  inviteUserInputSchema,
  isChatEventFor,
  isNotificationEventFor,
  listDelayedTasks,
  listDelayedTasksInputSchema,
  listDirectory,
  listEpicTasks,
  listEpicTasksInputSchema,
  listMyTasks,
  listMyTasksInputSchema,
  listTasksByRole,
  listTasksByRoleInputSchema,
  listTriageItems,
  listTriageItemsInputSchema,
  listUnreadNotifications,
  listUnreadNotificationsInputSchema,
  markAllNotificationsRead,
  markedReadSchema,
  markNotificationRead,
  notificationEventSchema,
  notificationIdInputSchema,
  notificationPageSchema,
  notificationSchema,
  promotedTriageItemSchema,
  promoteTriageItem,
  promoteTriageItemInputSchema,
  reactivateUser,
  reportIssue,
  reportIssueInputSchema,
  SCRUM_CHAT_CHANNEL,
  SCRUM_NOTIFICATION_CHANNEL,
  type ScrumActor,
  scrumActor,
  scrumModule,
  sendChannelMessage,
  sendChannelMessageInputSchema,
  sendDirectMessage,
  sendDirectMessageInputSchema,
  taskIdInputSchema,
  taskPageSchema,
  taskSchema,
  teamMemberPageSchema,
  teamMemberSchema,
  triageItemIdInputSchema,
  triageItemPageSchema,
  triageItemSchema,
  unreadCountSchema,
  updateTask,
  updateTaskInputSchema,
  userIdInputSchema,
} from '@huddle/scrum';
import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { eventStream, type SubscribedMessage } from '../event-stream.ts';
import { type ApiContext, actorProcedure, authedProcedure, router, signInProcedure } from '../trpc.ts';

/** Every scrum procedure but sign-in acts as the user of a scrum token, with least privilege. */
const scrumProcedure = actorProcedure(scrumModule);

/**
 * A scrum procedure whose service gets its input as the client sent it. Scrum's services parse their input
 * themselves, and some schemas turn strings into other values (dates into Dates, list cursors into their
 * keys), which a second parse would refuse; `.input()` has validated the sent input against the same schema
 * before the resolver runs, hence the cast.
 */
function scrumProcedureWithSentInput<Schema extends z.ZodType>(schema: Schema) {
  return scrumProcedure
    .use(async ({ getRawInput, next }) =>
      next({ ctx: { sentInput: (await getRawInput()) as z.input<Schema> } }),
    )
    .input(schema);
}

/** The server's GitHub settings; a server started without them refuses GitHub sign-in as a client-visible state. */
function githubConfig(ctx: ApiContext): GitHubOAuthConfig {
  const { github } = ctx.moduleResources.of(scrumModule);
  if (github) return github;
  throw new TRPCError({
    code: 'PRECONDITION_FAILED',
    message:
      'GitHub sign-in is not configured on this server (GITHUB_CLIENT_ID, GITHUB_CLIENT_SECRET, GITHUB_REDIRECT_URI)',
  });
}

/**
 * A subscription's access check, before its stream starts and inside the error mapping: the token's user
 * must still exist and be active (UNAUTHORIZED otherwise, as in a query).
 */
function loadScrumActor(db: Database, actor: ScrumActor): Promise<ScrumActor> {
  return runAsActor(db.orm, scrumModule, actor, async (_em, loaded) => loaded);
}

/**
 * Each notice's message, read in its own request scope as the subscriber (so a deactivated subscriber or an
 * invisible message gets nothing), one at a time, in the order the notices arrived.
 */
async function* chatEvents(
  db: Database,
  actor: ScrumActor,
  notices: AsyncGenerator<ChatEventNotice | SubscribedMessage>,
): AsyncGenerator<ChatEvent | SubscribedMessage> {
  for await (const notice of notices) {
    if (notice.type === 'subscribed') {
      yield notice;
      continue;
    }
    const event = await runAsActor(db.orm, scrumModule, actor, (em, loaded) =>
      chatEventOf(em, loaded, notice),
    );
    if (event) yield event;
  }
}

export const scrumRouter = router({
  /**
   * Sign-in with GitHub, bound to the client that starts it. `githubAuthorizeUrl` answers the URL to send the
   * browser to and a `flowSecret` the client keeps to itself (never in a URL); `githubCallback` takes
   * GitHub's `code` and `state` with that secret. The PKCE verifier stays on the server (scrum.sign_in_flows).
   */
  auth: router({
    githubAuthorizeUrl: signInProcedure.output(githubAuthorizationSchema).mutation(({ ctx }) => {
      const config = githubConfig(ctx);
      // As the owner: nobody is signed in yet, and requests may not touch sign-in flows.
      return inRequestScope(ctx.db.orm, (em) => githubAuthorizeUrl(em, config));
    }),
    githubCallback: signInProcedure
      .input(githubCallbackInputSchema)
      .output(z.object({ user: currentUserSchema, token: z.string(), expiresAt: z.iso.datetime() }))
      .mutation(async ({ ctx, input }) => {
        const user = await githubCallback(ctx.db.orm, githubConfig(ctx), input);
        const issued = await issueActorToken(ctx.secret, scrumActor, {
          module: 'scrum',
          userId: user.id,
          role: user.role,
        });
        return { user, ...issued };
      }),
  }),

  users: router({
    directory: scrumProcedureWithSentInput(directoryInputSchema.optional())
      .output(teamMemberPageSchema)
      .query(({ ctx }) => listDirectory(ctx.em, ctx.actor, ctx.sentInput ?? {})),
    me: scrumProcedure.output(currentUserSchema).query(({ ctx }) => getCurrentUser(ctx.em, ctx.actor)),
    changeRole: scrumProcedure
      .input(changeUserRoleInputSchema)
      .output(teamMemberSchema)
      .mutation(({ ctx, input }) => changeUserRole(ctx.em, ctx.actor, input)),
    deactivate: scrumProcedure
      .input(userIdInputSchema)
      .output(teamMemberSchema)
      .mutation(({ ctx, input }) => deactivateUser(ctx.em, ctx.actor, input)),
    reactivate: scrumProcedure
      .input(userIdInputSchema)
      .output(teamMemberSchema)
      .mutation(({ ctx, input }) => reactivateUser(ctx.em, ctx.actor, input)),
    invite: scrumProcedure
      .input(inviteUserInputSchema)
      .output(invitationSchema)
      .mutation(({ ctx, input }) => inviteUser(ctx.em, ctx.actor, input)),
  }),

  tasks: router({
    create: scrumProcedureWithSentInput(createTaskInputSchema)
      .output(taskSchema)
      .mutation(({ ctx }) => createTask(ctx.em, ctx.actor, ctx.sentInput)),
    assign: scrumProcedure
      .input(assignTaskInputSchema)
      .output(taskSchema)
      .mutation(({ ctx, input }) => assignTask(ctx.em, ctx.actor, input)),
    update: scrumProcedureWithSentInput(updateTaskInputSchema)
      .output(taskSchema)
      .mutation(({ ctx }) => updateTask(ctx.em, ctx.actor, ctx.sentInput)),
    changeStatus: scrumProcedure
      .input(changeTaskStatusInputSchema)
      .output(taskSchema)
      .mutation(({ ctx, input }) => changeTaskStatus(ctx.em, ctx.actor, input)),
    get: scrumProcedure
      .input(taskIdInputSchema)
      .output(taskSchema)
      .query(({ ctx, input }) => getTask(ctx.em, ctx.actor, input)),
    mine: scrumProcedureWithSentInput(listMyTasksInputSchema)
      .output(taskPageSchema)
      .query(({ ctx }) => listMyTasks(ctx.em, ctx.actor, ctx.sentInput)),
    byRole: scrumProcedureWithSentInput(listTasksByRoleInputSchema)
      .output(taskPageSchema)
      .query(({ ctx }) => listTasksByRole(ctx.em, ctx.actor, ctx.sentInput)),
    delayed: scrumProcedureWithSentInput(listDelayedTasksInputSchema.optional())
      .output(taskPageSchema)
      .query(({ ctx }) => listDelayedTasks(ctx.em, ctx.actor, ctx.sentInput ?? {})),
    byEpic: scrumProcedureWithSentInput(listEpicTasksInputSchema)
      .output(taskPageSchema)
      .query(({ ctx }) => listEpicTasks(ctx.em, ctx.actor, ctx.sentInput)),
  }),

  notifications: router({
    unread: scrumProcedureWithSentInput(listUnreadNotificationsInputSchema.optional())
      .output(notificationPageSchema)
      .query(({ ctx }) => listUnreadNotifications(ctx.em, ctx.actor, ctx.sentInput ?? {})),
    markRead: scrumProcedure
      .input(notificationIdInputSchema)
      .output(notificationSchema)
      .mutation(({ ctx, input }) => markNotificationRead(ctx.em, ctx.actor, input)),
    markAllRead: scrumProcedure
      .output(markedReadSchema)
      .mutation(({ ctx }) => markAllNotificationsRead(ctx.em, ctx.actor)),
    unreadCount: scrumProcedure
      .output(unreadCountSchema)
      .query(({ ctx }) => countUnreadNotifications(ctx.em, ctx.actor)),
    /** The caller's own notifications as they are created (LISTEN/NOTIFY: from every API process). */
    events: authedProcedure(scrumModule).subscription(async ({ ctx, signal }) => {
      const actor = await loadScrumActor(ctx.db, ctx.actor);
      return eventStream(ctx, SCRUM_NOTIFICATION_CHANNEL, signal, (payload) => {
        const event = notificationEventSchema.safeParse(payload);
        return event.success && isNotificationEventFor(event.data, actor.userId) ? event.data : undefined;
      });
    }),
  }),

  chat: router({
    sendDirect: scrumProcedure
      .input(sendDirectMessageInputSchema)
      .output(chatMessageSchema)
      .mutation(({ ctx, input }) => sendDirectMessage(ctx.em, ctx.actor, input)),
    sendChannel: scrumProcedure
      .input(sendChannelMessageInputSchema)
      .output(chatMessageSchema)
      .mutation(({ ctx, input }) => sendChannelMessage(ctx.em, ctx.actor, input)),
    edit: scrumProcedure
      .input(editMessageInputSchema)
      .output(chatMessageSchema)
      .mutation(({ ctx, input }) => editMessage(ctx.em, ctx.actor, input)),
    conversation: scrumProcedure
      .input(conversationInputSchema)
      .output(chatPageSchema)
      .query(({ ctx, input }) => getConversation(ctx.em, ctx.actor, input)),
    channelHistory: scrumProcedure
      .input(channelHistoryInputSchema)
      .output(chatPageSchema)
      .query(({ ctx, input }) => getChannelHistory(ctx.em, ctx.actor, input)),
    /** Direct messages to or from the caller, and the messages of `channel` when given, as they happen. */
    events: authedProcedure(scrumModule)
      .input(chatEventsInputSchema)
      .subscription(async ({ ctx, input, signal }) => {
        const actor = await loadScrumActor(ctx.db, ctx.actor);
        const notices = eventStream(ctx, SCRUM_CHAT_CHANNEL, signal, (payload) => {
          const notice = chatEventNoticeSchema.safeParse(payload);
          return notice.success && isChatEventFor(notice.data, actor.userId, input) ? notice.data : undefined;
        });
        return chatEvents(ctx.db, actor, notices);
      }),
  }),

  triage: router({
    report: scrumProcedure
      .input(reportIssueInputSchema)
      .output(triageItemSchema)
      .mutation(({ ctx, input }) => reportIssue(ctx.em, ctx.actor, input)),
    assign: scrumProcedure
      .input(assignTriageItemInputSchema)
      .output(triageItemSchema)
      .mutation(({ ctx, input }) => assignTriageItem(ctx.em, ctx.actor, input)),
    changeStatus: scrumProcedure
      .input(changeTriageStatusInputSchema)
      .output(triageItemSchema)
      .mutation(({ ctx, input }) => changeTriageStatus(ctx.em, ctx.actor, input)),
    promote: scrumProcedureWithSentInput(promoteTriageItemInputSchema)
      .output(promotedTriageItemSchema)
      .mutation(({ ctx }) => promoteTriageItem(ctx.em, ctx.actor, ctx.sentInput)),
    list: scrumProcedureWithSentInput(listTriageItemsInputSchema.optional())
      .output(triageItemPageSchema)
      .query(({ ctx }) => listTriageItems(ctx.em, ctx.actor, ctx.sentInput ?? {})),
    get: scrumProcedure
      .input(triageItemIdInputSchema)
      .output(triageItemSchema)
      .query(({ ctx, input }) => getTriageItem(ctx.em, ctx.actor, input)),
  }),
});
