import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConflictError, InvalidInputError } from '@huddle/db';
import git from 'isomorphic-git';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGitRepository } from '../src/git.ts';
import { plannerOperations } from '../src/operations.ts';
import type { RepositoryAccess } from '../src/roots.ts';
import {
  call,
  callStepped,
  expectHuddleError,
  OPERATOR,
  usePlannerDatabase,
  useSqlClient,
} from './helpers.ts';

/** Plans over a real git work tree: the commit a version is planned against, and checking its diffs. */

const test = usePlannerDatabase();
const postgres = useSqlClient(test);
let access: RepositoryAccess;
let dir: string;
let repositoryId: string;

const AUTHOR = { name: 'Test', email: 'test@huddle.invalid', timestamp: 1, timezoneOffset: 0 };
const CHECKOUT = 'export function checkout() {\n  return "paid";\n}\n';

/** Commits `files` on the checked-out branch and answers the new commit. */
async function commit(files: Record<string, string>): Promise<string> {
  for (const [file, content] of Object.entries(files)) {
    await fs.promises.mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await fs.promises.writeFile(path.join(dir, file), content);
    await git.add({ fs, dir, filepath: file });
  }
  return git.commit({ fs, dir, message: 'change', author: AUTHOR });
}

const head = (ref = 'main') => git.resolveRef({ fs, dir, ref });
const create = (name: string, targetBranch?: string) =>
  callStepped(
    test.db,
    OPERATOR,
    plannerOperations.plans.create,
    { repositoryId, name, ...(targetBranch && { targetBranch }) },
    access,
  );
const check = (planId: string) =>
  callStepped(test.db, OPERATOR, plannerOperations.plans.check, { planId }, access);
const storedBase = async (planId: string) =>
  (
    await postgres.client.query<{ base_commit: string | null }>(
      'select base_commit from planner.plans where id = $1',
      [planId],
    )
  ).rows[0]?.base_commit;

beforeAll(async () => {
  const root = await fs.promises.realpath(
    await fs.promises.mkdtemp(path.join(os.tmpdir(), 'huddle-plan-git-')),
  );
  access = { roots: [root] };
  dir = path.join(root, 'shop');
  await createGitRepository(dir, {
    defaultBranch: 'main',
    files: { 'README.md': '# Shop\n', 'src/checkout.ts': CHECKOUT },
  });
  const repository = await call(
    test.db,
    OPERATOR,
    plannerOperations.repositories.register,
    { path: dir },
    access,
  );
  repositoryId = repository.id;
});
afterAll(async () => {
  await fs.promises.rm(path.dirname(dir), { recursive: true, force: true });
});

describe('the commit a version is planned against', () => {
  it('is the target branch’s head when the plan is created, a new version is made or the branch changes', async () => {
    const first = await head();
    const plan = await create('Receipts');
    expect(plan.baseCommit).toBe(first);
    expect(await storedBase(plan.id)).toBe(first);

    const second = await commit({ 'docs/receipts.md': '# Receipts\n' });
    const v2 = await callStepped(
      test.db,
      OPERATOR,
      plannerOperations.plans.newVersion,
      { planId: plan.id },
      access,
    );
    expect(v2.baseCommit).toBe(second);
    expect(await storedBase(plan.id)).toBe(first);

    await git.branch({ fs, dir, ref: 'release' });
    const release = await head('release');
    const moved = await callStepped(
      test.db,
      OPERATOR,
      plannerOperations.plans.update,
      { planId: v2.id, targetBranch: 'release' },
      access,
    );
    expect(moved).toMatchObject({ targetBranch: 'release', baseCommit: release });
    const described = await callStepped(
      test.db,
      OPERATOR,
      plannerOperations.plans.update,
      { planId: v2.id, description: 'Print them' },
      access,
    );
    expect(described.baseCommit).toBe(release);
  });

  it('refuses a target branch the repository does not have, creating and changing nothing', async () => {
    const before = await postgres.client.query('select id, target_branch, base_commit from planner.plans');
    const created = await expectHuddleError(create('Nowhere', 'no-such-branch'), InvalidInputError);
    expect(created.message).toMatch(/^targetBranch: branch "no-such-branch" does not exist in /);
    const plan = await create('Somewhere');
    const updated = await expectHuddleError(
      callStepped(
        test.db,
        OPERATOR,
        plannerOperations.plans.update,
        { planId: plan.id, targetBranch: 'gone' },
        access,
      ),
      InvalidInputError,
    );
    expect(updated.constraint.field).toBe('targetBranch');
    const after = await postgres.client.query(
      'select id, target_branch, base_commit from planner.plans where id <> $1',
      [plan.id],
    );
    expect(after.rows).toEqual(before.rows);
    expect(await storedBase(plan.id)).toBe(await head());
  });

  it('is a full commit id or nothing: the database refuses anything else', async () => {
    const plan = await create('Constrained');
    await expect(
      postgres.client.query(`update planner.plans set base_commit = 'main' where id = $1`, [plan.id]),
    ).rejects.toMatchObject({ code: '23514', constraint: 'plans_base_commit_sha' });
    await expect(
      postgres.client.query(`update planner.plans set base_commit = upper(base_commit) where id = $1`, [
        plan.id,
      ]),
    ).rejects.toMatchObject({ code: '23514', constraint: 'plans_base_commit_sha' });
  });
});

describe('checking a version’s code changes', () => {
  it('reports each change at the base commit and at the head: applies, conflicts (hunk and line), missing, exists, invalid', async () => {
    await commit({ 'src/checkout.ts': CHECKOUT });
    const plan = await create('Checked');
    const changes = [
      { path: 'src/receipt.ts', action: 'create', diff: '@@ -0,0 +1 @@\n+export const receipt = 1;\n' },
      {
        path: 'src/checkout.ts',
        action: 'modify',
        diff: '@@ -1,3 +1,3 @@\n export function checkout() {\n-  return "paid";\n+  return "paid with card";\n }\n',
      },
      { path: 'README.md', action: 'create', diff: '@@ -0,0 +1 @@\n+# Again\n' },
      { path: 'src/gone.ts', action: 'delete', diff: '' },
      { path: 'src/pay.ts', action: 'rename', previousPath: 'src/payment.ts', diff: '' },
    ] as const;
    const artifact = await call(test.db, OPERATOR, plannerOperations.artifacts.add, {
      planId: plan.id,
      artifact: { type: 'code_changes', content: { changes: [...changes] } },
    });

    const planned = await check(plan.id);
    const base = plan.baseCommit!;
    expect(planned).toMatchObject({
      planId: plan.id,
      targetBranch: 'main',
      baseCommit: base,
      headCommit: base,
    });
    expect(planned.verdict).toBe('conflicts');
    expect(
      planned.changes.map((change) => [change.path, change.atHead.status, change.atBase?.status]),
    ).toEqual([
      ['src/receipt.ts', 'applies', 'applies'],
      ['src/checkout.ts', 'applies', 'applies'],
      ['README.md', 'exists', 'exists'],
      ['src/gone.ts', 'missing', 'missing'],
      ['src/pay.ts', 'missing', 'missing'],
    ]);
    expect(planned.changes[0]!.artifactId).toBe(artifact.id);
    expect(planned.changes[3]!.atHead.message).toBe(`src/gone.ts does not exist at ${base.slice(0, 12)}`);

    // Only the changes that apply: the plan is good where it was planned and at the head.
    await call(test.db, OPERATOR, plannerOperations.artifacts.replace, {
      artifactId: artifact.id,
      artifact: { type: 'code_changes', content: { changes: changes.slice(0, 2) } },
    });
    expect((await check(plan.id)).verdict).toBe('applies');

    // The branch moves on under the plan: still good where it was planned, stale at the head.
    const moved = await commit({
      'src/checkout.ts': 'export function checkout() {\n  return "paid in cash";\n}\n',
      'src/receipt.ts': 'export {};\n',
    });
    const stale = await check(plan.id);
    expect(stale).toMatchObject({ baseCommit: base, headCommit: moved, verdict: 'stale' });
    expect(stale.changes.map((change) => [change.path, change.atBase?.status, change.atHead.status])).toEqual(
      [
        ['src/receipt.ts', 'applies', 'exists'],
        ['src/checkout.ts', 'applies', 'conflicts'],
      ],
    );
    expect(stale.changes[1]!.atHead.conflict).toEqual({
      hunk: 1,
      line: 2,
      expected: '  return "paid";',
      found: '  return "paid in cash";',
    });
    expect(stale.changes[1]!.atHead.message).toBe(
      `hunk 1 expects "  return \\"paid\\";" at line 2 at ${moved.slice(0, 12)}; the file has "  return \\"paid in cash\\";"`,
    );
  });

  it('reports a stored diff that is not one (written before diffs were checked) instead of failing', async () => {
    const plan = await create('Legacy');
    await postgres.client.query(
      `insert into planner.plan_artifacts (plan_id, artifact_type, content) values ($1, 'code_changes', $2)`,
      [plan.id, { changes: [{ path: 'nowhere.ts', action: 'modify', diff: 'garbage' }] }],
    );
    const checked = await check(plan.id);
    expect(checked.verdict).toBe('conflicts');
    expect(checked.changes[0]!.atHead).toMatchObject({ status: 'invalid_diff', conflict: null });
  });

  it('is refused for a plan whose work tree is gone or whose branch was deleted', async () => {
    const plan = await create('Branchless', 'release');
    await git.deleteBranch({ fs, dir, ref: 'release' });
    const error = await expectHuddleError(check(plan.id), ConflictError);
    expect(error.message).toMatch(/^planId: target branch "release" does not exist in /);
    const outside = await expectHuddleError(
      callStepped(test.db, OPERATOR, plannerOperations.plans.check, { planId: plan.id }, { roots: [] }),
      ConflictError,
    );
    expect(outside.message).toMatch(/^planId: .* can no longer be read/);
  });
});

describe('reading files at a ref', () => {
  const read = (ref: string, paths: string[]) =>
    callStepped(
      test.db,
      OPERATOR,
      plannerOperations.repositories.readFiles,
      { repositoryId, ref, paths },
      access,
    );

  it('reads files at a branch, a tag or a commit; a missing path is said to be missing', async () => {
    const before = await commit({ 'src/tagged.ts': 'export const version = 1;\n' });
    await git.tag({ fs, dir, ref: 'v1' });
    await commit({ 'src/tagged.ts': 'export const version = 2;\n' });
    const atBranch = await read('main', ['src/tagged.ts', 'src/nope.ts']);
    expect(atBranch).toEqual({
      repositoryId,
      ref: 'main',
      commit: await head(),
      files: [
        { path: 'src/tagged.ts', status: 'file', content: 'export const version = 2;\n', reason: null },
        { path: 'src/nope.ts', status: 'missing', content: null, reason: null },
      ],
    });
    expect((await read('v1', ['src/tagged.ts'])).files[0]!.content).toBe('export const version = 1;\n');
    expect(await read(before, ['src/tagged.ts'])).toMatchObject({
      commit: before,
      files: [{ content: 'export const version = 1;\n' }],
    });
    const unknown = await expectHuddleError(read('no-such-ref', ['README.md']), InvalidInputError);
    expect(unknown.constraint.field).toBe('ref');
  });

  it('stays inside the repository: no absolute or climbing paths, no link followed, bounded in count and bytes', async () => {
    for (const [paths, field] of [
      [['/etc/passwd'], 'paths.0'],
      [['README.md', '../../etc/passwd'], 'paths.1'],
      [['src//checkout.ts'], 'paths.0'],
      [Array.from({ length: 21 }, (_, index) => `f${index}.ts`), 'paths'],
    ] as const) {
      const error = await expectHuddleError(read('main', [...paths]), InvalidInputError);
      expect(error.constraint.field).toBe(field);
    }
    await fs.promises.symlink('/etc/passwd', path.join(dir, 'passwd-link'));
    await fs.promises.symlink('/etc', path.join(dir, 'etc-link'));
    for (const link of ['passwd-link', 'etc-link']) await git.add({ fs, dir, filepath: link });
    await fs.promises.writeFile(path.join(dir, 'binary.bin'), Buffer.from([0xff, 0xfe, 0x00]));
    await git.add({ fs, dir, filepath: 'binary.bin' });
    await commit({ 'big.txt': 'x'.repeat(300 * 1024) });
    const { files } = await read('main', ['passwd-link', 'etc-link/passwd', 'src', 'big.txt', 'binary.bin']);
    expect(files.map(({ path, status, reason }) => [path, status, reason])).toEqual([
      ['passwd-link', 'unreadable', 'is a symbolic link'],
      ['etc-link/passwd', 'missing', null],
      ['src', 'unreadable', 'is a directory'],
      ['big.txt', 'unreadable', `is ${300 * 1024} bytes, more than ${256 * 1024}`],
      ['binary.bin', 'unreadable', 'is not UTF-8 text'],
    ]);
  });

  it('gives a plan the files it is about, as they were where it was planned, page by page', async () => {
    const plan = await create('In context');
    await call(test.db, OPERATOR, plannerOperations.artifacts.add, {
      planId: plan.id,
      artifact: {
        type: 'implementation_steps',
        content: { steps: [{ title: 'Tag it', detail: '', files: ['src/tagged.ts', 'README.md'] }] },
      },
    });
    await call(test.db, OPERATOR, plannerOperations.artifacts.add, {
      planId: plan.id,
      artifact: {
        type: 'code_changes',
        content: {
          changes: [
            { path: 'src/new.ts', action: 'create', diff: '@@ -0,0 +1 @@\n+export {};\n' },
            { path: 'src/paid.ts', action: 'rename', previousPath: 'src/checkout.ts', diff: '' },
          ],
        },
      },
    });
    await commit({ 'src/tagged.ts': 'export const version = 3;\n' });
    const context = (cursor?: string) =>
      callStepped(
        test.db,
        OPERATOR,
        plannerOperations.plans.context,
        { planId: plan.id, limit: 3, ...(cursor && { cursor }) },
        access,
      );
    const first = await context();
    expect(first.commit).toBe(plan.baseCommit);
    expect(first.items.map(({ path, status }) => [path, status])).toEqual([
      ['README.md', 'file'],
      ['src/checkout.ts', 'file'],
      ['src/new.ts', 'missing'],
    ]);
    const second = await context(first.nextCursor!);
    expect(second.items).toEqual([
      { path: 'src/paid.ts', status: 'missing', content: null, reason: null },
      { path: 'src/tagged.ts', status: 'file', content: 'export const version = 2;\n', reason: null },
    ]);
    expect(second.nextCursor).toBeNull();
  });
});
