import {
  activatedPlanSchema,
  activatePlanVersion,
  addArtifact,
  addArtifactInputSchema,
  appendChatMessage,
  appendChatMessageInputSchema,
  appendedChatMessageSchema,
  archivePlanVersion,
  artifactIdInputSchema,
  artifactMatchPageSchema,
  artifactSchema,
  artifactsWithStep,
  artifactsWithStepInputSchema,
  chatMessagePageSchema,
  chatMessagesInputSchema,
  chatSessionIdInputSchema,
  chatSessionMatchPageSchema,
  chatSessionPageSchema,
  chatSessionSchema,
  chatSessionsMentioning,
  chatSessionsMentioningInputSchema,
  comparePlanVersions,
  comparePlanVersionsInputSchema,
  completeChatSession,
  completePlanVersion,
  createPlan,
  createPlanInputSchema,
  exportPlan,
  getChatMessages,
  getLatestPlanVersion,
  getPlanVersion,
  getRepository,
  listChatSessions,
  listChatSessionsInputSchema,
  listPlans,
  listPlansInputSchema,
  listPlanVersions,
  listPlanVersionsInputSchema,
  listRepositories,
  listRepositoriesInputSchema,
  newPlanVersion,
  openChatSession,
  planComparisonSchema,
  planDetailSchema,
  planExportSchema,
  planIdInputSchema,
  planMatchPageSchema,
  planNameInputSchema,
  plannerModule,
  plansTouchingFile,
  plansTouchingFileInputSchema,
  planVersionPageSchema,
  planVersionSchema,
  refreshRepository,
  registerRepository,
  registerRepositoryInputSchema,
  removeArtifact,
  renameRepository,
  renameRepositoryInputSchema,
  replaceArtifact,
  replaceArtifactInputSchema,
  repositoryIdInputSchema,
  repositoryPageSchema,
  repositorySchema,
  unregisteredRepositorySchema,
  unregisterRepository,
  unregisterRepositoryInputSchema,
  updatePlanInputSchema,
  updatePlanVersion,
} from '@huddle/planner';
import { actorProcedure, router } from '../trpc.ts';

/** Every planner procedure acts as the operator a planner token names, with least privilege. */
const plannerProcedure = actorProcedure(plannerModule);

export const plannerRouter = router({
  /** Local git work trees; the server reads only under the roots it was started with (`ctx.moduleResources.of(plannerModule)`). */
  repositories: router({
    register: plannerProcedure
      .input(registerRepositoryInputSchema)
      .output(repositorySchema)
      .mutation(({ ctx, input }) =>
        registerRepository(ctx.em, ctx.actor, input, ctx.moduleResources.of(plannerModule)),
      ),
    list: plannerProcedure
      .input(listRepositoriesInputSchema.prefault({}))
      .output(repositoryPageSchema)
      .query(({ ctx, input }) => listRepositories(ctx.em, ctx.actor, input)),
    get: plannerProcedure
      .input(repositoryIdInputSchema)
      .output(repositorySchema)
      .query(({ ctx, input }) => getRepository(ctx.em, ctx.actor, input)),
    rename: plannerProcedure
      .input(renameRepositoryInputSchema)
      .output(repositorySchema)
      .mutation(({ ctx, input }) => renameRepository(ctx.em, ctx.actor, input)),
    refresh: plannerProcedure
      .input(repositoryIdInputSchema)
      .output(repositorySchema)
      .mutation(({ ctx, input }) =>
        refreshRepository(ctx.em, ctx.actor, input, ctx.moduleResources.of(plannerModule)),
      ),
    unregister: plannerProcedure
      .input(unregisterRepositoryInputSchema)
      .output(unregisteredRepositorySchema)
      .mutation(({ ctx, input }) => unregisterRepository(ctx.em, ctx.actor, input)),
  }),

  plans: router({
    create: plannerProcedure
      .input(createPlanInputSchema)
      .output(planDetailSchema)
      .mutation(({ ctx, input }) => createPlan(ctx.em, ctx.actor, input)),
    get: plannerProcedure
      .input(planIdInputSchema)
      .output(planDetailSchema)
      .query(({ ctx, input }) => getPlanVersion(ctx.em, ctx.actor, input)),
    latest: plannerProcedure
      .input(planNameInputSchema)
      .output(planDetailSchema)
      .query(({ ctx, input }) => getLatestPlanVersion(ctx.em, ctx.actor, input)),
    versions: plannerProcedure
      .input(listPlanVersionsInputSchema)
      .output(planVersionPageSchema)
      .query(({ ctx, input }) => listPlanVersions(ctx.em, ctx.actor, input)),
    list: plannerProcedure
      .input(listPlansInputSchema)
      .output(planVersionPageSchema)
      .query(({ ctx, input }) => listPlans(ctx.em, ctx.actor, input)),
    update: plannerProcedure
      .input(updatePlanInputSchema)
      .output(planVersionSchema)
      .mutation(({ ctx, input }) => updatePlanVersion(ctx.em, ctx.actor, input)),
    newVersion: plannerProcedure
      .input(planIdInputSchema)
      .output(planDetailSchema)
      .mutation(({ ctx, input }) => newPlanVersion(ctx.em, ctx.actor, input)),
    activate: plannerProcedure
      .input(planIdInputSchema)
      .output(activatedPlanSchema)
      .mutation(({ ctx, input }) => activatePlanVersion(ctx.em, ctx.actor, input)),
    complete: plannerProcedure
      .input(planIdInputSchema)
      .output(planVersionSchema)
      .mutation(({ ctx, input }) => completePlanVersion(ctx.em, ctx.actor, input)),
    archive: plannerProcedure
      .input(planIdInputSchema)
      .output(planVersionSchema)
      .mutation(({ ctx, input }) => archivePlanVersion(ctx.em, ctx.actor, input)),
    /** The version as Markdown: feature plan, numbered steps, code changes with their diffs. */
    export: plannerProcedure
      .input(planIdInputSchema)
      .output(planExportSchema)
      .query(({ ctx, input }) => exportPlan(ctx.em, ctx.actor, input)),
    compare: plannerProcedure
      .input(comparePlanVersionsInputSchema)
      .output(planComparisonSchema)
      .query(({ ctx, input }) => comparePlanVersions(ctx.em, ctx.actor, input)),
  }),

  /** Artifacts of a draft version; active and later versions are read-only. */
  artifacts: router({
    add: plannerProcedure
      .input(addArtifactInputSchema)
      .output(artifactSchema)
      .mutation(({ ctx, input }) => addArtifact(ctx.em, ctx.actor, input)),
    replace: plannerProcedure
      .input(replaceArtifactInputSchema)
      .output(artifactSchema)
      .mutation(({ ctx, input }) => replaceArtifact(ctx.em, ctx.actor, input)),
    remove: plannerProcedure
      .input(artifactIdInputSchema)
      .output(artifactSchema)
      .mutation(({ ctx, input }) => removeArtifact(ctx.em, ctx.actor, input)),
  }),

  /** Content searches by JSONB containment, served by the GIN indexes. */
  search: router({
    plansTouchingFile: plannerProcedure
      .input(plansTouchingFileInputSchema)
      .output(planMatchPageSchema)
      .query(({ ctx, input }) => plansTouchingFile(ctx.em, ctx.actor, input)),
    artifactsWithStep: plannerProcedure
      .input(artifactsWithStepInputSchema)
      .output(artifactMatchPageSchema)
      .query(({ ctx, input }) => artifactsWithStep(ctx.em, ctx.actor, input)),
    chatSessionsMentioning: plannerProcedure
      .input(chatSessionsMentioningInputSchema)
      .output(chatSessionMatchPageSchema)
      .query(({ ctx, input }) => chatSessionsMentioning(ctx.em, ctx.actor, input)),
  }),

  chat: router({
    open: plannerProcedure
      .input(planIdInputSchema)
      .output(chatSessionSchema)
      .mutation(({ ctx, input }) => openChatSession(ctx.em, ctx.actor, input)),
    list: plannerProcedure
      .input(listChatSessionsInputSchema)
      .output(chatSessionPageSchema)
      .query(({ ctx, input }) => listChatSessions(ctx.em, ctx.actor, input)),
    append: plannerProcedure
      .input(appendChatMessageInputSchema)
      .output(appendedChatMessageSchema)
      .mutation(({ ctx, input }) => appendChatMessage(ctx.em, ctx.actor, input)),
    messages: plannerProcedure
      .input(chatMessagesInputSchema)
      .output(chatMessagePageSchema)
      .query(({ ctx, input }) => getChatMessages(ctx.em, ctx.actor, input)),
    complete: plannerProcedure
      .input(chatSessionIdInputSchema)
      .output(chatSessionSchema)
      .mutation(({ ctx, input }) => completeChatSession(ctx.em, ctx.actor, input)),
  }),
});
