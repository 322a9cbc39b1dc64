import type { Database } from './database.ts';
import { ConfigurationError, ConflictError, InvalidInputError } from './errors.ts';
import { findModule, ModuleResources, type SeedContext } from './module.ts';
import { inRequestScope } from './request.ts';

export type SeedKind = 'minimal' | 'realistic';

/**
 * The largest realistic scale accepted. Seeders plan their rows in memory before writing them, so an
 * unbounded scale runs a process out of memory; this one keeps a seeder's plan within a few hundred MiB.
 */
export const MAX_SEED_SCALE = 1000;

export interface SeedOptions {
  /** Only this module (default: every composed module that has a seeder of this kind). */
  module?: string;
  scale?: number;
  seed?: number;
  progress?: (module: string, table: string, written: number, total: number) => void;
  /** What the modules' seeders need (`ModuleResources`); read from the environment when not given. */
  resources?: ModuleResources;
}

export interface SeedResult {
  module: string;
  /** Rows written per table, as the seeder reported them. */
  rows: Record<string, number>;
  milliseconds: number;
  /**
   * The module already had this seed's realistic data (a run that was stopped after seeding it): nothing was
   * written for it.
   */
  alreadySeeded?: true;
}

/** A realistic seeder's refusal to write a seed's rows a second time. */
function isAlreadySeeded(error: unknown): error is ConflictError {
  return error instanceof ConflictError && error.constraint.field === 'seed';
}

/**
 * Runs each module's seeder of `kind`, one transaction per module, in migration order: a seeder that fails
 * leaves its module as it was. `minimal` seeders are idempotent; `realistic` ones are deterministic per seed
 * and refuse to write a seed twice — except that seeding every module again (no `module`) skips the modules
 * that already have the seed (`alreadySeeded`) and seeds the rest: a run that was stopped is finished.
 */
export async function seed(db: Database, kind: SeedKind, options: SeedOptions = {}): Promise<SeedResult[]> {
  const modules = options.module ? [findModule(db.modules, options.module)] : db.modules;
  // The one place seeders are called from, so their context is checked here, once, for every module.
  const scale = options.scale ?? 1;
  if (!Number.isSafeInteger(scale) || scale < 1 || scale > MAX_SEED_SCALE) {
    throw new InvalidInputError(`scale: must be an integer from 1 to ${MAX_SEED_SCALE}, got ${scale}`, {
      field: 'scale',
    });
  }
  // Read from a copy: a module's reader may fill in defaults (planner's roots), which must not change what
  // this process's environment says to the seeders that still read it.
  const resources = options.resources ?? (await ModuleResources.fromEnv(modules, { ...process.env }));
  const results: SeedResult[] = [];
  let refusal: ConflictError | undefined;
  for (const module of modules) {
    const Seeder = module.seeders[kind];
    if (!Seeder) {
      if (options.module) throw new ConfigurationError(`module: ${module.name} has no ${kind} seeder`);
      continue;
    }
    const rows: Record<string, number> = {};
    const context: SeedContext = {
      target: db.target,
      scale,
      seed: options.seed ?? 1,
      progress(table, written, total) {
        rows[table] = written;
        options.progress?.(module.name, table, written, total);
      },
      resources: resources.of(module),
    };
    const started = performance.now();
    try {
      await inRequestScope(db.orm, (em) => Promise.resolve(new Seeder().run(em, context)), { retries: 0 });
      results.push({ module: module.name, rows, milliseconds: performance.now() - started });
    } catch (error) {
      // Seeding every module again after a run was stopped: finish the modules it had not reached.
      if (options.module || !isAlreadySeeded(error)) throw error;
      results.push({ module: module.name, rows: {}, milliseconds: 0, alreadySeeded: true });
      refusal = error;
    }
  }
  // Every module had it already: there is nothing to finish, and the caller asked for rows that exist.
  if (refusal && results.every((result) => result.alreadySeeded)) {
    throw new ConflictError(
      `seed: every module already has the realistic data of seed ${options.seed ?? 1} at scale ${scale}; use another seed`,
      { field: 'seed' },
      { cause: refusal },
    );
  }
  return results;
}
