import type { Database } from './database.ts';
import { ConfigurationError, InvalidInputError } from './errors.ts';
import { findModule, type SeedContext } from './module.ts';
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
}

export interface SeedResult {
  module: string;
  /** Rows written per table, as the seeder reported them. */
  rows: Record<string, number>;
  milliseconds: number;
}

/**
 * Runs each module's seeder of `kind`, one transaction per module, in migration order: a seeder that fails
 * leaves its module as it was. `minimal` seeders are idempotent; `realistic` ones are deterministic per seed.
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
  const results: SeedResult[] = [];
  for (const module of modules) {
    const Seeder = module.seeders[kind];
    if (!Seeder) {
      if (options.module) throw new ConfigurationError(`module: ${module.name} has no ${kind} seeder`);
      continue;
    }
    const rows: Record<string, number> = {};
    const context: SeedContext = {
      scale,
      seed: options.seed ?? 1,
      progress(table, written, total) {
        rows[table] = written;
        options.progress?.(module.name, table, written, total);
      },
    };
    const started = performance.now();
    await inRequestScope(db.orm, (em) => Promise.resolve(new Seeder().run(em, context)), { retries: 0 });
    results.push({ module: module.name, rows, milliseconds: performance.now() - started });
  }
  return results;
}
