/** @huddle/planner: versioned code-change plans over local git repositories, on Huddle's shared data layer. */
export { type PlannerActor, plannerActor } from './actor.ts';
export { createGitRepository, type NewRepository } from './git.ts';
export { plannerModule } from './module.ts';
export { plannerOperations } from './operations.ts';
export {
  PLANNER_ROOTS_VARIABLE,
  plannerAccessFromEnv,
  plannerRootsFromEnv,
  type RepositoryAccess,
} from './roots.ts';
export * from './schemas.ts';
export { DEMO_PLAN_NAME } from './seeders/demo.ts';
export { demoRepositoryPath, PlannerMinimalSeeder } from './seeders/minimal.ts';
export { PlannerRealisticSeeder, REALISTIC_PER_SCALE } from './seeders/realistic.ts';
export { addArtifact, removeArtifact, replaceArtifact } from './services/artifacts.ts';
export {
  appendChatMessage,
  chatTerms,
  completeChatSession,
  getChatMessages,
  listChatSessions,
  MAX_MESSAGES_PER_SESSION,
  openChatSession,
} from './services/chat.ts';
export { checkPlan, MAX_CHECKED_FILE_BYTES } from './services/checks.ts';
export { getPlanContext, readFiles } from './services/files.ts';
export {
  activatePlanVersion,
  archivePlanVersion,
  completePlanVersion,
  createPlan,
  createPlanAtBranchHead,
  getLatestPlanVersion,
  getPlanVersion,
  listPlans,
  listPlanVersions,
  newPlanVersion,
  newPlanVersionAtBranchHead,
  updatePlanVersion,
  updatePlanVersionAtBranchHead,
} from './services/plans.ts';
export { comparePlanVersions, exportPlan } from './services/reading.ts';
export {
  getRepository,
  listRepositories,
  refreshRepository,
  registerRepository,
  renameRepository,
  unregisterRepository,
} from './services/repositories.ts';
export { artifactsWithStep, chatSessionsMentioning, plansTouchingFile } from './services/search.ts';
