import fs from 'node:fs';
import path from 'node:path';
import git from 'isomorphic-git';

/**
 * What the planner reads from (and, for seeds and tests, writes to) local git repositories, through
 * isomorphic-git: pure JavaScript, so nothing shells out to a `git` binary that may not be installed.
 */

/** What a work tree says about itself; `registerRepository` uses it where the caller gives nothing. */
export interface WorkTreeFacts {
  /** The work tree's directory name. */
  name: string;
  /** The branch `origin/HEAD` points at, else the checked-out branch, else `main`. */
  defaultBranch: string;
  /** The URL of `origin`, else of the first remote; null without remotes. */
  gitUrl: string | null;
}

/**
 * The git directory of the work tree whose top is `dir`, real path resolved: its `.git` directory, or the
 * directory a `.git` file (a linked worktree's or a submodule's `gitdir: …`) points at. Undefined when
 * `dir` holds no `.git`.
 */
export async function gitDirectory(dir: string): Promise<string | undefined> {
  const dotGit = path.join(dir, '.git');
  const stat = await fs.promises.stat(dotGit).catch(() => undefined);
  if (stat?.isDirectory()) return fs.promises.realpath(dotGit);
  if (!stat?.isFile()) return undefined;
  const pointer = (await fs.promises.readFile(dotGit, 'utf8')).match(/^gitdir: (.+)$/m)?.[1]?.trim();
  if (!pointer) return undefined;
  return fs.promises.realpath(path.resolve(dir, pointer)).catch(() => undefined);
}

async function originHeadBranch(dir: string): Promise<string | undefined> {
  const ref = await git
    .resolveRef({ fs, dir, ref: 'refs/remotes/origin/HEAD', depth: 2 })
    .catch(() => undefined);
  return ref?.startsWith('refs/remotes/origin/') ? ref.slice('refs/remotes/origin/'.length) : undefined;
}

/** Reads name, default branch and remote URL of the work tree at `dir` (see WorkTreeFacts). */
export async function readWorkTree(dir: string): Promise<WorkTreeFacts> {
  const defaultBranch =
    (await originHeadBranch(dir)) ?? (await git.currentBranch({ fs, dir }).catch(() => undefined)) ?? 'main';
  const remotes = await git.listRemotes({ fs, dir }).catch(() => []);
  const remote = remotes.find((candidate) => candidate.remote === 'origin') ?? remotes[0];
  return { name: path.basename(dir), defaultBranch, gitUrl: remote?.url ?? null };
}

export interface NewRepository {
  /** Branch of the first commit. */
  defaultBranch: string;
  /** Files of the first commit, by path relative to the work tree. */
  files: Record<string, string>;
  /** Added as remote `origin`. */
  remoteUrl?: string;
}

/** Creates a git work tree at `dir` with one commit of `files` (for seeds and tests). */
export async function createGitRepository(dir: string, repository: NewRepository): Promise<void> {
  await git.init({ fs, dir, defaultBranch: repository.defaultBranch });
  for (const [file, content] of Object.entries(repository.files)) {
    await fs.promises.mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await fs.promises.writeFile(path.join(dir, file), content);
    await git.add({ fs, dir, filepath: file });
  }
  await git.commit({
    fs,
    dir,
    message: 'Initial commit',
    author: { name: 'Huddle planner', email: 'planner@huddle.invalid', timestamp: 0, timezoneOffset: 0 },
  });
  if (repository.remoteUrl) await git.addRemote({ fs, dir, remote: 'origin', url: repository.remoteUrl });
}
