import { issueActorToken } from '@huddle/composition';
import { type Database, inRequestScope, runAsActor } from '@huddle/db';
import {
  assignTask,
  assignTaskInputSchema,
  assignTriageItem,
  assignTriageItemInputSchema,
  changeTaskStatus,
  changeTaskStatusInputSchema,
  changeTriageStatus,
  changeTriageStatusInputSchema,
  changeUserRole,
  changeUserRoleInputSchema,
  channelHistoryInputSchema,
  chatEventSchema,
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
  taskSchema,
  teamMemberSchema,
  triageItemIdInputSchema,
  triageItemSchema,
  unreadCountSchema,
  updateTask,
  updateTaskInputSchema,
  userIdInputSchema,
} from '@huddle/scrum';
import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { eventStream } from '../event-stream.ts';
import { openSignInState, sealSignInState } from '../github-sign-in.ts';
import {
  type ApiContext,
  actorProcedure,
  authedProcedure,
  publicProcedure,
  router,
  signInProcedure,
} from '../trpc.ts';

/** Every scrum procedure but sign-in acts as the user of a scrum token, with least privilege. */
const scrumProcedure = actorProcedure(scrumModule);

/**
 * A scrum procedure whose service gets its input as the client sent it. Scrum's services parse their input
 * themselves, and some schemas turn date strings into Dates, which a second parse would refuse; `.input()`
 * has validated the sent input against the same schema before the resolver runs, hence the cast.
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
  if (ctx.githubOAuth) return ctx.githubOAuth;
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

export const scrumRouter = router({
  /**
   * Sign-in with GitHub. The client sends the browser to `url` and passes GitHub's `code` and `state` back
   * to `githubCallback`; the PKCE verifier travels sealed inside `state` (github-sign-in.ts), never readable.
   */
  auth: router({
    githubAuthorizeUrl: publicProcedure
      .output(githubAuthorizationSchema.pick({ url: true, state: true }))
      .mutation(async ({ ctx }) => {
        const authorization = await githubAuthorizeUrl(githubConfig(ctx));
        const state = sealSignInState(ctx.secret, authorization.codeVerifier);
        const url = new URL(authorization.url);
        url.searchParams.set('state', state);
        return { url: url.toString(), state };
      }),
    githubCallback: signInProcedure
      .input(githubCallbackInputSchema)
      .output(z.object({ user: currentUserSchema, token: z.string(), expiresAt: z.iso.datetime() }))
      .mutation(async ({ ctx, input }) => {
        const config = githubConfig(ctx);
        const codeVerifier = openSignInState(ctx.secret, input.state);
        // As the owner, as the package requires: nobody is signed in yet, and requests may not create users.
        const user = await inRequestScope(ctx.db.orm, (em) =>
          githubCallback(em, config, input, { state: input.state, codeVerifier }),
        );
        const issued = await issueActorToken(ctx.secret, scrumActor, {
          module: 'scrum',
          userId: user.id,
          role: user.role,
        });
        return { user, ...issued };
      }),
  }),

  users: router({
    directory: scrumProcedure
      .input(directoryInputSchema.optional())
      .output(teamMemberSchema.array())
      .query(({ ctx, input }) => listDirectory(ctx.em, ctx.actor, input ?? {})),
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
    mine: scrumProcedure
      .input(listMyTasksInputSchema)
      .output(taskSchema.array())
      .query(({ ctx, input }) => listMyTasks(ctx.em, ctx.actor, input)),
    byRole: scrumProcedure
      .input(listTasksByRoleInputSchema)
      .output(taskSchema.array())
      .query(({ ctx, input }) => listTasksByRole(ctx.em, ctx.actor, input)),
    delayed: scrumProcedure
      .input(listDelayedTasksInputSchema.optional())
      .output(taskSchema.array())
      .query(({ ctx, input }) => listDelayedTasks(ctx.em, ctx.actor, input ?? {})),
    byEpic: scrumProcedure
      .input(listEpicTasksInputSchema)
      .output(taskSchema.array())
      .query(({ ctx, input }) => listEpicTasks(ctx.em, ctx.actor, input)),
  }),

  notifications: router({
    unread: scrumProcedure
      .input(listUnreadNotificationsInputSchema.optional())
      .output(notificationSchema.array())
      .query(({ ctx, input }) => listUnreadNotifications(ctx.em, ctx.actor, input ?? {})),
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
        return eventStream(ctx, SCRUM_CHAT_CHANNEL, signal, (payload) => {
          const event = chatEventSchema.safeParse(payload);
          return event.success && isChatEventFor(event.data, actor.userId, input) ? event.data : undefined;
        });
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
    list: scrumProcedure
      .input(listTriageItemsInputSchema.optional())
      .output(triageItemSchema.array())
      .query(({ ctx, input }) => listTriageItems(ctx.em, ctx.actor, input ?? {})),
    get: scrumProcedure
      .input(triageItemIdInputSchema)
      .output(triageItemSchema)
      .query(({ ctx, input }) => getTriageItem(ctx.em, ctx.actor, input)),
  }),
});
