import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  type Database,
  type EntityManager,
  inRequestScope,
  type ModuleFuzzFixtures,
  runAsActor,
} from '@huddle/db';
import type { PlannerActor } from './actor.ts';
import { createGitRepository } from './git.ts';
import { plannerModule } from './module.ts';
import { PLANNER_ROOTS_VARIABLE, plannerAccessFromEnv, type RepositoryAccess } from './roots.ts';
import type { ArtifactBody } from './schemas.ts';
import { addArtifact } from './services/artifacts.ts';
import { openChatSession } from './services/chat.ts';
import { activatePlanVersion, createPlan } from './services/plans.ts';
import { registerRepository } from './services/repositories.ts';

/** Work trees under the root left for `repositories.register`. */
const WORK_TREES = 8;
const OPERATOR = 'fuzz';
const OTHER_OPERATOR = 'fuzz.other';
/** The artifact the drafts get, and the example of `artifacts.add` (a diff that parses, of a file the tree has). */
const CODE_CHANGE: ArtifactBody = {
  type: 'code_changes',
  content: {
    changes: [
      { path: 'src/checkout.ts', action: 'modify', diff: '@@ -1 +1 @@\n-export {};\n+export const x = 1;\n' },
    ],
  },
};

/** Draft plans, each with an artifact and a chat session. */
const DRAFTS = 4;

/** A git work tree at `dir` with two files, as every fixture repository. */
function createWorkTree(dir: string): Promise<void> {
  return createGitRepository(dir, {
    defaultBranch: 'main',
    files: { 'README.md': '# fuzz\n', 'src/checkout.ts': 'export {};\n' },
    remoteUrl: 'https://git.example/fuzz.git',
  });
}

/**
 * The planner's fixtures for the API's fuzz harness (`plannerModule.fuzz`): a root of their own (the fuzz
 * server reads under it) with work trees left for `repositories.register`, the fuzz operator (an admin,
 * whose name the harness's first token carries) and another to disable, and every generation a repository
 * registered under the root, with drafts (each with an artifact and a chat session: an activation ends
 * artifact changes, a completed chat its messages, an artifact removal the artifact) and an active version
 * (`plans.complete`); its plans are named as every generation's, so a reused repository and a reused name
 * mostly make a plan that exists. Unregistering deletes all of it, so each generation has its own work tree.
 */
export async function plannerFuzzFixtures(db: Database): Promise<ModuleFuzzFixtures<RepositoryAccess>> {
  const root = await fs.promises.realpath(
    await fs.promises.mkdtemp(path.join(os.tmpdir(), 'huddle-fuzz-planner-')),
  );
  const workTrees: string[] = [];
  for (let index = 0; index < WORK_TREES; index++) {
    const dir = path.join(root, `repository-${index}`);
    await createWorkTree(dir);
    workTrees.push(dir);
  }
  const actor: PlannerActor = { module: 'planner', operator: OPERATOR, isAdmin: true };
  const as = <T>(work: (em: EntityManager, operator: PlannerActor) => Promise<T>) =>
    runAsActor(db.orm, plannerModule, actor, work);
  return {
    values: {
      path: workTrees,
      // `planner.repositories.readFiles` of the fixture work trees' branch and files.
      ref: ['main'],
      paths: [['README.md', 'src/checkout.ts']],
      // A body `planner.artifacts.add` and `replace` accept: schema-derived ones rarely are (trimmed text).
      artifact: [
        { type: 'feature_plan', content: { summary: 'Fuzz', goals: ['g'], nonGoals: [], risks: [] } },
        {
          type: 'code_changes',
          content: {
            changes: [
              {
                path: 'src/checkout.ts',
                action: 'modify',
                diff: '@@ -1 +1 @@\n-export {};\n+export const y = 2;\n',
              },
            ],
          },
        },
      ],
    },
    sources: [
      { fields: ['repositoryId'], sql: 'select id from planner.repositories' },
      { fields: ['planId', 'fromPlanId', 'toPlanId'], sql: 'select id from planner.plans' },
      { fields: ['name'], sql: 'select distinct name as id from planner.plans' },
      { fields: ['artifactId'], sql: 'select id from planner.plan_artifacts' },
      { fields: ['sessionId'], sql: 'select id from planner.chat_sessions' },
      // Never the fuzz operator itself: its own disabling is refused anyway, and its tokens must keep working.
      {
        fields: ['operator'],
        sql: `select name as id from planner.operators where name <> '${OPERATOR}' order by id`,
      },
    ],
    // Operators are names, which the harness's ids 1–8 never are.
    subjects: [OPERATOR],
    resources: await plannerAccessFromEnv({ [PLANNER_ROOTS_VARIABLE]: root }),
    async generation(generation) {
      const dir = path.join(root, `fixture-${generation}`);
      await createWorkTree(dir);
      // The fuzz operator is an admin (operators.* accept its calls), and another operator is there to disable.
      await inRequestScope(db.orm, (em) =>
        em.execute(
          `insert into planner.operators (name, is_admin) values (?, true), (?, false) on conflict (name) do nothing`,
          [OPERATOR, OTHER_OPERATOR],
        ),
      );
      const repository = await as((em, operator) =>
        registerRepository(em, operator, { path: dir }, { roots: [root] }),
      );
      // `fromPlanId` and `toPlanId` the same list: reused with the same pick, a version compared with itself.
      const values: Record<string, unknown[]> = {
        repositoryId: [repository.id],
        planId: [],
        fromPlanId: [],
        toPlanId: [],
        name: [],
        artifactId: [],
        sessionId: [],
      };
      const active = await as((em, operator) =>
        createPlan(em, operator, { repositoryId: repository.id, name: 'Fuzz plan in force' }),
      );
      await as((em, operator) => activatePlanVersion(em, operator, { planId: active.id }));
      values.planId!.push(active.id);
      values.name!.push(active.name);
      for (let index = 0; index < DRAFTS; index++) {
        const plan = await as((em, operator) =>
          createPlan(em, operator, { repositoryId: repository.id, name: `Fuzz plan ${index}` }),
        );
        const artifact = await as((em, operator) =>
          addArtifact(em, operator, { planId: plan.id, artifact: CODE_CHANGE }),
        );
        const chat = await as((em, operator) => openChatSession(em, operator, { planId: plan.id }));
        values.planId!.push(plan.id);
        values.fromPlanId!.push(plan.id);
        values.toPlanId!.push(plan.id);
        values.name!.push(plan.name);
        values.artifactId!.push(artifact.id);
        values.sessionId!.push(chat.id);
      }
      // A draft of its own (in no value) that only the example adds artifacts to: random calls activate drafts.
      const draft = await as((em, operator) =>
        createPlan(em, operator, { repositoryId: repository.id, name: 'Fuzz plan for artifacts' }),
      );
      // The plan in force by its repository and name, and to complete: fields that must agree.
      const inForce = { repositoryId: repository.id, name: active.name };
      return {
        values,
        examples: {
          'planner.plans.latest': [inForce],
          'planner.plans.versions': [inForce],
          'planner.plans.complete': [{ planId: active.id }],
          'planner.artifacts.add': [{ planId: draft.id, artifact: CODE_CHANGE }],
          // A search term is one word: random strings of two or more characters almost never are.
          'planner.search.chatSessionsMentioning': [{ term: 'plan' }],
        },
      };
    },
    remove: () => fs.promises.rm(root, { recursive: true, force: true }),
  };
}
