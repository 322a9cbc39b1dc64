import fs from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  callOperation,
  createServiceKey,
  type Database,
  type EntityManager,
  inRequestScope,
  ModuleResources,
  openSession,
  runAsActor,
} from '@huddle/db';
import {
  MINIMAL_PASSWORD as DECISIONS_PASSWORD,
  MINIMAL_USERS as DECISIONS_USERS,
  type DecisionsActor,
  decisionsModule,
  decisionsOperations,
  defaultDecisionsResources,
} from '@huddle/decisions';
import {
  activatePlanVersion,
  addArtifact,
  createGitRepository,
  createPlan,
  openChatSession,
  PLANNER_ROOTS_VARIABLE,
  type PlannerActor,
  plannerModule,
  registerRepository,
} from '@huddle/planner';
import {
  addStory,
  createDeck,
  createSession,
  joinSession,
  type PokerActor,
  pauseSession,
  pokerModule,
  revealVotes,
  startVoting,
} from '@huddle/poker';
import {
  deactivateUser,
  type GitHubOAuthConfig,
  reportIssue,
  type ScrumActor,
  scrumModule,
} from '@huddle/scrum';

/**
 * Real rows for the fuzz harness to name: a valid id is too sparse to guess, so without them the harness
 * tests input validation, not the procedures. `values` maps an input field name to values that exist (ids of
 * every module's rows, a planner work tree not registered yet, plan names), which a share of the cases put in
 * their inputs (see SeenValues in fuzz.ts).
 */
export interface FuzzFixtures {
  values: Record<string, unknown[]>;
  /** Token subjects the harness tries first, by module: planner's operators (ids do not name them), scrum's admin. */
  subjects: Record<string, string[]>;
  /** Inputs known to be accepted from the harness's first token, by procedure path (Examples in fuzz.ts). */
  examples: Record<string, unknown[]>;
  /**
   * Creates another generation of the rows calls use up — a plan in force and drafts with artifacts and chats
   * in a repository of their own, poker stories in voting, a decisions project with decisions and a member,
   * open triage items — and answers their values, newest last, and examples (FuzzOptions.refresh).
   */
  refresh(): Promise<FixtureGeneration>;
  /**
   * The composed modules' resources for the fuzz server: planner reads under the root, scrum signs in
   * against a GitHub stand-in on loopback (githubGrantingStandIn).
   */
  moduleResources: ModuleResources;
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
      // With its email: GitHub answers null for a private one, and the stand-in has no `/user/emails`.
      return json(200, {
        id: 424242,
        login: 'fuzz-octocat',
        name: 'Fuzz Octocat',
        email: 'octocat@example.com',
      });
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

/** Work trees under the root left for `repositories.register`. */
const WORK_TREES = 8;
const OPERATOR = 'fuzz';
const OTHER_OPERATOR = 'fuzz.other';
/** Poker sessions with a story in voting each: a reveal, a completion or a pause uses one up. */
const POKER_VOTING_SESSIONS = 6;
/** Draft plans, each with an artifact and a chat session. */
const PLANNER_DRAFTS = 4;
/** Open triage items: a promotion or a status change closes one. */
const SCRUM_TRIAGE_ITEMS = 3;

/** Values of rows that exist, by the input field names that take them (SeenValues in fuzz.ts), newest last. */
type FixtureValues = Record<string, unknown[]>;

/** What one generation of fixtures gives the harness: values by field name, and examples by procedure path. */
export interface FixtureGeneration {
  values: FixtureValues;
  examples: Record<string, unknown[]>;
}

/** Where each field's values come from, by module; a module that is not composed is skipped. */
const SOURCES: { module: string; fields: string[]; sql: string }[] = [
  // Newest last, so reused fields mostly pick them.
  { module: 'poker', fields: ['sessionId'], sql: 'select id from poker.sessions order by id' },
  { module: 'poker', fields: ['joinCode'], sql: 'select join_code as id from poker.sessions' },
  { module: 'poker', fields: ['storyId'], sql: 'select id from poker.stories order by id' },
  // Built-in decks (sessions.create takes them) and the fixtures' own (decks.delete takes those).
  { module: 'poker', fields: ['deckId'], sql: 'select id from poker.decks order by id' },
  // Participants other than the facilitator: handOver, removeParticipant and setSpectator take them.
  {
    module: 'poker',
    fields: ['userId'],
    sql: 'select distinct user_id as id from poker.session_participants where user_id <> 1',
  },
  { module: 'scrum', fields: ['taskId', 'epicId', 'relatedTaskId'], sql: 'select id from scrum.tasks' },
  { module: 'scrum', fields: ['itemId'], sql: 'select id from scrum.triage_items order by id' },
  { module: 'scrum', fields: ['notificationId'], sql: 'select id from scrum.notifications' },
  { module: 'scrum', fields: ['messageId'], sql: 'select id from scrum.chat_messages' },
  {
    module: 'scrum',
    fields: ['userId', 'assigneeId', 'assignedUserId', 'recipientId'],
    sql: 'select id from scrum.users',
  },
  { module: 'decisions', fields: ['projectId'], sql: 'select id from decisions.projects order by id' },
  { module: 'decisions', fields: ['transcriptId'], sql: 'select id from decisions.transcripts' },
  {
    module: 'decisions',
    fields: ['decisionId', 'fromDecisionId'],
    sql: 'select id from decisions.decisions order by id',
  },
  {
    // Reused fields take the same pick, so `toDecisionId` lists the live ones the other way round: a
    // relationship from a decision to another (never itself, never a deleted one).
    module: 'decisions',
    fields: ['toDecisionId'],
    sql: 'select id from decisions.decisions order by deleted_at is null, id desc',
  },
  { module: 'decisions', fields: ['userId'], sql: 'select id from decisions.users order by id' },
  { module: 'planner', fields: ['repositoryId'], sql: 'select id from planner.repositories' },
  { module: 'planner', fields: ['planId', 'fromPlanId', 'toPlanId'], sql: 'select id from planner.plans' },
  { module: 'planner', fields: ['name'], sql: 'select distinct name as id from planner.plans' },
  { module: 'planner', fields: ['artifactId'], sql: 'select id from planner.plan_artifacts' },
  { module: 'planner', fields: ['sessionId'], sql: 'select id from planner.chat_sessions' },
  // Never the fuzz operator itself: its own disabling is refused anyway, and its tokens must keep working.
  {
    module: 'planner',
    fields: ['operator'],
    sql: `select name as id from planner.operators where name <> '${OPERATOR}' order by id`,
  },
];

/**
 * Poker sessions facilitated by the seed's facilitator (poker user 1, the harness's first token), each with a
 * story whose voting round is open (one per session votes at a time), every other one revealed, and the
 * seed's second user taking part: the states `votes.cast`, `votes.reveal`, `stories.complete`,
 * `stories.revote`, `sessions.handOver` and `sessions.removeParticipant` need, and for `stories.reorder` the
 * one story each session has (examples: the session and its stories agree; a story of the first token's in
 * voting to reveal). Also a deck of user 1's own that no session uses (`decks.delete`), a session with two
 * participants only the examples remove (`sessions.removeParticipant`), and values `decks.create` and
 * `stories.import` accept.
 */
async function createPokerFixtures(db: Database, generation: number): Promise<FixtureGeneration> {
  const facilitator: PokerActor = { module: 'poker', userId: 1 };
  const participant: PokerActor = { module: 'poker', userId: 2 };
  const as = <T>(work: (em: EntityManager, actor: PokerActor) => Promise<T>, actor = facilitator) =>
    runAsActor(db.orm, pokerModule, actor, work);
  const values: FixtureValues = {
    sessionId: [],
    joinCode: [],
    storyId: [],
    storyIds: [],
    cards: [
      [
        { card: 'S', value: 1 },
        { card: 'L', value: 2 },
      ],
    ],
    scale: ['ordinal'],
    csv: ['title,description\nFuzz import,"from a CSV"\n'],
  };
  await as((em, actor) =>
    createDeck(em, actor, {
      name: `Fuzz deck ${generation}`,
      scale: 'numeric',
      cards: [
        { card: '1', value: 1 },
        { card: '2', value: 2 },
      ],
    }),
  );
  const reorders: unknown[] = [];
  const reveals: unknown[] = [];
  const votes: unknown[] = [];
  const completions: unknown[] = [];
  const starts: unknown[] = [];
  for (let index = 0; index < POKER_VOTING_SESSIONS; index++) {
    const session = await as((em, actor) =>
      createSession(em, actor, { name: `Fuzz session ${generation}.${index}` }),
    );
    await as(
      (em, actor) => joinSession(em, actor, { joinCode: session.joinCode!, role: 'voter' }),
      participant,
    );
    const story = await as((em, actor) =>
      addStory(em, actor, { sessionId: session.id, title: `Fuzz story ${index}` }),
    );
    await as((em, actor) => startVoting(em, actor, { storyId: story.id }));
    if (index % 2 === 1) {
      await as((em, actor) => revealVotes(em, actor, { storyId: story.id }));
      completions.push({ storyId: story.id, finalPoints: '5' });
    } else {
      reveals.push({ storyId: story.id });
      votes.push({ storyId: story.id, points: '3' });
    }
    const waiting = await as((em, actor) =>
      addStory(em, actor, { sessionId: session.id, title: `Fuzz story ${index} to vote on next` }),
    );
    starts.push({ storyId: waiting.id });
    values.sessionId!.push(session.id);
    values.joinCode!.push(session.joinCode);
    values.storyId!.push(story.id);
    values.storyIds!.push([story.id, waiting.id]);
    reorders.push({ sessionId: session.id, storyIds: [story.id, waiting.id] });
  }
  // A paused session of its own, for `sessions.resume`.
  const paused = await as((em, actor) => createSession(em, actor, { name: `Fuzz paused ${generation}` }));
  await as((em, actor) => pauseSession(em, actor, { sessionId: paused.id }));
  // A session of its own (in no value) whose participants only the examples remove: random calls hand over,
  // remove and make spectators in the voting sessions.
  const left = await as((em, actor) =>
    createSession(em, actor, { name: `Fuzz session to leave ${generation}` }),
  );
  const removals: unknown[] = [];
  for (const leaver of [participant, { module: 'poker', userId: 3 } satisfies PokerActor]) {
    await as((em, actor) => joinSession(em, actor, { joinCode: left.joinCode!, role: 'voter' }), leaver);
    removals.push({ sessionId: left.id, userId: leaver.userId });
  }
  return {
    values,
    examples: {
      'poker.sessions.resume': [{ sessionId: paused.id }],
      'poker.sessions.removeParticipant': removals,
      'poker.stories.reorder': reorders,
      'poker.stories.reveal': reveals,
      'poker.votes.cast': votes,
      'poker.stories.complete': completions,
      'poker.stories.startVoting': starts,
    },
  };
}

/**
 * A project owned by the seed's director (decisions user 1, the harness's first token) — the fuzzer archives
 * and deletes projects, so each generation has its own — with two live decisions to relate, edit and move, a
 * deleted one, a member whose role can change or who can be removed and another whom only the example
 * removes; and a deleted user: the rows `decisions.relate`, `decisions.restore`, `projects.changeMemberRole`,
 * `projects.removeMember` and `users.restore` need.
 */
async function createDecisionsFixtures(db: Database, generation: number): Promise<FixtureGeneration> {
  // The fuzzer may have made another director and demoted or deleted the seed's: a director now live acts,
  // and the seed's director, if still live, owns the project too.
  const [live] = await inRequestScope(db.orm, (em) =>
    em.execute<{ director: number; seeded: boolean }[]>(
      `select min(id) filter (where role = 'director') as director, bool_or(id = 1) as seeded
         from decisions.users where deleted_at is null`,
    ),
  );
  const director = {
    module: 'decisions',
    userId: live!.director,
    role: 'director',
  } as const satisfies DecisionsActor;
  const resources = defaultDecisionsResources();
  const { decisions, projects, users } = decisionsOperations;
  const project = await callOperation(
    db.orm,
    decisionsModule,
    projects.create,
    director,
    { name: `Fuzz project ${generation}` },
    resources,
  );
  if (live!.seeded && live!.director !== 1) {
    const owner = { projectId: project.id, userId: 1, role: 'owner' } as const;
    await callOperation(db.orm, decisionsModule, projects.addMember, director, owner, resources);
  }
  const decide = (title: string) =>
    callOperation(
      db.orm,
      decisionsModule,
      decisions.create,
      director,
      { projectId: project.id, title, statement: `${title}.`, confidence: 0.5 },
      resources,
    );
  const deleted = await decide('Fuzz decision to delete');
  await callOperation(
    db.orm,
    decisionsModule,
    decisions.delete,
    director,
    { decisionId: deleted.id },
    resources,
  );
  const first = await decide('Fuzz decision A');
  const second = await decide('Fuzz decision B');
  const newUser = (email: string, name: string) =>
    callOperation(
      db.orm,
      decisionsModule,
      users.create,
      director,
      { email, name, password: DECISIONS_PASSWORD },
      resources,
    );
  const member = await newUser(`fuzz-member-${generation}@example.com`, `Fuzz Member ${generation}`);
  const membership = { projectId: project.id, userId: member.id };
  await callOperation(db.orm, decisionsModule, projects.addMember, director, membership, resources);
  // A member in no value, whom only the example removes (random calls remove the generation's member).
  const leaver = await newUser(`fuzz-leaving-${generation}@example.com`, `Fuzz Leaving ${generation}`);
  const leaving = { projectId: project.id, userId: leaver.id };
  await callOperation(db.orm, decisionsModule, projects.addMember, director, leaving, resources);
  const gone = await newUser(`fuzz-deleted-${generation}@example.com`, `Fuzz Deleted ${generation}`);
  await callOperation(db.orm, decisionsModule, users.delete, director, { userId: gone.id }, resources);
  // A reset link for the member: `auth.resetPassword` sets the seed's password (every fixture user's) again.
  const reset = await callOperation(
    db.orm,
    decisionsModule,
    users.createPasswordReset,
    director,
    { userId: member.id },
    resources,
  );
  // A session and a key of user 1 (the harness's first decisions token, the seed's director): what
  // `auth.sessions.revoke` and `auth.keys.revoke` name — ids no answer of the harness's own calls shows.
  const [session, key] = await inRequestScope(db.orm, async (em) => [
    await openSession(em, decisionsModule, '1', { lifetimeMs: 3_600_000, refresh: false }),
    await createServiceKey(em, decisionsModule, '1', {
      name: `Fuzz key ${generation}`,
      readOnly: true,
      createdBy: '1',
    }),
  ]);
  return {
    examples: {
      'decisions.auth.resetPassword': [{ token: reset.token, newPassword: DECISIONS_PASSWORD }],
      'auth.sessions.revoke': [{ module: decisionsModule.name, sessionId: session.id }],
      'auth.keys.revoke': [{ module: decisionsModule.name, id: key.id }],
      // The generation's own live project: the fuzzer archives projects and deletes decisions of older ones.
      'decisions.decisions.relate': [
        { fromDecisionId: first.id, toDecisionId: second.id, kind: 'relates_to' },
      ],
      'decisions.projects.changeMemberRole': [{ projectId: project.id, userId: member.id, role: 'viewer' }],
      'decisions.projects.removeMember': [leaving],
    },
    values: {
      projectId: [project.id],
      decisionId: [deleted.id, first.id, second.id],
      fromDecisionId: [first.id, second.id],
      toDecisionId: [second.id, first.id],
      userId: [gone.id, member.id],
    },
  };
}

/**
 * Open triage items reported by scrum's first active admin — a manager, so calls get past the role checks —
 * for `triage.promote` and `triage.changeStatus`, which each close one; and one reported by someone else, so
 * `first` (the token the harness tries first) has a notification of its own to mark read (an example).
 */
async function createScrumFixtures(
  db: Database,
  admin: ScrumActor,
  first: ScrumActor | undefined,
): Promise<FixtureGeneration> {
  const report = (actor: ScrumActor, title: string) =>
    runAsActor(db.orm, scrumModule, actor, (em, reporter) =>
      reportIssue(em, reporter, {
        title,
        description: 'Found by the fuzz harness.',
        priority: 'medium',
        category: 'issue',
      }),
    );
  const items: unknown[] = [];
  for (let index = 0; index < SCRUM_TRIAGE_ITEMS; index++)
    items.push((await report(admin, `Fuzz issue ${index}`)).id);
  const examples: Record<string, unknown[]> = {};
  const [colleague] = first
    ? await inRequestScope(db.orm, (em) =>
        em.execute<{ id: number }[]>(
          'select id from scrum.users where is_active and id <> ? order by id limit 1',
          [first.userId],
        ),
      )
    : [];
  if (first && colleague) {
    await report(
      { module: 'scrum', userId: colleague.id, role: 'developer' },
      'Fuzz issue for the first admin',
    );
    const notifications = await inRequestScope(db.orm, (em) =>
      em.execute<{ id: number }[]>(
        'select id from scrum.notifications where user_id = ? order by id desc limit 1',
        [first.userId],
      ),
    );
    examples['scrum.notifications.markRead'] = notifications.map((row) => ({ notificationId: row.id }));
  }
  // A developer deactivated, for `users.reactivate` (one per generation, while there are some).
  const [developer] = await inRequestScope(db.orm, (em) =>
    em.execute<{ id: number }[]>(
      `select id from scrum.users where is_active and role = 'developer' and id <> ? order by id desc limit 1`,
      [first?.userId ?? 0],
    ),
  );
  if (developer) {
    await runAsActor(db.orm, scrumModule, admin, (em, actor) =>
      deactivateUser(em, actor, { userId: developer.id }),
    );
    examples['scrum.users.reactivate'] = [{ userId: developer.id }];
  }
  // A pending item moves to review first (resolving takes a reviewed one).
  examples['scrum.triage.changeStatus'] = items.map((itemId) => ({ itemId, status: 'in_review' }));
  return { values: { itemId: items }, examples };
}

/**
 * A repository registered under the root, with drafts (each with an artifact and a chat session: an
 * activation ends artifact changes, a completed chat its messages, an artifact removal the artifact) and an
 * active version (`plans.complete`); its plans are named as every generation's, so a reused repository and
 * a reused name mostly make a plan that exists. Unregistering deletes all of it, so each generation has its
 * own work tree.
 */
async function createPlannerFixtures(
  db: Database,
  plannerRoot: string,
  generation: number,
): Promise<FixtureGeneration> {
  const dir = path.join(plannerRoot, `fixture-${generation}`);
  await createGitRepository(dir, {
    defaultBranch: 'main',
    files: { 'README.md': '# fuzz\n', 'src/checkout.ts': 'export {};\n' },
    remoteUrl: 'https://git.example/fuzz.git',
  });
  // The fuzz operator is an admin (operators.* accept its calls), and another operator is there to disable.
  await inRequestScope(db.orm, (em) =>
    em.execute(
      `insert into planner.operators (name, is_admin) values (?, true), (?, false) on conflict (name) do nothing`,
      [OPERATOR, OTHER_OPERATOR],
    ),
  );
  const actor: PlannerActor = { module: 'planner', operator: OPERATOR, isAdmin: true };
  const as = <T>(work: (em: EntityManager, operator: PlannerActor) => Promise<T>) =>
    runAsActor(db.orm, plannerModule, actor, work);
  const repository = await as((em, operator) =>
    registerRepository(em, operator, { path: dir }, { roots: [plannerRoot] }),
  );
  // `fromPlanId` and `toPlanId` the same list: reused with the same pick, a version compared with itself.
  const values: FixtureValues = {
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
  for (let index = 0; index < PLANNER_DRAFTS; index++) {
    const plan = await as((em, operator) =>
      createPlan(em, operator, { repositoryId: repository.id, name: `Fuzz plan ${index}` }),
    );
    const artifact = await as((em, operator) =>
      addArtifact(em, operator, {
        planId: plan.id,
        artifact: {
          type: 'code_changes',
          content: {
            changes: [
              {
                path: 'src/checkout.ts',
                action: 'modify',
                diff: '@@ -1 +1 @@\n-export {};\n+export const x = 1;\n',
              },
            ],
          },
        },
      }),
    );
    const chat = await as((em, operator) => openChatSession(em, operator, { planId: plan.id }));
    values.planId!.push(plan.id);
    values.fromPlanId!.push(plan.id);
    values.toPlanId!.push(plan.id);
    values.name!.push(plan.name);
    values.artifactId!.push(artifact.id);
    values.sessionId!.push(chat.id);
  }
  // The plan in force by its repository and name, and to complete: fields that must agree.
  const inForce = { repositoryId: repository.id, name: active.name };
  return {
    values,
    examples: {
      'planner.plans.latest': [inForce],
      'planner.plans.versions': [inForce],
      'planner.plans.complete': [{ planId: active.id }],
    },
  };
}

/** Scrum's first active admin, if any. */
async function activeScrumAdmin(db: Database): Promise<ScrumActor | undefined> {
  const [admin] = await inRequestScope(db.orm, (em) =>
    em.execute<{ id: number | null }[]>(
      `select min(id) as id from scrum.users where role = 'admin' and is_active`,
    ),
  );
  return admin?.id ? { module: 'scrum', userId: admin.id, role: 'admin' } : undefined;
}

/** Appends `more` to `values`, field by field (or procedure by procedure). */
function mergeValues(values: FixtureValues, more: FixtureValues): FixtureValues {
  for (const [field, list] of Object.entries(more)) values[field] = [...(values[field] ?? []), ...list];
  return values;
}

/** Appends `more`'s values and examples to `generation`'s. */
function mergeGeneration(generation: FixtureGeneration, more: FixtureGeneration): void {
  mergeValues(generation.values, more.values);
  mergeValues(generation.examples, more.examples);
}

/**
 * Creates the fixtures in `db` (seeded already: the other modules' rows come from the seed) and collects the
 * values of every module's rows; `refresh` creates another generation of the rows calls use up.
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
  const scrumAdmin = composed.has(scrumModule.name) ? await activeScrumAdmin(db) : undefined;
  let generation = 0;
  /** One generation of the rows calls use up, in every composed module. */
  const createGeneration = async (): Promise<FixtureGeneration> => {
    const created: FixtureGeneration = { values: {}, examples: {} };
    if (composed.has(plannerModule.name))
      mergeGeneration(created, await createPlannerFixtures(db, plannerRoot, generation));
    if (composed.has(pokerModule.name)) mergeGeneration(created, await createPokerFixtures(db, generation));
    if (composed.has(decisionsModule.name))
      mergeGeneration(created, await createDecisionsFixtures(db, generation));
    // The fuzzer may have deactivated the first admin since: an admin active now reports.
    const reporter = composed.has(scrumModule.name) ? await activeScrumAdmin(db) : undefined;
    if (reporter) mergeGeneration(created, await createScrumFixtures(db, reporter, scrumAdmin));
    generation++;
    return created;
  };
  const first = await createGeneration();
  const values: FixtureValues = {
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
  };
  // `auth.*` calls name the module whose token they carry.
  values.module = db.modules.filter((module) => module.actor).map((module) => module.name);
  // `auth.sessions.revokeUser` for subjects that exist in no module: the pool's users keep their sessions.
  values.subject = ['2147483647', 'fuzz-nobody'];
  if (composed.has('decisions')) {
    // The seeded director's sign-in: `decisions.auth.signIn` accepts it, and its token joins the pool.
    values.email = [DECISIONS_USERS[0].email];
    values.password = [DECISIONS_PASSWORD];
    // `users.changePassword` from the seeded password (every seeded user's) to itself: sign-ins keep working.
    values.currentPassword = [DECISIONS_PASSWORD];
    values.newPassword = [DECISIONS_PASSWORD];
  }
  for (const source of SOURCES.filter((candidate) => composed.has(candidate.module))) {
    const rows = await inRequestScope(db.orm, (em) => em.execute<{ id: unknown }[]>(source.sql));
    mergeValues(values, Object.fromEntries(source.fields.map((field) => [field, rows.map((row) => row.id)])));
  }
  // The first generation's rows once more, last: the seed's rows of the same name come before them.
  mergeValues(values, first.values);
  const github = await githubGrantingStandIn();
  return {
    values,
    examples: first.examples,
    subjects: {
      planner: [OPERATOR],
      ...(scrumAdmin ? { scrum: [String(scrumAdmin.userId)] } : {}),
    },
    moduleResources: (
      await ModuleResources.fromEnv(db.modules, { [PLANNER_ROOTS_VARIABLE]: plannerRoot })
    ).with(scrumModule, { github: github.config }),
    refresh: createGeneration,
    remove: async () => {
      await github.close();
      await fs.promises.rm(plannerRoot, { recursive: true, force: true });
    },
  };
}
