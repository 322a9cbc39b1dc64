import fs from 'node:fs';
import path from 'node:path';
import { ConflictError, InvalidInputError } from '@huddle/db';
import git from 'isomorphic-git';
import { isWithin, PLANNER_ROOTS_VARIABLE } from './roots.ts';

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

const GITDIR_PREFIX = 'gitdir: ';
/** A `.git` file is one short line; anything longer is not one. */
const MAX_GIT_FILE_BYTES = 4_096;

const malformedGitFile = () =>
  new InvalidInputError(`path: its .git file must be one line "${GITDIR_PREFIX}<path>"`, { field: 'path' });

/**
 * Where a `.git` file points, read as isomorphic-git reads it (trailing whitespace trimmed, the rest after
 * `gitdir: `; relative to the work tree unless absolute), and refused unless that is one line: with more,
 * the library and a reader of the first line would disagree about where the git directory is.
 */
async function gitFilePointer(dir: string, dotGit: string, size: number): Promise<string> {
  if (size > MAX_GIT_FILE_BYTES) throw malformedGitFile();
  const line = (await fs.promises.readFile(dotGit, 'utf8')).trimEnd();
  const pointer = line.slice(GITDIR_PREFIX.length);
  if (!line.startsWith(GITDIR_PREFIX) || pointer.length === 0 || /[\r\n]/.test(pointer)) {
    throw malformedGitFile();
  }
  return path.resolve(dir, pointer);
}

/**
 * The git directory of the work tree whose top is `dir`, real path resolved: its `.git` directory, or the
 * directory a `.git` file (a linked worktree's or a submodule's `gitdir: …`) points at. Undefined when
 * `dir` holds no `.git` or the pointer leads nowhere; an InvalidInputError on `path` for a malformed `.git`
 * file. Every read of the work tree passes this directory to isomorphic-git, so the pointer is parsed here
 * only.
 */
export async function gitDirectory(dir: string): Promise<string | undefined> {
  const dotGit = path.join(dir, '.git');
  const stat = await fs.promises.stat(dotGit).catch(() => undefined);
  if (stat?.isDirectory()) return fs.promises.realpath(dotGit);
  if (!stat?.isFile()) return undefined;
  const pointer = await gitFilePointer(dir, dotGit, stat.size);
  return fs.promises.realpath(pointer).catch(() => undefined);
}

/** A path isomorphic-git asked for that resolves outside the roots: the library may swallow the error. */
class RefusedRead extends Error {
  readonly code = 'EACCES';
}

const readOnly = async (): Promise<never> => {
  throw new RefusedRead('reading a work tree writes nothing');
};

/**
 * The file system isomorphic-git reads a registered work tree through: every path it touches must resolve
 * (real path: every symlink followed, or all but the last for `lstat`/`readlink`) under `roots`, so a
 * symlinked `.git/config`, `HEAD`, ref or object cannot make the server read outside them. The library
 * turns many read errors into "absent", so the first refused path is also kept in `refused`, for the caller
 * to fail on.
 */
class ConfinedFs {
  refused: string | undefined;
  private readonly roots: readonly string[];

  constructor(roots: readonly string[]) {
    this.roots = roots;
  }

  private async confine(file: string, followLast: boolean): Promise<string> {
    const real = followLast
      ? await fs.promises.realpath(file)
      : path.join(await fs.promises.realpath(path.dirname(file)), path.basename(file));
    if (!this.roots.some((root) => isWithin(real, root))) {
      this.refused ??= file;
      throw new RefusedRead(`${file} resolves outside the configured roots`);
    }
    return real;
  }

  readFile = async (file: string, options?: Parameters<typeof fs.promises.readFile>[1]) =>
    fs.promises.readFile(await this.confine(file, true), options ?? null);
  stat = async (file: string) => fs.promises.stat(await this.confine(file, true));
  lstat = async (file: string) => fs.promises.lstat(await this.confine(file, false));
  readdir = async (dir: string) => fs.promises.readdir(await this.confine(dir, true));
  readlink = async (file: string) => fs.promises.readlink(await this.confine(file, false));
  writeFile = readOnly;
  mkdir = readOnly;
  rmdir = readOnly;
  unlink = readOnly;
  symlink = readOnly;
}

/** Where a registered work tree is read: its top `dir`, its `gitdir` (gitDirectory), and the roots. */
export interface WorkTreeLocation {
  dir: string;
  gitdir: string;
  /**
   * Real paths every file read must resolve under: the configured roots. Undefined only for a repository
   * the server chose itself (a seeder's), read as it is.
   */
  roots: readonly string[] | undefined;
}

/**
 * Reads name, default branch and remote URL of a work tree (see WorkTreeFacts); an InvalidInputError on
 * `path` names a file of it that resolves outside the roots.
 */
export async function readWorkTree({ dir, gitdir, roots }: WorkTreeLocation): Promise<WorkTreeFacts> {
  const confined = roots ? new ConfinedFs(roots) : undefined;
  const at = { fs: confined ?? fs, dir, gitdir };
  const originHead = await git
    .resolveRef({ ...at, ref: 'refs/remotes/origin/HEAD', depth: 2 })
    .catch(() => undefined);
  const defaultBranch =
    (originHead?.startsWith('refs/remotes/origin/')
      ? originHead.slice('refs/remotes/origin/'.length)
      : undefined) ??
    (await git.currentBranch(at).catch(() => undefined)) ??
    'main';
  const remotes = await git.listRemotes(at).catch(() => []);
  if (confined?.refused) {
    throw new InvalidInputError(
      `path: ${path.relative(dir, confined.refused)} resolves outside the configured roots (${PLANNER_ROOTS_VARIABLE})`,
      { field: 'path' },
    );
  }
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

/** A file as a commit holds it (CommitReader.file). */
export type FileAtCommit =
  | { kind: 'file'; content: string }
  | { kind: 'missing' }
  /** Not a regular text file within the size limit: `reason` says what it is. */
  | { kind: 'unreadable'; reason: string };

const REGULAR_FILE_MODES = new Set(['100644', '100755']);
const FULL_OBJECT_ID = /^[0-9a-f]{40}$/;

/**
 * Reads commits and files of a registered work tree from its git objects, through ConfinedFs: a path is
 * looked up in the commit's trees, never on the work tree's filesystem, so no `..`, symlink or absolute path
 * can lead outside the repository, and every object file read resolves under the roots. A file is read only
 * when its tree entry is a regular file (a symbolic link's target is never followed) and decoded only when
 * it is UTF-8 text within `maxBytes`. `field` names the caller's input that chose the repository, for the
 * ConflictError a read outside the roots raises.
 */
export class CommitReader {
  private readonly confined: ConfinedFs;
  private readonly at: { fs: ConfinedFs; dir: string; gitdir: string; cache: object };
  private readonly field: string;

  constructor({ dir, gitdir, roots }: WorkTreeLocation & { roots: readonly string[] }, field: string) {
    this.confined = new ConfinedFs(roots);
    this.at = { fs: this.confined, dir, gitdir, cache: {} };
    this.field = field;
  }

  /** Throws when isomorphic-git touched a path outside the roots, even if it swallowed the refusal. */
  private checked<T>(value: T): T {
    if (this.confined.refused) {
      throw new ConflictError(
        `${this.field}: the repository's ${path.relative(this.at.dir, this.confined.refused)} resolves outside the configured roots (${PLANNER_ROOTS_VARIABLE}); unregister it or restore it`,
        { field: this.field },
      );
    }
    return value;
  }

  /** The commit `branch` points at (a local branch, else `origin`'s); undefined when there is none. */
  async branchCommit(branch: string): Promise<string | undefined> {
    for (const ref of [`refs/heads/${branch}`, `refs/remotes/origin/${branch}`]) {
      const oid = await git.resolveRef({ ...this.at, ref }).catch(() => undefined);
      if (oid) return this.checked(await this.commit(oid));
    }
    return this.checked(undefined);
  }

  /**
   * The commit `ref` names: a full commit id, a local or `origin` branch, or a tag (annotated ones peeled);
   * undefined when it names no commit.
   */
  async resolve(ref: string): Promise<string | undefined> {
    if (FULL_OBJECT_ID.test(ref)) return this.checked(await this.commit(ref));
    const branch = await this.branchCommit(ref);
    if (branch) return branch;
    const tag = await git.resolveRef({ ...this.at, ref: `refs/tags/${ref}` }).catch(() => undefined);
    return this.checked(tag ? await this.commit(tag) : undefined);
  }

  /** `oid` peeled to a commit (through annotated tags), or undefined when it is no commit here. */
  private async commit(oid: string): Promise<string | undefined> {
    const peeled = await git
      .readTag({ ...this.at, oid })
      .then((tag) => tag.tag.object)
      .catch(() => oid);
    return git
      .readCommit({ ...this.at, oid: peeled })
      .then((commit) => commit.oid)
      .catch(() => undefined);
  }

  /** The file at `filepath` (a relative path, `/`-separated) in `commit`. */
  async file(commit: string, filepath: string, maxBytes: number): Promise<FileAtCommit> {
    const slash = filepath.lastIndexOf('/');
    const directory = slash < 0 ? undefined : filepath.slice(0, slash);
    const name = filepath.slice(slash + 1);
    const tree = await git
      .readTree({ ...this.at, oid: commit, ...(directory && { filepath: directory }) })
      .catch(() => undefined);
    const entry = tree?.tree.find((candidate) => candidate.path === name);
    if (!entry) return this.checked({ kind: 'missing' });
    if (!REGULAR_FILE_MODES.has(entry.mode)) {
      const what =
        entry.type === 'tree' ? 'a directory' : entry.mode === '120000' ? 'a symbolic link' : 'a submodule';
      return this.checked({ kind: 'unreadable', reason: `is ${what}` });
    }
    const { blob } = this.checked(await git.readBlob({ ...this.at, oid: entry.oid }));
    if (blob.byteLength > maxBytes) {
      return { kind: 'unreadable', reason: `is ${blob.byteLength} bytes, more than ${maxBytes}` };
    }
    try {
      return { kind: 'file', content: new TextDecoder('utf-8', { fatal: true }).decode(blob) };
    } catch {
      return { kind: 'unreadable', reason: 'is not UTF-8 text' };
    }
  }
}
