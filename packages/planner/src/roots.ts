import fs from 'node:fs';
import path from 'node:path';
import { ConfigurationError, InvalidInputError } from '@huddle/db';
import git from 'isomorphic-git';

/**
 * Where the server may read repositories: only under the configured roots. A path outside them is refused
 * with the same message as a path that does not exist, so a caller learns nothing about the filesystem
 * outside the roots.
 */

export const PLANNER_ROOTS_VARIABLE = 'HUDDLE_PLANNER_ROOTS';

/**
 * The roots listed in `HUDDLE_PLANNER_ROOTS`: absolute directories separated by the platform's path
 * delimiter (`:` on Linux and macOS). Unset or empty: no roots, so every registration is refused.
 */
export function plannerRootsFromEnv(env: NodeJS.ProcessEnv = process.env): string[] {
  const roots = (env[PLANNER_ROOTS_VARIABLE] ?? '')
    .split(path.delimiter)
    .map((root) => root.trim())
    .filter((root) => root.length > 0);
  for (const root of roots) {
    if (!path.isAbsolute(root)) {
      throw new ConfigurationError(`${PLANNER_ROOTS_VARIABLE}: "${root}" is not an absolute path`);
    }
  }
  return roots.map((root) => path.resolve(root));
}

/** Where planner may read git repositories: what its operations receive as their resources. */
export interface RepositoryAccess {
  roots: readonly string[];
}

/**
 * Where planner may read git repositories, decided once when modules are composed: `HUDDLE_PLANNER_ROOTS`,
 * or, when it is unset, the git work tree the process is started in (so `pnpm start` can plan changes to
 * Huddle itself); none outside a work tree or when the variable is set but empty. The default is written
 * back to `env` because the minimal seeder reads the roots there: the seeded repository is then readable.
 */
export async function plannerAccessFromEnv(env: NodeJS.ProcessEnv = process.env): Promise<RepositoryAccess> {
  if (env[PLANNER_ROOTS_VARIABLE] === undefined) {
    const checkout = await git.findRoot({ fs, filepath: process.cwd() }).catch(() => undefined);
    if (checkout) env[PLANNER_ROOTS_VARIABLE] = checkout;
  }
  return { roots: plannerRootsFromEnv(env) };
}

/** Whether `candidate` is `root` or lies below it (both resolved paths). */
export function isWithin(candidate: string, root: string): boolean {
  return candidate === root || candidate.startsWith(root.endsWith(path.sep) ? root : root + path.sep);
}

const notUnderRoots = () =>
  new InvalidInputError(
    `path: must be an existing directory under a configured root (${PLANNER_ROOTS_VARIABLE})`,
    { field: 'path' },
  );

/** The real paths of the roots that exist. */
export async function realRoots(roots: readonly string[]): Promise<string[]> {
  const resolved = await Promise.all(roots.map((root) => fs.promises.realpath(root).catch(() => undefined)));
  return resolved.filter((root): root is string => root !== undefined);
}

/**
 * The real path of `candidate` (symlinks and `..` resolved), when it is an existing directory under one of
 * `roots`; otherwise an InvalidInputError on `path` that does not say whether the path exists. Paths
 * outside the roots are refused before the filesystem is touched.
 */
export async function resolveUnderRoots(candidate: string, roots: readonly string[]): Promise<string> {
  if (!path.isAbsolute(candidate)) {
    throw new InvalidInputError('path: must be an absolute path', { field: 'path' });
  }
  const real = await realRoots(roots);
  const lexical = path.resolve(candidate);
  if (![...roots, ...real].some((root) => isWithin(lexical, root))) throw notUnderRoots();
  const resolved = await fs.promises.realpath(lexical).catch(() => undefined);
  if (!resolved || !real.some((root) => isWithin(resolved, root))) throw notUnderRoots();
  const stat = await fs.promises.stat(resolved);
  if (!stat.isDirectory()) throw new InvalidInputError('path: is not a directory', { field: 'path' });
  return resolved;
}
