import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, readFile, rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DomainModule } from './module.ts';

/**
 * Huddle's own files in an embedded data directory, which belong to the process or the installation and never
 * to a template: the directory lock and its journal (data-dir-lock.ts) and the token secret
 * (@huddle/composition), which each data directory generates for itself. PostgreSQL names none of its files
 * so.
 */
const OWN_FILE_PREFIX = 'huddle';

/** The file PostgreSQL (and PGlite) writes last when it creates a cluster, and reads to tell one is there. */
const CLUSTER_MARKER = 'PG_VERSION';

/** Whether `dataDir` holds an embedded database (a PostgreSQL cluster), without touching it. */
export function holdsDatabase(dataDir: string): boolean {
  return existsSync(path.join(dataDir, CLUSTER_MARKER));
}

/** The version in the package.json of the package `specifier` resolves to (its entry lies in `dist/`). */
async function packageVersion(specifier: string): Promise<string> {
  const entry = fileURLToPath(import.meta.resolve(specifier));
  const manifest = JSON.parse(await readFile(path.resolve(entry, '../../package.json'), 'utf8'));
  return String(manifest.version);
}

/**
 * Where the pre-migrated template for `modules` lives: `$XDG_CACHE_HOME/huddle` (default `~/.cache/huddle`),
 * named by a hash of the PGlite and pgvector versions and of every module's migration names in order, so a
 * new migration, or a new PGlite, never reuses a template built without it.
 */
export async function templateDirectory(
  modules: readonly DomainModule[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  const versions = await Promise.all(
    ['@electric-sql/pglite', '@electric-sql/pglite-pgvector'].map(packageVersion),
  );
  const migrations = modules.flatMap((module) =>
    module.migrations.map((migration) => `${module.name}:${migration.name}`),
  );
  const key = createHash('sha256')
    .update(JSON.stringify({ versions, migrations }))
    .digest('hex')
    .slice(0, 16);
  const cache = env.XDG_CACHE_HOME || path.join(homedir(), '.cache');
  return path.join(cache, 'huddle', `pglite-template-${key}`);
}

/** Whether `source`, a path `cp` visits under `root`, is one of Huddle's own files at the top of it. */
function isOwnFile(source: string, root: string): boolean {
  const relative = path.relative(root, source);
  return relative.startsWith(OWN_FILE_PREFIX) && !relative.includes(path.sep);
}

/**
 * Copies the template into `dataDir` (which the caller holds the lock of) and answers true, or answers false
 * when there is no template. The cluster marker is copied last: a copy cut short leaves a directory that
 * still holds no database, and the next attempt copies over it.
 */
export async function copyTemplate(template: string, dataDir: string): Promise<boolean> {
  if (!holdsDatabase(template)) return false;
  await cp(template, dataDir, {
    recursive: true,
    filter: (source) => path.relative(template, source) !== CLUSTER_MARKER,
  });
  await cp(path.join(template, CLUSTER_MARKER), path.join(dataDir, CLUSTER_MARKER));
  return true;
}

/**
 * Saves the idle, checkpointed cluster in `dataDir` as the template (as PGlite's own `dumpDataDir` copies an
 * idle cluster's files): into a directory of its own first, renamed into place whole, so a reader never sees
 * half a template, and a process that built the same template meanwhile keeps its own.
 */
export async function saveTemplate(dataDir: string, template: string): Promise<void> {
  const building = `${template}.${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await cp(dataDir, building, { recursive: true, filter: (source) => !isOwnFile(source, dataDir) });
    await rename(building, template);
  } catch (error) {
    await rm(building, { recursive: true, force: true });
    // Another process saved it first: theirs is the same template.
    if (!holdsDatabase(template)) throw error;
  }
}
