import fs from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { type Database, type EntityManager, inRequestScope, runAsActor } from '@huddle/db';
import { MINIMAL_PASSWORD as DECISIONS_PASSWORD, MINIMAL_USERS as DECISIONS_USERS } from '@huddle/decisions';
import {
  addArtifact,
  createGitRepository,
  createPlan,
  openChatSession,
  type PlannerActor,
  plannerModule,
  registerRepository,
} from '@huddle/planner';
import type { GitHubOAuthConfig } from '@huddle/scrum';

/**
 * Real rows for the fuzz harness to name: a valid id is too sparse to guess, so without them the harness
 * tests input validation, not the procedures. `values` maps an input field name to values that exist (ids of
 * every module's rows, a planner work tree not registered yet, plan names), which a share of the cases put in
 * their inputs (see SeenValues in fuzz.ts).
 */
export interface FuzzFixtures {
  /** The planner root the fuzz server reads under (a temporary directory of git work trees). */
  plannerRoot: string;
  values: Record<string, unknown[]>;
  /** Token subjects that name an actor, by module, where ids do not (planner's operators). */
  subjects: Record<string, string[]>;
  /** Scrum's sign-in against a GitHub stand-in on loopback (githubGrantingStandIn). */
  githubOAuth: GitHubOAuthConfig;
  /** Removes the planner root and stops the GitHub stand-in. */
  remove(): Promise<void>;
}

/**
 * A GitHub stand-in that grants every code (a fuzzer cannot follow the browser's redirect to learn one) and
 * answers for one account, so `scrum.auth.githubCallback` with a `state` that `githubAuthorizeUrl` returned
 * gets through the exchange.
 */
async function githubGrantingStandIn(): Promise<{ config: GitHubOAuthConfig; close(): Promise<void> }> {
  const server = createServer((request, response) => {
    const json = (status: number, body: unknown) =>
      response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    request.resume();
    if (request.url === '/login/oauth/access_token') {
      return json(200, { access_token: 'fuzz-token', token_type: 'bearer', scope: 'read:user' });
    }
    if (request.url === '/api/v3/user') {
      return json(200, { id: 424242, login: 'fuzz-octocat', name: 'Fuzz Octocat', email: null });
    }
    json(404, { message: 'Not Found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    config: {
      clientId: 'huddle-fuzz',
      clientSecret: 'fuzz',
      redirectUri: 'http://127.0.0.1:1/auth/github/callback',
      authorizeUrl: `${base}/login/oauth/authorize`,
      tokenUrl: `${base}/login/oauth/access_token`,
      apiUrl: `${base}/api/v3`,
      signUpLogins: ['fuzz-octocat'],
      allowInsecureRequests: true,
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Work trees under the root: one registered with a plan, the others left for `repositories.register`. */
const WORK_TREES = 8;
const OPERATOR = 'fuzz';

/** Where each field's values come from, by module; a module that is not composed is skipped. */
const SOURCES: { module: string; fields: string[]; sql: string }[] = [
  { module: 'poker', fields: ['sessionId'], sql: 'select id from poker.sessions' },
  { module: 'poker', fields: ['joinCode'], sql: 'select join_code as id from poker.sessions' },
  { module: 'poker', fields: ['storyId'], sql: 'select id from poker.stories' },
  { module: 'scrum', fields: ['taskId', 'epicId', 'relatedTaskId'], sql: 'select id from scrum.tasks' },
  { module: 'scrum', fields: ['itemId'], sql: 'select id from scrum.triage_items' },
  { module: 'scrum', fields: ['notificationId'], sql: 'select id from scrum.notifications' },
  { module: 'scrum', fields: ['messageId'], sql: 'select id from scrum.chat_messages' },
  {
    module: 'scrum',
    fields: ['userId', 'assigneeId', 'assignedUserId', 'recipientId'],
    sql: 'select id from scrum.users',
  },
  { module: 'decisions', fields: ['projectId'], sql: 'select id from decisions.projects' },
  { module: 'decisions', fields: ['transcriptId'], sql: 'select id from decisions.transcripts' },
  {
    module: 'decisions',
    fields: ['decisionId', 'fromDecisionId', 'toDecisionId'],
    sql: 'select id from decisions.decisions',
  },
  { module: 'decisions', fields: ['userId'], sql: 'select id from decisions.users' },
  { module: 'planner', fields: ['repositoryId'], sql: 'select id from planner.repositories' },
  { module: 'planner', fields: ['planId', 'fromPlanId', 'toPlanId'], sql: 'select id from planner.plans' },
  { module: 'planner', fields: ['name'], sql: 'select distinct name as id from planner.plans' },
  { module: 'planner', fields: ['artifactId'], sql: 'select id from planner.plan_artifacts' },
  { module: 'planner', fields: ['sessionId'], sql: 'select id from planner.chat_sessions' },
];

/**
 * Creates the planner's fixtures in `db` (seeded already: the other modules' rows come from the seed) and
 * collects the values of every module's rows.
 */
export async function createFuzzFixtures(db: Database): Promise<FuzzFixtures> {
  const plannerRoot = await fs.promises.realpath(
    await fs.promises.mkdtemp(path.join(os.tmpdir(), 'huddle-fuzz-planner-')),
  );
  const workTrees: string[] = [];
  for (let index = 0; index < WORK_TREES; index++) {
    const dir = path.join(plannerRoot, `repository-${index}`);
    await createGitRepository(dir, {
      defaultBranch: 'main',
      files: { 'README.md': '# fuzz\n', 'src/checkout.ts': 'export {};\n' },
      remoteUrl: 'https://git.example/fuzz.git',
    });
    workTrees.push(dir);
  }
  const composed = new Set(db.modules.map((module) => module.name));
  if (composed.has(plannerModule.name)) {
    const actor: PlannerActor = { module: 'planner', operator: OPERATOR };
    const as = <T>(work: (em: EntityManager, operator: PlannerActor) => Promise<T>) =>
      runAsActor(db.orm, plannerModule, actor, work);
    const repository = await as((em, operator) =>
      registerRepository(em, operator, { path: workTrees[0]! }, { roots: [plannerRoot] }),
    );
    const plan = await as((em, operator) =>
      createPlan(em, operator, { repositoryId: repository.id, name: 'Fuzz plan' }),
    );
    await as((em, operator) =>
      addArtifact(em, operator, {
        planId: plan.id,
        artifact: {
          type: 'code_changes',
          content: { changes: [{ path: 'src/checkout.ts', action: 'modify', diff: '+x\n' }] },
        },
      }),
    );
    await as((em, operator) => openChatSession(em, operator, { planId: plan.id }));
  }
  const values: Record<string, unknown[]> = {
    path: workTrees.slice(1),
    // A body `planner.artifacts.add` and `replace` accept: schema-derived ones rarely are (trimmed text).
    artifact: [
      { type: 'feature_plan', content: { summary: 'Fuzz', goals: ['g'], nonGoals: [], risks: [] } },
      {
        type: 'code_changes',
        content: { changes: [{ path: 'src/checkout.ts', action: 'modify', diff: '+y\n' }] },
      },
    ],
  };
  if (composed.has('decisions')) {
    // The seeded director's sign-in: `decisions.auth.signIn` accepts it, and its token joins the pool.
    values.email = [DECISIONS_USERS[0].email];
    values.password = [DECISIONS_PASSWORD];
  }
  for (const source of SOURCES.filter((candidate) => composed.has(candidate.module))) {
    const rows = await inRequestScope(db.orm, (em) => em.execute<{ id: unknown }[]>(source.sql));
    for (const field of source.fields)
      values[field] = [...(values[field] ?? []), ...rows.map((row) => row.id)];
  }
  const github = await githubGrantingStandIn();
  return {
    plannerRoot,
    values,
    subjects: { planner: [OPERATOR] },
    githubOAuth: github.config,
    remove: async () => {
      await github.close();
      await fs.promises.rm(plannerRoot, { recursive: true, force: true });
    },
  };
}
