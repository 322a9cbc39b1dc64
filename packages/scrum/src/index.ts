/** @huddle/scrum: tasks, notifications, chat and triage, with row-level security enforced by the database. */
export { type ScrumActor, scrumActor } from './actor.ts';
export { READ_NOTIFICATION_RETENTION_DAYS, scrumJobs } from './jobs.ts';
export { type ScrumResources, scrumModule } from './module.ts';
export { scrumOperations } from './operations.ts';
export * from './schemas.ts';
export { MINIMAL_USERS, SAMPLE_TASK, ScrumMinimalSeeder } from './seeders/minimal.ts';
export { REALISTIC_PER_SCALE, realisticGithubId, ScrumRealisticSeeder } from './seeders/realistic.ts';
export {
  chatEventOf,
  editMessage,
  getChannelHistory,
  getConversation,
  sendChannelMessage,
  sendDirectMessage,
} from './services/chat.ts';
export {
  FIRST_SIGN_IN_ROLE,
  type GitHubOAuthConfig,
  githubAuthorizeUrl,
  githubCallback,
  githubOAuthConfigFromEnv,
} from './services/github.ts';
export {
  countUnreadNotifications,
  listUnreadNotifications,
  markAllNotificationsRead,
  markNotificationRead,
} from './services/notifications.ts';
export {
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
export {
  assignTriageItem,
  changeTriageStatus,
  getTriageItem,
  listTriageItems,
  promoteTriageItem,
  reportIssue,
} from './services/triage.ts';
export {
  changeUserRole,
  deactivateUser,
  findActiveUserIdByGithubId,
  getCurrentUser,
  inviteUser,
  inviteUserAsOperator,
  listDirectory,
  reactivateUser,
} from './services/users.ts';
