import { operationsFor } from '@huddle/db';
import type { ScrumActor } from './actor.ts';
import type { ScrumResources } from './module.ts';
import {
  assignTaskInputSchema,
  assignTriageItemInputSchema,
  changeTaskStatusInputSchema,
  changeTriageStatusInputSchema,
  changeUserRoleInputSchema,
  channelHistoryInputSchema,
  chatEventNoticeSchema,
  chatEventsInputSchema,
  chatMessageSchema,
  chatPageSchema,
  conversationInputSchema,
  createTaskInputSchema,
  currentUserSchema,
  directoryInputSchema,
  editMessageInputSchema,
  githubAuthorizationSchema,
  githubCallbackInputSchema,
  invitationPageSchema,
  invitationSchema,
  inviteUserInputSchema,
  isChatEventFor,
  isNotificationEventFor,
  listDelayedTasksInputSchema,
  listEpicTasksInputSchema,
  listInvitationsInputSchema,
  listMyTasksInputSchema,
  listTasksByRoleInputSchema,
  listTriageItemsInputSchema,
  listUnreadNotificationsInputSchema,
  markedReadSchema,
  notificationEventSchema,
  notificationIdInputSchema,
  notificationPageSchema,
  notificationSchema,
  promotedTriageItemSchema,
  promoteTriageItemInputSchema,
  reportIssueInputSchema,
  revokeInvitationInputSchema,
  SCRUM_CHAT_CHANNEL,
  SCRUM_NOTIFICATION_CHANNEL,
  sendChannelMessageInputSchema,
  sendDirectMessageInputSchema,
  taskChangePageSchema,
  taskHistoryInputSchema,
  taskIdInputSchema,
  taskPageSchema,
  taskSchema,
  teamMemberPageSchema,
  teamMemberSchema,
  triageItemIdInputSchema,
  triageItemPageSchema,
  triageItemSchema,
  unreadCountSchema,
  updateTaskInputSchema,
  userIdInputSchema,
} from './schemas.ts';
import {
  chatEventOf,
  editMessage,
  getChannelHistory,
  getConversation,
  sendChannelMessage,
  sendDirectMessage,
} from './services/chat.ts';
import { configuredGitHub, githubAuthorizeUrl, githubCallback } from './services/github.ts';
import {
  countUnreadNotifications,
  listUnreadNotifications,
  markAllNotificationsRead,
  markNotificationRead,
} from './services/notifications.ts';
import {
  assignTask,
  changeTaskStatus,
  createTask,
  getTask,
  listDelayedTasks,
  listEpicTasks,
  listMyTasks,
  listTaskHistory,
  listTasksByRole,
  updateTask,
} from './services/tasks.ts';
import {
  assignTriageItem,
  changeTriageStatus,
  getTriageItem,
  listTriageItems,
  promoteTriageItem,
  reportIssue,
} from './services/triage.ts';
import {
  changeUserRole,
  deactivateUser,
  getCurrentUser,
  inviteUser,
  listDirectory,
  listInvitations,
  reactivateUser,
  revokeInvitation,
} from './services/users.ts';

const operation = operationsFor<ScrumActor, ScrumResources>();

/**
 * What scrum offers callers: the API serves each as `scrum.<path>` (see DomainModule.operations). Every
 * operation but sign-in acts as the user of a scrum token, with row-level security. The list inputs take
 * their cursor as the `nextCursor` string a page returned (`keysetCursor`).
 */
export const scrumOperations = {
  /**
   * Sign-in with GitHub, bound to the client that starts it. `githubAuthorizeUrl` answers the URL to send the
   * browser to and a `flowSecret` the client keeps to itself (never in a URL); `githubCallback` takes
   * GitHub's `code` and `state` with that secret. The PKCE verifier stays on the server (scrum.sign_in_flows).
   */
  auth: {
    githubAuthorizeUrl: operation.public({
      output: githubAuthorizationSchema,
      run: (transactions, _input, { github }) => {
        const config = configuredGitHub(github);
        // As the owner: nobody is signed in yet, and requests may not touch sign-in flows.
        return transactions.asOwner((em) => githubAuthorizeUrl(em, config));
      },
    }),
    githubCallback: operation.signIn({
      input: githubCallbackInputSchema,
      user: currentUserSchema,
      run: async (transactions, input, { resources }) => {
        const user = await githubCallback(transactions.asOwner, configuredGitHub(resources.github), input);
        return { user, actor: { module: 'scrum', userId: user.id, role: user.role } };
      },
    }),
  },

  users: {
    directory: operation.query({
      input: directoryInputSchema.prefault({}),
      output: teamMemberPageSchema,
      run: listDirectory,
    }),
    me: operation.query({ output: currentUserSchema, run: getCurrentUser }),
    changeRole: operation.mutation({
      input: changeUserRoleInputSchema,
      output: teamMemberSchema,
      run: changeUserRole,
    }),
    deactivate: operation.mutation({
      input: userIdInputSchema,
      output: teamMemberSchema,
      run: deactivateUser,
    }),
    reactivate: operation.mutation({
      input: userIdInputSchema,
      output: teamMemberSchema,
      run: reactivateUser,
    }),
    invite: operation.mutation({ input: inviteUserInputSchema, output: invitationSchema, run: inviteUser }),
    invitations: operation.query({
      input: listInvitationsInputSchema.prefault({}),
      output: invitationPageSchema,
      run: listInvitations,
    }),
    revokeInvitation: operation.mutation({
      input: revokeInvitationInputSchema,
      output: invitationSchema,
      run: revokeInvitation,
    }),
  },

  tasks: {
    create: operation.mutation({ input: createTaskInputSchema, output: taskSchema, run: createTask }),
    assign: operation.mutation({ input: assignTaskInputSchema, output: taskSchema, run: assignTask }),
    update: operation.mutation({ input: updateTaskInputSchema, output: taskSchema, run: updateTask }),
    changeStatus: operation.mutation({
      input: changeTaskStatusInputSchema,
      output: taskSchema,
      run: changeTaskStatus,
    }),
    get: operation.query({ input: taskIdInputSchema, output: taskSchema, run: getTask }),
    mine: operation.query({
      input: listMyTasksInputSchema.prefault({}),
      output: taskPageSchema,
      run: listMyTasks,
    }),
    byRole: operation.query({
      input: listTasksByRoleInputSchema,
      output: taskPageSchema,
      run: listTasksByRole,
    }),
    delayed: operation.query({
      input: listDelayedTasksInputSchema.prefault({}),
      output: taskPageSchema,
      run: listDelayedTasks,
    }),
    byEpic: operation.query({ input: listEpicTasksInputSchema, output: taskPageSchema, run: listEpicTasks }),
    /** Status, assignee and date changes, newest first, for whoever can see the task. */
    history: operation.query({
      input: taskHistoryInputSchema,
      output: taskChangePageSchema,
      run: listTaskHistory,
    }),
  },

  notifications: {
    unread: operation.query({
      input: listUnreadNotificationsInputSchema.prefault({}),
      output: notificationPageSchema,
      run: listUnreadNotifications,
    }),
    markRead: operation.mutation({
      input: notificationIdInputSchema,
      output: notificationSchema,
      run: markNotificationRead,
    }),
    markAllRead: operation.mutation({ output: markedReadSchema, run: markAllNotificationsRead }),
    unreadCount: operation.query({ output: unreadCountSchema, run: countUnreadNotifications }),
    /** The caller's own notifications as they are created (LISTEN/NOTIFY: from every API process). */
    events: operation.subscription({
      channel: SCRUM_NOTIFICATION_CHANNEL,
      notice: notificationEventSchema,
      accepts: (event, actor) => isNotificationEventFor(event, actor.userId),
    }),
  },

  chat: {
    sendDirect: operation.mutation({
      input: sendDirectMessageInputSchema,
      output: chatMessageSchema,
      run: sendDirectMessage,
    }),
    sendChannel: operation.mutation({
      input: sendChannelMessageInputSchema,
      output: chatMessageSchema,
      run: sendChannelMessage,
    }),
    edit: operation.mutation({ input: editMessageInputSchema, output: chatMessageSchema, run: editMessage }),
    conversation: operation.query({
      input: conversationInputSchema,
      output: chatPageSchema,
      run: getConversation,
    }),
    channelHistory: operation.query({
      input: channelHistoryInputSchema,
      output: chatPageSchema,
      run: getChannelHistory,
    }),
    /**
     * Direct messages to or from the caller, and the messages of `channel` when given, as they happen: each
     * notice's message read as the subscriber (row-level security decides), in the order they arrived.
     */
    events: operation.subscription({
      input: chatEventsInputSchema,
      channel: SCRUM_CHAT_CHANNEL,
      notice: chatEventNoticeSchema,
      accepts: (notice, actor, input) => isChatEventFor(notice, actor.userId, input),
      read: chatEventOf,
    }),
  },

  triage: {
    report: operation.mutation({ input: reportIssueInputSchema, output: triageItemSchema, run: reportIssue }),
    assign: operation.mutation({
      input: assignTriageItemInputSchema,
      output: triageItemSchema,
      run: assignTriageItem,
    }),
    changeStatus: operation.mutation({
      input: changeTriageStatusInputSchema,
      output: triageItemSchema,
      run: changeTriageStatus,
    }),
    promote: operation.mutation({
      input: promoteTriageItemInputSchema,
      output: promotedTriageItemSchema,
      run: promoteTriageItem,
    }),
    list: operation.query({
      input: listTriageItemsInputSchema.prefault({}),
      output: triageItemPageSchema,
      run: listTriageItems,
    }),
    get: operation.query({ input: triageItemIdInputSchema, output: triageItemSchema, run: getTriageItem }),
  },
};
