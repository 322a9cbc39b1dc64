import fs from 'node:fs';
import { mkdtemp, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createHuddleClient, type HuddleClient } from '@huddle/client';
import { domainModules, issueSessionToken } from '@huddle/composition';
import { type ArtifactInput, createGitRepository } from '@huddle/planner';
import { useTestDatabase } from '@huddle/testing';
import git from 'isomorphic-git';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiServer } from '../src/server.ts';
import { startTestServer, TEST_SECRET } from './helpers.ts';

const database = useTestDatabase(domainModules);
let server: ApiServer;
/** The only root the server may read under; every repository of this file lives in it. */
let root: string;
/** A git repository outside the root. */
let outside: string;
let ann: HuddleClient;

const FEATURE_PLAN: ArtifactInput = {
  type: 'feature_plan',
  content: {
    summary: 'Let customers pay with a saved card.',
    goals: ['One-click checkout'],
    nonGoals: ['New payment providers'],
    risks: ['Token expiry'],
  },
};
const STEPS: ArtifactInput = {
  type: 'implementation_steps',
  content: {
    steps: [
      { title: 'Add card tokens table', detail: 'Migration and entity.', files: ['src/db/cards.ts'] },
      { title: 'Checkout uses saved card', detail: 'Offer it first.', files: ['src/checkout.ts'] },
    ],
  },
};
const CODE_CHANGES = {
  type: 'code_changes',
  content: {
    changes: [
      { path: 'src/db/cards.ts', action: 'create', diff: '@@ -0,0 +1 @@\n+export const cards = [];\n' },
      { path: 'src/checkout.ts', action: 'modify', diff: '@@ -1 +1 @@\n-old\n+new\n' },
    ],
  },
} satisfies ArtifactInput;

async function plannerToken(operator: string): Promise<string> {
  return (await issueSessionToken(database.db, TEST_SECRET, { module: 'planner', subject: operator }, '5m'))
    .token;
}

/** A git work tree at `dir` with one commit, as the planner package creates them (no git binary). */
function shopRepository(dir: string): Promise<void> {
  return createGitRepository(dir, {
    defaultBranch: 'main',
    files: { 'README.md': '# Shop\n', 'src/checkout.ts': 'old\n' },
    remoteUrl: 'https://git.example.com/shop.git',
  });
}

beforeAll(async () => {
  root = await realpath(await mkdtemp(path.join(tmpdir(), 'huddle-api-planner-')));
  outside = await realpath(await mkdtemp(path.join(tmpdir(), 'huddle-api-planner-outside-')));
  await shopRepository(path.join(root, 'shop'));
  await shopRepository(outside);
  server = await startTestServer(database.db, [root]);
  // A planner token names an operator with a row (Migration20261206140000PlannerOperators).
  await query(`insert into planner.operators (name) values ('ann')`);
  ann = createHuddleClient(server.url, { planner: await plannerToken('ann') });
});
afterAll(async () => {
  await server?.close();
  await rm(root, { recursive: true, force: true });
  await rm(outside, { recursive: true, force: true });
});

function query<Row>(sql: string, params: unknown[] = []): Promise<Row[]> {
  return database.db.orm.em.fork().execute<Row[]>(sql, params);
}

describe('planner over HTTP with the typed client', () => {
  it('registers a real repository, takes a plan to version 2, finds it by file and exports it as Markdown', async () => {
    // Registered under a spelling with `..`: the resolved path is what is stored.
    const repository = await ann.planner.repositories.register.mutate({
      path: path.join(root, 'shop', '..', 'shop'),
    });
    expect(repository).toMatchObject({
      path: path.join(root, 'shop'),
      name: 'shop',
      defaultBranch: 'main',
      gitUrl: 'https://git.example.com/shop.git',
    });
    await git.deleteRemote({ fs, dir: path.join(root, 'shop'), remote: 'origin' });
    await git.addRemote({
      fs,
      dir: path.join(root, 'shop'),
      remote: 'origin',
      url: 'https://new.example.com/shop.git',
    });
    const refreshed = await ann.planner.repositories.refresh.mutate({ repositoryId: repository.id });
    expect(refreshed.gitUrl).toBe('https://new.example.com/shop.git');
    expect(await ann.planner.repositories.list.query()).toEqual({ items: [refreshed], nextCursor: null });

    const v1 = await ann.planner.plans.create.mutate({ repositoryId: repository.id, name: 'Saved cards' });
    expect(v1).toMatchObject({
      version: 1,
      status: 'draft',
      targetBranch: 'main',
      createdBy: 'ann',
      artifacts: [],
    });
    for (const artifact of [FEATURE_PLAN, STEPS, CODE_CHANGES]) {
      await ann.planner.artifacts.add.mutate({ planId: v1.id, artifact });
    }
    const activated = await ann.planner.plans.activate.mutate({ planId: v1.id });
    expect(activated).toMatchObject({ activated: { id: v1.id, status: 'active' }, superseded: null });

    const v2 = await ann.planner.plans.newVersion.mutate({ planId: v1.id });
    expect(v2).toMatchObject({ version: 2, status: 'draft', name: 'Saved cards' });
    expect(v2.artifacts.map(({ type, content }) => ({ type, content }))).toEqual([
      FEATURE_PLAN,
      STEPS,
      CODE_CHANGES,
    ]);
    const codeChanges = v2.artifacts.find((artifact) => artifact.type === 'code_changes')!;
    const receipt = {
      path: 'src/receipt.ts',
      action: 'create',
      diff: '@@ -0,0 +1 @@\n+export {};\n',
    } as const;
    await ann.planner.artifacts.replace.mutate({
      artifactId: codeChanges.id,
      artifact: { type: 'code_changes', content: { changes: [...CODE_CHANGES.content.changes, receipt] } },
    });

    const versions = await ann.planner.plans.versions.query({
      repositoryId: repository.id,
      name: 'Saved cards',
    });
    expect(versions.items.map(({ version, status }) => ({ version, status }))).toEqual([
      { version: 1, status: 'active' },
      { version: 2, status: 'draft' },
    ]);
    const latest = await ann.planner.plans.latest.query({ repositoryId: repository.id, name: 'Saved cards' });
    expect(latest.id).toBe(v2.id);

    const touchingCheckout = await ann.planner.search.plansTouchingFile.query({ path: 'src/checkout.ts' });
    expect(touchingCheckout.items.map((plan) => plan.version).sort()).toEqual([1, 2]);
    const touchingReceipt = await ann.planner.search.plansTouchingFile.query({
      path: 'src/receipt.ts',
      repositoryId: repository.id,
    });
    expect(touchingReceipt.items.map((plan) => plan.id)).toEqual([v2.id]);

    // Steps by words, stemmed: "token" finds "Add card tokens table" in both versions; the exact title does not.
    const byWords = await ann.planner.search.artifactsWithStep.query({
      words: 'token',
      repositoryId: repository.id,
    });
    expect(byWords.items.map((match) => match.plan.version)).toEqual([1, 2]);
    const byTitle = await ann.planner.search.artifactsWithStep.query({
      title: 'token',
      repositoryId: repository.id,
    });
    expect(byTitle.items).toEqual([]);

    const comparison = await ann.planner.plans.compare.query({ fromPlanId: v1.id, toPlanId: v2.id });
    expect(comparison.changes).toEqual([
      expect.objectContaining({ type: 'code_changes', change: 'modified' }),
    ]);
    expect(comparison.files).toEqual({ added: ['src/receipt.ts'], removed: [], changed: [] });
    expect(comparison.steps).toEqual({ added: [], removed: [], changed: [], reordered: [] });

    const { markdown } = await ann.planner.plans.export.query({ planId: v2.id });
    expect(markdown).toContain('# Saved cards — version 2 (draft)');
    expect(markdown).toContain(
      `Repository **shop** (\`${path.join(root, 'shop')}\`), target branch \`main\`.`,
    );
    expect(markdown).toContain('1. **Add card tokens table**');
    expect(markdown).toContain('2. **Checkout uses saved card**');
    expect(markdown).toContain('### `src/receipt.ts` (create)\n\n```diff\n@@ -0,0 +1 @@\n+export {};\n```');

    const session = await ann.planner.chat.open.mutate({ planId: v2.id });
    await ann.planner.chat.append.mutate({
      sessionId: session.id,
      role: 'user',
      content: 'Add a receipt too.',
    });
    const mentioning = await ann.planner.search.chatSessionsMentioning.query({ term: 'Receipt' });
    expect(mentioning.items.map((match) => ({ id: match.id, plan: match.plan.id }))).toEqual([
      { id: session.id, plan: v2.id },
    ]);

    expect(
      await query(
        `select p.version, p.status, p.created_by, count(a.id)::int as artifacts,
                count(a.id) filter (where a.content @> '{"changes":[{"path":"src/receipt.ts"}]}')::int as receipts
           from planner.plans p left join planner.plan_artifacts a on a.plan_id = p.id
          where p.repository_id = ? group by p.id order by p.version`,
        [repository.id],
      ),
    ).toEqual([
      { version: 1, status: 'active', created_by: 'ann', artifacts: 3, receipts: 0 },
      { version: 2, status: 'draft', created_by: 'ann', artifacts: 3, receipts: 1 },
    ]);
    expect(
      await query('select path, name, git_url from planner.repositories where id = ?', [repository.id]),
    ).toEqual([{ path: path.join(root, 'shop'), name: 'shop', git_url: 'https://new.example.com/shop.git' }]);
  });
});

describe('refusals change nothing', () => {
  let active: { planId: string; artifactId: string };

  beforeAll(async () => {
    await createGitRepository(path.join(root, 'guarded'), {
      defaultBranch: 'main',
      files: { 'a.txt': 'a\n' },
    });
    const repository = await ann.planner.repositories.register.mutate({ path: path.join(root, 'guarded') });
    const plan = await ann.planner.plans.create.mutate({ repositoryId: repository.id, name: 'Guarded' });
    const artifact = await ann.planner.artifacts.add.mutate({ planId: plan.id, artifact: FEATURE_PLAN });
    await ann.planner.plans.activate.mutate({ planId: plan.id });
    active = { planId: plan.id, artifactId: artifact.id };
  });

  function snapshot() {
    return query(
      `select (select count(*)::int from planner.repositories) as repositories,
              (select count(*)::int from planner.plans) as plans,
              (select string_agg(status::text, ',' order by id) from planner.plans) as statuses,
              (select md5(string_agg(content::text, ',' order by id)) from planner.plan_artifacts) as artifacts`,
    );
  }

  it.each([
    [
      'a code change leaving the repository',
      () =>
        ann.planner.artifacts.add.mutate({
          planId: active.planId,
          artifact: {
            type: 'code_changes',
            content: { changes: [{ path: '../etc/passwd', action: 'modify', diff: '' }] },
          },
        }),
      'BAD_REQUEST',
      'artifact.content.changes.0.path',
    ],
    [
      'a code change whose diff is not a diff',
      () =>
        ann.planner.artifacts.add.mutate({
          planId: active.planId,
          artifact: {
            type: 'code_changes',
            content: { changes: [{ path: 'nowhere.ts', action: 'create', diff: 'garbage' }] },
          },
        }),
      'BAD_REQUEST',
      'artifact.content.changes.0.diff',
    ],
    [
      'unregistering without confirming',
      () =>
        ann.planner.repositories.unregister.mutate({
          repositoryId: '00000000-0000-4000-8000-000000000000',
          confirm: false as true,
        }),
      'BAD_REQUEST',
      'confirm',
    ],
    [
      'a repository outside the roots',
      () => ann.planner.repositories.register.mutate({ path: outside }),
      'BAD_REQUEST',
      'path',
    ],
    [
      'an artifact added to an active version',
      () => ann.planner.artifacts.add.mutate({ planId: active.planId, artifact: STEPS }),
      'CONFLICT',
      'planId',
    ],
    [
      'an artifact of an active version replaced',
      () => ann.planner.artifacts.replace.mutate({ artifactId: active.artifactId, artifact: FEATURE_PLAN }),
      'CONFLICT',
      // The field the caller sent: the call names no plan.
      'artifactId',
    ],
    [
      'a token for another module',
      async () =>
        createHuddleClient(server.url, {
          planner: (
            await issueSessionToken(database.db, TEST_SECRET, { module: 'poker', subject: '1' }, '5m')
          ).token,
        }).planner.repositories.list.query(),
      'UNAUTHORIZED',
      null,
      'authorization: token is for module poker, not planner',
    ],
    [
      'a subject that is not an operator name',
      async () =>
        createHuddleClient(server.url, {
          planner: await plannerToken('Robert; drop'),
        }).planner.repositories.list.query(),
      'UNAUTHORIZED',
      null,
      'subject: "Robert; drop" is not a planner operator name',
    ],
  ])('%s', async (_case, call, code, field, message = `${field}: `) => {
    const before = await snapshot();
    const refused = call();
    await expect(refused).rejects.toMatchObject({ data: { code, field } });
    await expect(refused).rejects.toSatisfy((error: Error) => error.message.startsWith(message));
    expect(await snapshot()).toEqual(before);
  });

  it('a path outside the roots is refused in the same words whether or not it exists', async () => {
    const existing = ann.planner.repositories.register.mutate({ path: outside });
    const missing = ann.planner.repositories.register.mutate({ path: path.join(outside, 'no-such-dir') });
    const message = 'path: must be an existing directory under a configured root (HUDDLE_PLANNER_ROOTS)';
    await expect(existing).rejects.toThrow(message);
    await expect(missing).rejects.toThrow(message);
    expect(
      await query('select count(*)::int as count from planner.repositories where path like ?', [
        `${outside}%`,
      ]),
    ).toEqual([{ count: 0 }]);
  });
});

describe('plans checked against the code', () => {
  const AUTHOR = { name: 'Test', email: 'test@huddle.invalid', timestamp: 1, timezoneOffset: 0 };

  it('records the commit a version was planned against and reports whether its diffs still apply there and at the head', async () => {
    const dir = path.join(root, 'checked');
    await shopRepository(dir);
    const planned = await git.resolveRef({ fs, dir, ref: 'main' });
    const repository = await ann.planner.repositories.register.mutate({ path: dir });
    const plan = await ann.planner.plans.create.mutate({ repositoryId: repository.id, name: 'Checked' });
    expect(plan.baseCommit).toBe(planned);
    await ann.planner.artifacts.add.mutate({ planId: plan.id, artifact: CODE_CHANGES });
    const good = await ann.planner.plans.check.mutate({ planId: plan.id });
    expect(good).toMatchObject({ baseCommit: planned, headCommit: planned, verdict: 'applies' });

    await fs.promises.writeFile(path.join(dir, 'src/checkout.ts'), 'older\n');
    await git.add({ fs, dir, filepath: 'src/checkout.ts' });
    const moved = await git.commit({ fs, dir, message: 'Checkout moves on', author: AUTHOR });
    const stale = await ann.planner.plans.check.mutate({ planId: plan.id });
    expect(stale).toMatchObject({ baseCommit: planned, headCommit: moved, verdict: 'stale' });
    expect(stale.changes.map((change) => [change.path, change.atBase?.status, change.atHead.status])).toEqual(
      [
        ['src/db/cards.ts', 'applies', 'applies'],
        ['src/checkout.ts', 'applies', 'conflicts'],
      ],
    );
    expect(stale.changes[1]!.atHead.conflict).toEqual({ hunk: 1, line: 1, expected: 'old', found: 'older' });

    // What the plan was written against: the files it is about, as they were at its base commit.
    const context = await ann.planner.plans.context.mutate({ planId: plan.id });
    expect(context).toMatchObject({ commit: planned, nextCursor: null });
    expect(context.items.map(({ path, status, content }) => [path, status, content])).toEqual([
      ['src/checkout.ts', 'file', 'old\n'],
      ['src/db/cards.ts', 'missing', null],
    ]);
    const files = await ann.planner.repositories.readFiles.mutate({
      repositoryId: repository.id,
      ref: 'main',
      paths: ['src/checkout.ts'],
    });
    expect(files).toMatchObject({ commit: moved, files: [{ path: 'src/checkout.ts', content: 'older\n' }] });
    await expect(
      ann.planner.repositories.readFiles.mutate({
        repositoryId: repository.id,
        ref: 'main',
        paths: ['../x'],
      }),
    ).rejects.toMatchObject({ data: { code: 'BAD_REQUEST', field: 'paths.0' } });

    const next = await ann.planner.plans.newVersion.mutate({ planId: plan.id });
    expect(next.baseCommit).toBe(moved);
    expect(
      await query('select version, base_commit from planner.plans where repository_id = ? order by version', [
        repository.id,
      ]),
    ).toEqual([
      { version: 1, base_commit: planned },
      { version: 2, base_commit: moved },
    ]);
  });
});
