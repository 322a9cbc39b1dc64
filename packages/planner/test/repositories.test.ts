import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigurationError, ConflictError, InvalidInputError, NotFoundError } from '@huddle/db';
import git from 'isomorphic-git';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { createGitRepository } from '../src/git.ts';
import { plannerOperations } from '../src/operations.ts';
import { plannerRootsFromEnv } from '../src/roots.ts';
import { listRepositoriesInputSchema, type registerRepositoryInputSchema } from '../src/schemas.ts';
import {
  getRepository,
  listRepositories,
  refreshRepository,
  renameRepository,
  unregisterRepository,
} from '../src/services/repositories.ts';
import { asActor, call, expectHuddleError, OPERATOR, usePlannerDatabase, useSqlClient } from './helpers.ts';

const test = usePlannerDatabase();
const postgres = useSqlClient(test);
const OUTSIDE = 'path: must be an existing directory under a configured root (HUDDLE_PLANNER_ROOTS)';

/** A temp directory holding the root the tests register under, and a sibling outside it. */
let base = '';
let root = '';
let outside = '';
const access = () => ({ roots: [root] });

beforeAll(async () => {
  base = await fs.promises.realpath(await fs.promises.mkdtemp(path.join(os.tmpdir(), 'planner-repos-')));
  root = path.join(base, 'root');
  outside = path.join(base, 'outside');
  await fs.promises.mkdir(root);
  await createGitRepository(outside, { defaultBranch: 'main', files: { 'secret.txt': 'x' } });
});

afterAll(async () => {
  await fs.promises.rm(base, { recursive: true, force: true });
});

/** Through the edge, which trims the path and refuses bad names by field. */
const register = (input: z.input<typeof registerRepositoryInputSchema>, roots = access()) =>
  call(test.db, OPERATOR, plannerOperations.repositories.register, input, roots);

async function newWorkTree(name: string, options: { remoteUrl?: string; defaultBranch?: string } = {}) {
  const dir = path.join(root, name);
  await createGitRepository(dir, {
    defaultBranch: options.defaultBranch ?? 'main',
    files: { 'README.md': `# ${name}\n`, 'src/index.ts': 'export {};\n' },
    ...(options.remoteUrl && { remoteUrl: options.remoteUrl }),
  });
  return dir;
}

async function storedRepositories(): Promise<{ name: string; path: string }[]> {
  const result = await postgres.client.query<{ name: string; path: string }>(
    'select name, path from planner.repositories order by path',
  );
  return result.rows;
}

describe('registering a repository', () => {
  it('reads name, default branch and remote URL from a real work tree created with a git library', async () => {
    const dir = await newWorkTree('shop', {
      remoteUrl: 'https://git.example/shop.git',
      defaultBranch: 'trunk',
    });
    const repository = await register({ path: dir });
    expect(repository).toMatchObject({
      name: 'shop',
      path: dir,
      defaultBranch: 'trunk',
      gitUrl: 'https://git.example/shop.git',
    });
    expect(await storedRepositories()).toContainEqual({ name: 'shop', path: dir });
  });

  it('takes name, default branch and URL from the caller when given', async () => {
    const dir = await newWorkTree('given');
    const repository = await register({
      path: dir,
      name: 'Given name',
      defaultBranch: 'release',
      gitUrl: 'ssh://git.example/given.git',
    });
    expect(repository).toMatchObject({
      name: 'Given name',
      defaultBranch: 'release',
      gitUrl: 'ssh://git.example/given.git',
    });
  });

  it('stores the real path, so a symlink or a `..` spelling of a registered work tree is a conflict', async () => {
    const dir = await newWorkTree('twice');
    const link = path.join(root, 'twice-link');
    await fs.promises.symlink(dir, link);
    // `root/nowhere` does not exist: `..` is resolved before the symlinks, so this still names the link.
    const registered = await register({ path: `${root}/nowhere/../twice-link` });
    expect(registered.path).toBe(dir);
    const before = await storedRepositories();
    for (const spelling of [dir, link, `${dir}/`, path.join(root, 'twice', '..', 'twice')]) {
      const error = await expectHuddleError(register({ path: spelling }), ConflictError);
      expect(error.constraint.constraint).toBe('repositories_path_unique');
    }
    expect(await storedRepositories()).toEqual(before);
  });

  it('refuses a directory that is not a git work tree, or a subdirectory of one', async () => {
    const plain = path.join(root, 'plain');
    await fs.promises.mkdir(plain);
    const inside = path.join(await newWorkTree('parent'), 'src');
    for (const dir of [plain, inside]) {
      const error = await expectHuddleError(register({ path: dir }), InvalidInputError);
      expect(error.message).toBe('path: is not the top directory of a git work tree');
    }
  });

  it('refuses paths outside the roots with one message, whether they exist or not', async () => {
    const escapingLink = path.join(root, 'escape');
    await fs.promises.symlink(outside, escapingLink);
    const before = await storedRepositories();
    for (const candidate of [
      outside,
      path.join(outside, 'missing'),
      `${root}/../outside`,
      escapingLink,
      path.join(escapingLink, 'missing'),
      path.join(root, 'missing'),
      '/',
    ]) {
      const error = await expectHuddleError(register({ path: candidate }), InvalidInputError);
      expect(error.message).toBe(OUTSIDE);
      expect(error.constraint.field).toBe('path');
    }
    const noRoots = await expectHuddleError(register({ path: outside }, { roots: [] }), InvalidInputError);
    expect(noRoots.message).toBe(OUTSIDE);
    expect(await storedRepositories()).toEqual(before);
  });

  it('refuses a work tree whose git directory lies outside the roots (a .git file or symlink pointing out)', async () => {
    const pointing = path.join(root, 'pointing');
    await fs.promises.mkdir(pointing);
    await fs.promises.writeFile(path.join(pointing, '.git'), `gitdir: ${path.join(outside, '.git')}\n`);
    const linked = path.join(root, 'linked');
    await fs.promises.mkdir(linked);
    await fs.promises.symlink(path.join(outside, '.git'), path.join(linked, '.git'));
    for (const dir of [pointing, linked]) {
      const error = await expectHuddleError(register({ path: dir }), InvalidInputError);
      expect(error.message).toBe('path: its git directory is not under a configured root');
    }
  });

  it('refuses a work tree whose .git/config, HEAD, refs or packed-refs are symlinks out of the roots, naming the file', async () => {
    const secret = path.join(base, 'secret-remote');
    await createGitRepository(secret, {
      defaultBranch: 'secret-branch',
      files: { 'x.txt': 'x' },
      remoteUrl: 'https://ann:ghp_secret@git.example/secret.git',
    });
    await git.writeRef({
      fs,
      dir: secret,
      ref: 'refs/remotes/origin/HEAD',
      value: 'refs/remotes/origin/main',
      symbolic: true,
    });
    await fs.promises.writeFile(path.join(secret, '.git', 'packed-refs'), '# pack-refs with: peeled\n');
    for (const file of ['config', 'HEAD', 'refs/remotes/origin/HEAD', 'packed-refs', 'refs']) {
      const dir = await newWorkTree(`linked-${file.replaceAll('/', '-')}`);
      const inside = path.join(dir, '.git', file);
      await fs.promises.mkdir(path.dirname(inside), { recursive: true });
      await fs.promises.rm(inside, { recursive: true, force: true });
      await fs.promises.symlink(path.join(secret, '.git', file), inside);
      const error = await expectHuddleError(register({ path: dir }), InvalidInputError);
      expect(error.message).toMatch(
        new RegExp(
          `^path: \\.git/${file.split('/')[0]}(/|\\b).* resolves outside the configured roots \\(HUDDLE_PLANNER_ROOTS\\)$`,
        ),
      );
      expect(error.constraint.field).toBe('path');
    }
    expect(await storedRepositories()).not.toContainEqual(
      expect.objectContaining({ name: expect.stringMatching(/^linked-/) }),
    );
  });

  it('refuses to refresh a repository whose .git/config became a symlink out of the roots, and keeps what it stored', async () => {
    const secret = path.join(base, 'secret-refresh');
    await createGitRepository(secret, {
      defaultBranch: 'main',
      files: { 'x.txt': 'x' },
      remoteUrl: 'https://ann:ghp_secret@git.example/secret.git',
    });
    const dir = await newWorkTree('refresh-linked', { remoteUrl: 'https://git.example/shop.git' });
    const repository = await register({ path: dir });
    await fs.promises.rm(path.join(dir, '.git', 'config'));
    await fs.promises.symlink(path.join(secret, '.git', 'config'), path.join(dir, '.git', 'config'));
    const error = await expectHuddleError(
      asActor(test.db, OPERATOR, (em, actor) =>
        refreshRepository(em, actor, { repositoryId: repository.id }, access()),
      ),
      ConflictError,
    );
    expect(error.message).toContain('.git/config resolves outside the configured roots');
    expect(
      await asActor(test.db, OPERATOR, (em, actor) =>
        getRepository(em, actor, { repositoryId: repository.id }),
      ),
    ).toMatchObject({
      gitUrl: 'https://git.example/shop.git',
    });
  });

  it('refuses a .git file that is not one line "gitdir: <path>" (two gitdir lines point git and the library apart)', async () => {
    const main = await newWorkTree('pointed-at');
    const gitFiles: [string, string][] = [
      ['two-lines', `gitdir: ${path.join(main, '.git')}\ngitdir: ${path.join(outside, '.git')}\n`],
      ['no-prefix', `${path.join(main, '.git')}\n`],
      ['empty-pointer', 'gitdir: \n'],
    ];
    for (const [name, contents] of gitFiles) {
      const dir = path.join(root, name);
      await fs.promises.mkdir(dir);
      await fs.promises.writeFile(path.join(dir, '.git'), contents);
      const error = await expectHuddleError(register({ path: dir }), InvalidInputError);
      expect(error.message).toBe('path: its .git file must be one line "gitdir: <path>"');
    }
  });

  it('accepts a .git file (as linked worktrees have) pointing at a git directory under the roots', async () => {
    const main = await newWorkTree('main-tree');
    const worktree = path.join(root, 'second-tree');
    await fs.promises.mkdir(worktree);
    await fs.promises.writeFile(path.join(worktree, '.git'), `gitdir: ${path.join(main, '.git')}\n`);
    const repository = await register({ path: worktree });
    expect(repository).toMatchObject({ path: worktree, name: 'second-tree', defaultBranch: 'main' });
  });

  it('refuses a relative path and bad names by field', async () => {
    const relative = await expectHuddleError(register({ path: 'shop' }), InvalidInputError);
    expect(relative.message).toBe('path: must be an absolute path');
    const branch = await expectHuddleError(
      register({ path: path.join(root, 'shop'), defaultBranch: 'has space' }),
      InvalidInputError,
    );
    expect(branch.constraint.field).toBe('defaultBranch');
  });
});

describe('managing repositories', () => {
  it('lists, gets, renames and refreshes from git', async () => {
    const dir = await newWorkTree('refresh-me');
    const repository = await register({ path: dir });
    expect(repository.gitUrl).toBeNull();
    const listed = await asActor(test.db, OPERATOR, (em, actor) =>
      listRepositories(em, actor, listRepositoriesInputSchema.parse({})),
    );
    expect(listed.items.map((item) => item.id)).toContain(repository.id);

    const renamed = await asActor(test.db, OPERATOR, (em, actor) =>
      renameRepository(em, actor, { repositoryId: repository.id, name: 'Refreshed' }),
    );
    expect(renamed.name).toBe('Refreshed');

    await git.addRemote({ fs, dir, remote: 'origin', url: 'https://git.example/refresh.git' });
    await git.branch({ fs, dir, ref: 'develop', checkout: true });
    const refreshed = await asActor(test.db, OPERATOR, (em, actor) =>
      refreshRepository(em, actor, { repositoryId: repository.id }, access()),
    );
    expect(refreshed).toMatchObject({
      name: 'Refreshed',
      gitUrl: 'https://git.example/refresh.git',
      defaultBranch: 'develop',
    });
    expect(
      await asActor(test.db, OPERATOR, (em, actor) =>
        getRepository(em, actor, { repositoryId: repository.id }),
      ),
    ).toEqual(refreshed);
  });

  it('refuses to refresh a repository whose work tree is gone', async () => {
    const dir = await newWorkTree('vanishing');
    const repository = await register({ path: dir });
    await fs.promises.rm(dir, { recursive: true });
    await expectHuddleError(
      asActor(test.db, OPERATOR, (em, actor) =>
        refreshRepository(em, actor, { repositoryId: repository.id }, access()),
      ),
      ConflictError,
    );
  });

  it('unregisters only with confirm: true, deleting its plan versions, artifacts and chat sessions', async () => {
    const repository = await register({ path: await newWorkTree('leaving') });
    const plans = await postgres.client.query<{ id: string }>(
      `insert into planner.plans (repository_id, name, target_branch, version)
       values ($1, 'Leaving', 'main', 1), ($1, 'Leaving', 'main', 2) returning id`,
      [repository.id],
    );
    const planIds = plans.rows.map((row) => row.id);
    await postgres.client.query(
      `insert into planner.plan_artifacts (plan_id, content, artifact_type) select id, '{}', 'feature_plan' from planner.plans where id = any($1)`,
      [planIds],
    );
    await postgres.client.query(`insert into planner.chat_sessions (plan_id) values ($1)`, [planIds[0]]);

    const unconfirmed = await expectHuddleError(
      call(test.db, OPERATOR, plannerOperations.repositories.unregister, {
        repositoryId: repository.id,
        confirm: false as true,
      }),
      InvalidInputError,
    );
    expect(unconfirmed.constraint.field).toBe('confirm');

    const result = await asActor(test.db, OPERATOR, (em, actor) =>
      unregisterRepository(em, actor, { repositoryId: repository.id, confirm: true }),
    );
    expect(result).toEqual({ repositoryId: repository.id, deletedPlanVersions: 2 });
    const left = await postgres.client.query<{ rows: string }>(
      `select (select count(*) from planner.repositories where id = $1)
            + (select count(*) from planner.plans where id = any($2))
            + (select count(*) from planner.plan_artifacts where plan_id = any($2))
            + (select count(*) from planner.chat_sessions where plan_id = any($2)) as rows`,
      [repository.id, planIds],
    );
    expect(left.rows[0]!.rows).toBe('0');
    await expectHuddleError(
      asActor(test.db, OPERATOR, (em, actor) => getRepository(em, actor, { repositoryId: repository.id })),
      NotFoundError,
    );
  });
});

describe('plannerRootsFromEnv', () => {
  it('splits HUDDLE_PLANNER_ROOTS on the path delimiter, normalised; unset means no roots', () => {
    expect(
      plannerRootsFromEnv({ HUDDLE_PLANNER_ROOTS: `/srv/repos/${path.delimiter} /home/a/../b ` }),
    ).toEqual(['/srv/repos', '/home/b']);
    expect(plannerRootsFromEnv({})).toEqual([]);
  });

  it('refuses a relative root with the variable named', () => {
    expect(() => plannerRootsFromEnv({ HUDDLE_PLANNER_ROOTS: 'repos' })).toThrow(ConfigurationError);
    expect(() => plannerRootsFromEnv({ HUDDLE_PLANNER_ROOTS: 'repos' })).toThrow(/^HUDDLE_PLANNER_ROOTS:/);
  });
});
