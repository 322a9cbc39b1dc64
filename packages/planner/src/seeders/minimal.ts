import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Dictionary, type EntityManager, type SeedContext, Seeder } from '@huddle/db';
import git from 'isomorphic-git';
import { PlannerArtifact } from '../entities/artifact.ts';
import { PlannerChatSession } from '../entities/chat-session.ts';
import { PlannerPlan } from '../entities/plan.ts';
import { PlannerRepository } from '../entities/repository.ts';
import { createGitRepository, gitDirectory, readWorkTree } from '../git.ts';
import { plannerRootsFromEnv, resolveUnderRoots } from '../roots.ts';
import { chatTerms } from '../services/chat.ts';
import { DEMO_ARTIFACTS, DEMO_MESSAGES, DEMO_PLAN_NAME, DEMO_REPOSITORY_FILES } from './demo.ts';

/**
 * The work tree the project's own checkout is (found upwards from the working directory), when it lies
 * under the configured roots; otherwise undefined.
 */
async function projectCheckout(roots: readonly string[]): Promise<string | undefined> {
  const checkout = await git.findRoot({ fs, filepath: process.cwd() }).catch(() => undefined);
  if (!checkout) return undefined;
  return resolveUnderRoots(checkout, roots).catch(() => undefined);
}

/**
 * Where the demo repository is created when the checkout cannot be used: beside the embedded database's
 * data directory (`HUDDLE_DATA_DIR`), or in the system's temp directory when a server is used without one.
 */
export function demoRepositoryPath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.HUDDLE_DATA_DIR ? path.dirname(path.resolve(env.HUDDLE_DATA_DIR)) : os.tmpdir();
  return path.join(base, 'planner-demo-repository');
}

async function demoRepository(): Promise<string> {
  const dir = demoRepositoryPath();
  if ((await gitDirectory(dir)) === undefined) {
    await createGitRepository(dir, { defaultBranch: 'main', files: DEMO_REPOSITORY_FILES });
  }
  return fs.promises.realpath(dir);
}

/**
 * One repository (the project's own checkout when it is a git work tree under `HUDDLE_PLANNER_ROOTS`,
 * otherwise a demo repository created with a git library), one plan with an artifact of each type, and a
 * chat session. Idempotent: it writes only what is missing.
 */
export class PlannerMinimalSeeder extends Seeder<SeedContext & Dictionary> {
  async run(em: EntityManager): Promise<void> {
    const workTree = (await projectCheckout(plannerRootsFromEnv())) ?? (await demoRepository());
    const gitdir = (await gitDirectory(workTree))!;
    const repository =
      (await em.findOne(PlannerRepository, { path: workTree })) ??
      em.create(PlannerRepository, {
        path: workTree,
        // A work tree the seeder chose itself (the operator's checkout or its own demo), read as it is.
        ...(await readWorkTree({ dir: workTree, gitdir, roots: undefined })),
      });
    await em.flush();
    if ((await em.count(PlannerPlan, { repository, name: DEMO_PLAN_NAME })) > 0) return;
    const plan = em.create(PlannerPlan, {
      repository,
      name: DEMO_PLAN_NAME,
      description: 'The planner’s sample plan: pay with a saved card.',
      targetBranch: repository.defaultBranch,
    });
    for (const artifact of DEMO_ARTIFACTS) {
      em.create(PlannerArtifact, { plan, artifactType: artifact.type, content: artifact.content });
    }
    const at = new Date().toISOString();
    em.create(PlannerChatSession, {
      plan,
      messages: DEMO_MESSAGES.map((message) => ({ ...message, at, terms: chatTerms(message.content) })),
    });
    await em.flush();
  }
}
