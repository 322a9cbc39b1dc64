import { issueActorToken } from '@huddle/composition';
import { runAnonymously, runAsActor } from '@huddle/db';
import {
  addMember,
  addMemberInputSchema,
  archiveProject,
  changeMemberRole,
  changeMemberRoleInputSchema,
  changePassword,
  changePasswordInputSchema,
  changeUserRole,
  changeUserRoleInputSchema,
  createDecision,
  createDecisionInputSchema,
  createProject,
  createProjectInputSchema,
  createTranscript,
  createTranscriptInputSchema,
  createUser,
  createUserInputSchema,
  decisionDetailSchema,
  decisionIdInputSchema,
  decisionPageSchema,
  decisionSchema,
  decisionsActor,
  decisionsModule,
  deleteDecision,
  deleteUser,
  editDecision,
  editDecisionInputSchema,
  extractDecisions,
  extractionSchema,
  getCurrentUser,
  getDecision,
  getProject,
  getTranscript,
  type InActorTransaction,
  listDecisions,
  listDecisionsInputSchema,
  listMembers,
  listMembersInputSchema,
  listMyProjects,
  listProjectsInputSchema,
  listTranscripts,
  listTranscriptsInputSchema,
  listUsers,
  listUsersInputSchema,
  memberPageSchema,
  memberSchema,
  projectIdInputSchema,
  projectPageSchema,
  projectSchema,
  relateDecisions,
  relateDecisionsInputSchema,
  relationshipSchema,
  removedMemberSchema,
  removeMember,
  removeMemberInputSchema,
  restoreDecision,
  restoreUser,
  signIn,
  signInInputSchema,
  similarDecisionSchema,
  similarDecisions,
  similarInputSchema,
  supersedeChain,
  supersedeChainSchema,
  transcriptIdInputSchema,
  transcriptPageSchema,
  transcriptSchema,
  transitionDecision,
  transitionDecisionInputSchema,
  unarchiveProject,
  userIdInputSchema,
  userPageSchema,
  userSchema,
} from '@huddle/decisions';
import { z } from 'zod';
import { actorProcedure, authedProcedure, router, signInProcedure } from '../trpc.ts';

/** Every decisions procedure but `auth.signIn` acts as the user of a decisions token, with least privilege. */
const decisionsProcedure = actorProcedure(decisionsModule);

/**
 * A procedure whose service does slow work (bcrypt, extraction) between short transactions of its own
 * (`InActorTransaction`), so none is open while that work runs; each loads the actor afresh.
 */
const slowWorkProcedure = authedProcedure(decisionsModule).use(({ ctx, next }) => {
  const inTransaction: InActorTransaction = (work) =>
    runAsActor(ctx.db.orm, decisionsModule, ctx.actor, work);
  return next({ ctx: { inTransaction } });
});

/** Checks the caller's password: counted like a sign-in, per user and per user-and-address (sign-in-limits.ts). */
const passwordCheckProcedure = slowWorkProcedure.use(async ({ ctx, next }) => {
  await ctx.signIns.attempt(ctx.clientAddress, `decisions-user:${ctx.actor.userId}`);
  return next();
});

export const decisionsRouter = router({
  auth: router({
    /** Email and password; a wrong password and an unknown email get the same answer. A decisions token. */
    signIn: signInProcedure
      .input(signInInputSchema)
      .output(z.object({ user: userSchema, token: z.string(), expiresAt: z.iso.datetime() }))
      .mutation(async ({ ctx, input }) => {
        const user = await runAnonymously(ctx.db.orm, decisionsModule, (em) => signIn(em, input));
        const issued = await issueActorToken(ctx.secret, decisionsActor, {
          module: 'decisions',
          userId: user.id,
          role: user.role,
        });
        return { user, ...issued };
      }),
  }),

  users: router({
    me: decisionsProcedure.output(userSchema).query(({ ctx }) => getCurrentUser(ctx.em, ctx.actor)),
    list: decisionsProcedure
      .output(userPageSchema)
      .input(listUsersInputSchema.optional())
      .query(({ ctx, input }) => listUsers(ctx.em, ctx.actor, input ?? {})),
    create: decisionsProcedure
      .output(userSchema)
      .input(createUserInputSchema)
      .mutation(({ ctx, input }) => createUser(ctx.em, ctx.actor, input)),
    changeRole: decisionsProcedure
      .output(userSchema)
      .input(changeUserRoleInputSchema)
      .mutation(({ ctx, input }) => changeUserRole(ctx.em, ctx.actor, input)),
    delete: decisionsProcedure
      .output(userSchema)
      .input(userIdInputSchema)
      .mutation(({ ctx, input }) => deleteUser(ctx.em, ctx.actor, input)),
    restore: decisionsProcedure
      .output(userSchema)
      .input(userIdInputSchema)
      .mutation(({ ctx, input }) => restoreUser(ctx.em, ctx.actor, input)),
    /** Rate-limited like a sign-in; bcrypt runs outside any transaction. */
    changePassword: passwordCheckProcedure
      .output(userSchema)
      .input(changePasswordInputSchema)
      .mutation(({ ctx, input }) => changePassword(ctx.inTransaction, input)),
  }),

  projects: router({
    create: decisionsProcedure
      .output(projectSchema)
      .input(createProjectInputSchema)
      .mutation(({ ctx, input }) => createProject(ctx.em, ctx.actor, input)),
    mine: decisionsProcedure
      .output(projectPageSchema)
      .input(listProjectsInputSchema.optional())
      .query(({ ctx, input }) => listMyProjects(ctx.em, ctx.actor, input ?? {})),
    get: decisionsProcedure
      .output(projectSchema)
      .input(projectIdInputSchema)
      .query(({ ctx, input }) => getProject(ctx.em, ctx.actor, input)),
    archive: decisionsProcedure
      .output(projectSchema)
      .input(projectIdInputSchema)
      .mutation(({ ctx, input }) => archiveProject(ctx.em, ctx.actor, input)),
    unarchive: decisionsProcedure
      .output(projectSchema)
      .input(projectIdInputSchema)
      .mutation(({ ctx, input }) => unarchiveProject(ctx.em, ctx.actor, input)),
    members: decisionsProcedure
      .output(memberPageSchema)
      .input(listMembersInputSchema)
      .query(({ ctx, input }) => listMembers(ctx.em, ctx.actor, input)),
    addMember: decisionsProcedure
      .output(memberSchema)
      .input(addMemberInputSchema)
      .mutation(({ ctx, input }) => addMember(ctx.em, ctx.actor, input)),
    changeMemberRole: decisionsProcedure
      .output(memberSchema)
      .input(changeMemberRoleInputSchema)
      .mutation(({ ctx, input }) => changeMemberRole(ctx.em, ctx.actor, input)),
    removeMember: decisionsProcedure
      .output(removedMemberSchema)
      .input(removeMemberInputSchema)
      .mutation(({ ctx, input }) => removeMember(ctx.em, ctx.actor, input)),
  }),

  /** Transcripts entered by hand or uploaded; meeting tools deliver theirs to the webhook route (webhooks.ts). */
  transcripts: router({
    create: decisionsProcedure
      .output(transcriptSchema)
      .input(createTranscriptInputSchema)
      .mutation(({ ctx, input }) => createTranscript(ctx.em, ctx.actor, input)),
    get: decisionsProcedure
      .output(transcriptSchema)
      .input(transcriptIdInputSchema)
      .query(({ ctx, input }) => getTranscript(ctx.em, ctx.actor, input)),
    /** Without the transcripts' text: `get` reads one whole. */
    list: decisionsProcedure
      .output(transcriptPageSchema)
      .input(listTranscriptsInputSchema)
      .query(({ ctx, input }) => listTranscripts(ctx.em, ctx.actor, input)),
    /** Proposes decisions from the transcript's text; extracting again proposes nothing new. */
    extract: slowWorkProcedure
      .output(extractionSchema)
      .input(transcriptIdInputSchema)
      .mutation(({ ctx, input }) => extractDecisions(ctx.inTransaction, input)),
  }),

  decisions: router({
    create: decisionsProcedure
      .output(decisionSchema)
      .input(createDecisionInputSchema)
      .mutation(({ ctx, input }) => createDecision(ctx.em, ctx.actor, input)),
    edit: decisionsProcedure
      .output(decisionSchema)
      .input(editDecisionInputSchema)
      .mutation(({ ctx, input }) => editDecision(ctx.em, ctx.actor, input)),
    list: decisionsProcedure
      .output(decisionPageSchema)
      .input(listDecisionsInputSchema)
      .query(({ ctx, input }) => listDecisions(ctx.em, ctx.actor, input)),
    get: decisionsProcedure
      .output(decisionDetailSchema)
      .input(decisionIdInputSchema)
      .query(({ ctx, input }) => getDecision(ctx.em, ctx.actor, input)),
    delete: decisionsProcedure
      .output(decisionSchema)
      .input(decisionIdInputSchema)
      .mutation(({ ctx, input }) => deleteDecision(ctx.em, ctx.actor, input)),
    restore: decisionsProcedure
      .output(decisionSchema)
      .input(decisionIdInputSchema)
      .mutation(({ ctx, input }) => restoreDecision(ctx.em, ctx.actor, input)),
    /** proposed → accepted | rejected, accepted → deprecated; accepting a superseding decision supersedes its target. */
    transition: decisionsProcedure
      .output(decisionSchema)
      .input(transitionDecisionInputSchema)
      .mutation(({ ctx, input }) => transitionDecision(ctx.em, ctx.actor, input)),
    relate: decisionsProcedure
      .output(relationshipSchema)
      .input(relateDecisionsInputSchema)
      .mutation(({ ctx, input }) => relateDecisions(ctx.em, ctx.actor, input)),
    supersedeChain: decisionsProcedure
      .output(supersedeChainSchema)
      .input(decisionIdInputSchema)
      .query(({ ctx, input }) => supersedeChain(ctx.em, ctx.actor, input)),
  }),

  /** Decisions nearest in meaning to a decision or a text, in projects the caller is a member of. */
  similar: decisionsProcedure
    .output(similarDecisionSchema.array())
    .input(similarInputSchema)
    .query(({ ctx, input }) => similarDecisions(ctx.em, ctx.actor, input)),
});
