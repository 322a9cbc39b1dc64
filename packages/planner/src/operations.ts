import { operationsFor } from '@huddle/db';
import type { PlannerActor } from './actor.ts';
import type { RepositoryAccess } from './roots.ts';
import {
  activatedPlanSchema,
  addArtifactInputSchema,
  addOperatorInputSchema,
  appendChatMessageInputSchema,
  appendedChatMessageSchema,
  artifactIdInputSchema,
  artifactMatchPageSchema,
  artifactSchema,
  artifactsWithStepInputSchema,
  chatMessagePageSchema,
  chatMessagesInputSchema,
  chatSessionIdInputSchema,
  chatSessionMatchPageSchema,
  chatSessionPageSchema,
  chatSessionSchema,
  chatSessionsMentioningInputSchema,
  comparePlanVersionsInputSchema,
  createPlanInputSchema,
  listChatSessionsInputSchema,
  listOperatorsInputSchema,
  listPlansInputSchema,
  listPlanVersionsInputSchema,
  listRepositoriesInputSchema,
  operatorNameInputSchema,
  operatorPageSchema,
  operatorSchema,
  planCheckSchema,
  planComparisonSchema,
  planContextInputSchema,
  planContextSchema,
  planDetailSchema,
  planExportSchema,
  planIdInputSchema,
  planMatchPageSchema,
  planNameInputSchema,
  plansTouchingFileInputSchema,
  planVersionPageSchema,
  planVersionSchema,
  readFilesInputSchema,
  registerRepositoryInputSchema,
  renameRepositoryInputSchema,
  replaceArtifactInputSchema,
  repositoryFilesSchema,
  repositoryIdInputSchema,
  repositoryPageSchema,
  repositorySchema,
  unregisteredRepositorySchema,
  unregisterRepositoryInputSchema,
  updatePlanInputSchema,
} from './schemas.ts';
import { addArtifact, removeArtifact, replaceArtifact } from './services/artifacts.ts';
import {
  appendChatMessage,
  completeChatSession,
  getChatMessages,
  listChatSessions,
  openChatSession,
} from './services/chat.ts';
import { checkPlan } from './services/checks.ts';
import { getPlanContext, readFiles } from './services/files.ts';
import { addOperator, disableOperator, enableOperator, listOperators } from './services/operators.ts';
import {
  activatePlanVersion,
  archivePlanVersion,
  completePlanVersion,
  createPlanAtBranchHead,
  getLatestPlanVersion,
  getPlanVersion,
  listPlans,
  listPlanVersions,
  newPlanVersionAtBranchHead,
  updatePlanVersionAtBranchHead,
} from './services/plans.ts';
import { comparePlanVersions, exportPlan } from './services/reading.ts';
import {
  getRepository,
  listRepositories,
  refreshRepository,
  registerRepository,
  renameRepository,
  unregisterRepository,
} from './services/repositories.ts';
import { artifactsWithStep, chatSessionsMentioning, plansTouchingFile } from './services/search.ts';

const operation = operationsFor<PlannerActor, RepositoryAccess>();

/**
 * What planner offers callers: the API serves each as `planner.<path>` (see DomainModule.operations). Every
 * operation acts as the operator a planner token names (an enabled row of planner.operators), and operators
 * may act on all plans and repositories; only admins manage operators.
 */
export const plannerOperations = {
  /** Who may act: admins list, add, disable and enable operators. */
  operators: {
    list: operation.query({
      input: listOperatorsInputSchema.prefault({}),
      output: operatorPageSchema,
      run: listOperators,
    }),
    add: operation.mutation({ input: addOperatorInputSchema, output: operatorSchema, run: addOperator }),
    disable: operation.mutation({
      input: operatorNameInputSchema,
      output: operatorSchema,
      run: disableOperator,
    }),
    enable: operation.mutation({
      input: operatorNameInputSchema,
      output: operatorSchema,
      run: enableOperator,
    }),
  },

  /** Local git work trees; the server reads only under the roots it was started with (the resources). */
  repositories: {
    register: operation.mutation({
      input: registerRepositoryInputSchema,
      output: repositorySchema,
      run: registerRepository,
    }),
    list: operation.query({
      input: listRepositoriesInputSchema.prefault({}),
      output: repositoryPageSchema,
      run: listRepositories,
    }),
    get: operation.query({ input: repositoryIdInputSchema, output: repositorySchema, run: getRepository }),
    rename: operation.mutation({
      input: renameRepositoryInputSchema,
      output: repositorySchema,
      run: renameRepository,
    }),
    refresh: operation.mutation({
      input: repositoryIdInputSchema,
      output: repositorySchema,
      run: refreshRepository,
    }),
    unregister: operation.mutation({
      input: unregisterRepositoryInputSchema,
      output: unregisteredRepositorySchema,
      run: unregisterRepository,
    }),
    /**
     * Files at a branch, tag or commit, from git objects (no link followed, nothing outside the repository),
     * bounded in count and bytes (stepped: git is read with no transaction open).
     */
    readFiles: operation.stepped({
      input: readFilesInputSchema,
      output: repositoryFilesSchema,
      run: readFiles,
    }),
  },

  plans: {
    /** Version 1, planned against the commit the target branch points at now (read from git, no transaction open). */
    create: operation.stepped({
      input: createPlanInputSchema,
      output: planDetailSchema,
      run: createPlanAtBranchHead,
    }),
    get: operation.query({ input: planIdInputSchema, output: planDetailSchema, run: getPlanVersion }),
    latest: operation.query({
      input: planNameInputSchema,
      output: planDetailSchema,
      run: getLatestPlanVersion,
    }),
    versions: operation.query({
      input: listPlanVersionsInputSchema,
      output: planVersionPageSchema,
      run: listPlanVersions,
    }),
    list: operation.query({ input: listPlansInputSchema, output: planVersionPageSchema, run: listPlans }),
    /** A new target branch is planned against the commit it points at now. */
    update: operation.stepped({
      input: updatePlanInputSchema,
      output: planVersionSchema,
      run: updatePlanVersionAtBranchHead,
    }),
    /** A copy of the latest version, planned against the commit its target branch points at now. */
    newVersion: operation.stepped({
      input: planIdInputSchema,
      output: planDetailSchema,
      run: newPlanVersionAtBranchHead,
    }),
    activate: operation.mutation({
      input: planIdInputSchema,
      output: activatedPlanSchema,
      run: activatePlanVersion,
    }),
    complete: operation.mutation({
      input: planIdInputSchema,
      output: planVersionSchema,
      run: completePlanVersion,
    }),
    archive: operation.mutation({
      input: planIdInputSchema,
      output: planVersionSchema,
      run: archivePlanVersion,
    }),
    /** The version as Markdown: feature plan, numbered steps, code changes with their diffs. */
    export: operation.query({ input: planIdInputSchema, output: planExportSchema, run: exportPlan }),
    compare: operation.query({
      input: comparePlanVersionsInputSchema,
      output: planComparisonSchema,
      run: comparePlanVersions,
    }),
    /**
     * Whether each code change still applies: its file and diff at the commit the version was planned
     * against and at the target branch's head (stepped: git is read with no transaction open).
     */
    check: operation.stepped({ input: planIdInputSchema, output: planCheckSchema, run: checkPlan }),
    /** The files the version is about (its code changes' and steps'), as they were where it was planned. */
    context: operation.stepped({
      input: planContextInputSchema,
      output: planContextSchema,
      run: getPlanContext,
    }),
  },

  /** Artifacts of a draft version; active and later versions are read-only. */
  artifacts: {
    add: operation.mutation({ input: addArtifactInputSchema, output: artifactSchema, run: addArtifact }),
    replace: operation.mutation({
      input: replaceArtifactInputSchema,
      output: artifactSchema,
      run: replaceArtifact,
    }),
    remove: operation.mutation({ input: artifactIdInputSchema, output: artifactSchema, run: removeArtifact }),
  },

  /** Content searches by JSONB containment and steps by words, served by GIN indexes. */
  search: {
    plansTouchingFile: operation.query({
      input: plansTouchingFileInputSchema,
      output: planMatchPageSchema,
      run: plansTouchingFile,
    }),
    artifactsWithStep: operation.query({
      input: artifactsWithStepInputSchema,
      output: artifactMatchPageSchema,
      run: artifactsWithStep,
    }),
    chatSessionsMentioning: operation.query({
      input: chatSessionsMentioningInputSchema,
      output: chatSessionMatchPageSchema,
      run: chatSessionsMentioning,
    }),
  },

  chat: {
    open: operation.mutation({ input: planIdInputSchema, output: chatSessionSchema, run: openChatSession }),
    list: operation.query({
      input: listChatSessionsInputSchema,
      output: chatSessionPageSchema,
      run: listChatSessions,
    }),
    append: operation.mutation({
      input: appendChatMessageInputSchema,
      output: appendedChatMessageSchema,
      run: appendChatMessage,
    }),
    messages: operation.query({
      input: chatMessagesInputSchema,
      output: chatMessagePageSchema,
      run: getChatMessages,
    }),
    complete: operation.mutation({
      input: chatSessionIdInputSchema,
      output: chatSessionSchema,
      run: completeChatSession,
    }),
  },
};
