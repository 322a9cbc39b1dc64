import { operationsFor } from '@huddle/db';
import type { DecisionsActor } from './actor.ts';
import type { DecisionsResources } from './resources.ts';
import {
  addMemberInputSchema,
  adrFilePageSchema,
  adrImportReportSchema,
  changeMemberRoleInputSchema,
  changePasswordInputSchema,
  changeUserRoleInputSchema,
  createDecisionInputSchema,
  createPasswordResetInputSchema,
  createProjectInputSchema,
  createTranscriptInputSchema,
  createUserInputSchema,
  decisionDetailSchema,
  decisionIdInputSchema,
  decisionPageSchema,
  decisionSchema,
  editDecisionInputSchema,
  exportDecisionsInputSchema,
  extractionSchema,
  importDecisionsInputSchema,
  listDecisionsInputSchema,
  listMembersInputSchema,
  listProjectsInputSchema,
  listRevisionsInputSchema,
  listTranscriptsInputSchema,
  listUsersInputSchema,
  memberPageSchema,
  memberSchema,
  passwordResetSchema,
  projectIdInputSchema,
  projectPageSchema,
  projectSchema,
  relateDecisionsInputSchema,
  relationshipSchema,
  removedMemberSchema,
  removeMemberInputSchema,
  resetPasswordInputSchema,
  revisionPageSchema,
  searchInputSchema,
  searchPageSchema,
  signInInputSchema,
  similarDecisionSchema,
  similarInputSchema,
  supersedeChainSchema,
  transcriptIdInputSchema,
  transcriptPageSchema,
  transcriptSchema,
  transitionDecisionInputSchema,
  userIdInputSchema,
  userPageSchema,
  userSchema,
} from './schemas.ts';
import { exportDecisions, importDecisions } from './services/adr.ts';
import {
  createDecision,
  deleteDecision,
  editDecision,
  getDecision,
  listDecisions,
  restoreDecision,
  transitionDecision,
} from './services/decisions.ts';
import { extractDecisions } from './services/extraction.ts';
import { createPasswordReset, resetPassword } from './services/password-resets.ts';
import {
  addMember,
  archiveProject,
  changeMemberRole,
  createProject,
  getProject,
  listMembers,
  listMyProjects,
  removeMember,
  unarchiveProject,
} from './services/projects.ts';
import { relateDecisions, supersedeChain } from './services/relationships.ts';
import { listRevisions } from './services/revisions.ts';
import { searchDecisions } from './services/search.ts';
import { similarDecisions } from './services/similarity.ts';
import { createTranscript, getTranscript, listTranscripts } from './services/transcripts.ts';
import {
  changePassword,
  changeUserRole,
  createUser,
  deleteUser,
  getCurrentUser,
  listUsers,
  restoreUser,
  signIn,
} from './services/users.ts';

const operation = operationsFor<DecisionsActor, DecisionsResources>();

/**
 * What the decision log offers callers: the API serves each as `decisions.<path>` (see
 * DomainModule.operations). Every operation but `auth.signIn` acts as the user of a decisions token.
 * Meeting tools deliver transcripts to the signed webhook route instead (`receiveWebhookTranscript`).
 */
export const decisionsOperations = {
  auth: {
    /** Email and password; a wrong password and an unknown email get the same answer. A decisions token. */
    signIn: operation.signIn({
      input: signInInputSchema,
      user: userSchema,
      run: async (transactions, input) => {
        const user = await transactions((em) => signIn(em, input));
        return { user, actor: { module: 'decisions', userId: user.id, role: user.role } };
      },
    }),
    /**
     * Redeems a one-time password reset link (`users.createPasswordReset`, or `huddle decisions
     * password-reset`): sets the new password; then sign in with it. bcrypt runs outside any transaction.
     */
    resetPassword: operation.public({
      input: resetPasswordInputSchema,
      output: userSchema,
      run: (transactions, input) => resetPassword(transactions, input),
    }),
  },

  users: {
    me: operation.query({ output: userSchema, run: getCurrentUser }),
    list: operation.query({
      input: listUsersInputSchema.prefault({}),
      output: userPageSchema,
      run: listUsers,
    }),
    create: operation.mutation({ input: createUserInputSchema, output: userSchema, run: createUser }),
    changeRole: operation.mutation({
      input: changeUserRoleInputSchema,
      output: userSchema,
      run: changeUserRole,
    }),
    delete: operation.mutation({ input: userIdInputSchema, output: userSchema, run: deleteUser }),
    restore: operation.mutation({ input: userIdInputSchema, output: userSchema, run: restoreUser }),
    /** Checks the caller's password: counted like a sign-in; bcrypt runs outside any transaction. */
    changePassword: operation.stepped({
      input: changePasswordInputSchema,
      output: userSchema,
      attemptKey: (actor) => `decisions-user:${actor.userId}`,
      run: changePassword,
    }),
    /** A director makes a one-time link for a user who cannot sign in: its token is shown once, valid 1 h. */
    createPasswordReset: operation.mutation({
      input: createPasswordResetInputSchema,
      output: passwordResetSchema,
      run: createPasswordReset,
    }),
  },

  projects: {
    create: operation.mutation({
      input: createProjectInputSchema,
      output: projectSchema,
      run: createProject,
    }),
    mine: operation.query({
      input: listProjectsInputSchema.prefault({}),
      output: projectPageSchema,
      run: listMyProjects,
    }),
    get: operation.query({ input: projectIdInputSchema, output: projectSchema, run: getProject }),
    archive: operation.mutation({ input: projectIdInputSchema, output: projectSchema, run: archiveProject }),
    unarchive: operation.mutation({
      input: projectIdInputSchema,
      output: projectSchema,
      run: unarchiveProject,
    }),
    members: operation.query({ input: listMembersInputSchema, output: memberPageSchema, run: listMembers }),
    addMember: operation.mutation({ input: addMemberInputSchema, output: memberSchema, run: addMember }),
    changeMemberRole: operation.mutation({
      input: changeMemberRoleInputSchema,
      output: memberSchema,
      run: changeMemberRole,
    }),
    removeMember: operation.mutation({
      input: removeMemberInputSchema,
      output: removedMemberSchema,
      run: removeMember,
    }),
  },

  /** Transcripts entered by hand or uploaded; meeting tools deliver theirs to the webhook route. */
  transcripts: {
    create: operation.mutation({
      input: createTranscriptInputSchema,
      output: transcriptSchema,
      run: createTranscript,
    }),
    get: operation.query({ input: transcriptIdInputSchema, output: transcriptSchema, run: getTranscript }),
    /** Without the transcripts' text: `get` reads one whole. */
    list: operation.query({
      input: listTranscriptsInputSchema,
      output: transcriptPageSchema,
      run: listTranscripts,
    }),
    /** Proposes decisions from the transcript's text; extracting again proposes nothing new. */
    extract: operation.stepped({
      input: transcriptIdInputSchema,
      output: extractionSchema,
      run: extractDecisions,
    }),
  },

  decisions: {
    create: operation.mutation({
      input: createDecisionInputSchema,
      output: decisionSchema,
      run: createDecision,
    }),
    edit: operation.mutation({ input: editDecisionInputSchema, output: decisionSchema, run: editDecision }),
    list: operation.query({
      input: listDecisionsInputSchema,
      output: decisionPageSchema,
      run: listDecisions,
    }),
    get: operation.query({ input: decisionIdInputSchema, output: decisionDetailSchema, run: getDecision }),
    delete: operation.mutation({ input: decisionIdInputSchema, output: decisionSchema, run: deleteDecision }),
    restore: operation.mutation({
      input: decisionIdInputSchema,
      output: decisionSchema,
      run: restoreDecision,
    }),
    /** proposed → accepted | rejected, accepted → deprecated; accepting a superseding decision supersedes its target. */
    transition: operation.mutation({
      input: transitionDecisionInputSchema,
      output: decisionSchema,
      run: transitionDecision,
    }),
    relate: operation.mutation({
      input: relateDecisionsInputSchema,
      output: relationshipSchema,
      run: relateDecisions,
    }),
    supersedeChain: operation.query({
      input: decisionIdInputSchema,
      output: supersedeChainSchema,
      run: supersedeChain,
    }),
    /** The decision before each of its changes (edits, transitions, deletion, links), latest first. */
    revisions: operation.query({
      input: listRevisionsInputSchema,
      output: revisionPageSchema,
      run: listRevisions,
    }),
  },

  /** The log as architecture decision records: Markdown files, one per decision. */
  adr: {
    /** A page of MADR-style files of one project, or of every project the caller is a member of. */
    export: operation.query({
      input: exportDecisionsInputSchema.prefault({}),
      output: adrFilePageSchema,
      run: exportDecisions,
    }),
    /** MADR, log4brains or adr-tools files into a project, with a report per file; embedding runs outside transactions. */
    import: operation.stepped({
      input: importDecisionsInputSchema,
      output: adrImportReportSchema,
      run: importDecisions,
    }),
  },

  /** Decisions nearest in meaning to a decision or a text, in projects the caller is a member of. */
  similar: operation.query({
    input: similarInputSchema,
    output: similarDecisionSchema.array(),
    run: similarDecisions,
  }),

  /** Decisions matching a text by their words and by meaning, in one ranking, in the caller's projects. */
  search: operation.query({ input: searchInputSchema, output: searchPageSchema, run: searchDecisions }),
};
