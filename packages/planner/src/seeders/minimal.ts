import fs from 'node:fs';
import path from 'node:path';
import {
  type DatabaseTarget,
  type Dictionary,
  type EntityManager,
  type SeedContext,
  Seeder,
} from '@huddle/db';
import git from 'isomorphic-git';
import { PlannerArtifact } from '../entities/artifact.ts';
import { PlannerChatSession } from '../entities/chat-session.ts';
import { PlannerPlan } from '../entities/plan.ts';
import { PlannerRepository } from '../entities/repository.ts';
import { createGitRepository, gitDirectory, readWorkTree } from '../git.ts';
import { isWithin, plannerRootsFromEnv, resolveUnderRoots } from '../roots.ts';
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

const DEMO_REPOSITORY_NAME = 'planner-demo-repository';

/**
 * Where the demo repository goes when the checkout cannot be used: into the embedded database's data
 * directory, or on a server under the first configured root — never a fixed, shared path. Undefined when
 * that place is not under a configured root: the seeder creates and registers only what the planner may read.
 */
export function demoRepositoryPath(target: DatabaseTarget, roots: readonly string[]): string | undefined {
  const base = target.kind === 'pglite' ? target.dataDir : roots[0];
  if (base === undefined) return undefined;
  const dir = path.join(base, DEMO_REPOSITORY_NAME);
  return roots.some((root) => isWithin(dir, root)) ? dir : undefined;
}

/** The demo repository at `dir`, created with a git library when missing, as its real path under `roots`. */
async function demoRepository(dir: string, roots: readonly string[]): Promise<string> {
  if ((await gitDirectory(dir)) === undefined) {
    await createGitRepository(dir, { defaultBranch: 'main', files: DEMO_REPOSITORY_FILES });
  }
  return resolveUnderRoots(dir, roots);
}

/**
 * The demo operator (an admin), and one repository (the project's own checkout when it is a git work tree under `HUDDLE_PLANNER_ROOTS`,
 * otherwise a demo repository created with a git library where `demoRepositoryPath` says), one plan with an
 * artifact of each type, and a chat session; nothing when neither lies under a configured root. Idempotent:
 * it writes only what is missing.
 */
export class PlannerMinimalSeeder extends Seeder<SeedContext & Dictionary> {
  async run(em: EntityManager, context: SeedContext): Promise<void> {
    // The start banner's operator (plannerDemo): planner tokens name an existing operator.
    await em.execute(
      `insert into planner.operators (name, is_admin) values ('demo', true) on conflict (name) do nothing`,
    );
    const roots = plannerRootsFromEnv();
    const demo = demoRepositoryPath(context.target, roots);
    const workTree =
      (await projectCheckout(roots)) ?? (demo === undefined ? undefined : await demoRepository(demo, roots));
    if (workTree === undefined) return;
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
