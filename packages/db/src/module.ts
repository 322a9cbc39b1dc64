import type {
  AnyEntity,
  Constructor,
  Dictionary,
  EntityClass,
  EntitySchema,
  MigrationObject,
} from '@mikro-orm/core';
import type { Migration } from '@mikro-orm/migrations';
import type { Seeder } from '@mikro-orm/seeder';
import { ConfigurationError } from './errors.ts';

/**
 * Who is acting, as established by the app (the API from a bearer token, the CLI from its operator).
 * `userId` is the module's own user id in text form; each module interprets it for its users table.
 */
export interface Actor {
  userId: string;
}

/**
 * What every module seeder receives as its context: realistic seeders scale with `scale` and are
 * deterministic for a given `seed`; they report rows as they write them so a CLI can show progress.
 */
export interface SeedContext {
  scale: number;
  seed: number;
  /** `total` is the number of rows the seeder will write to `table`; `written` grows towards it. */
  progress(table: string, written: number, total: number): void;
}

/** A module seeder: a MikroORM Seeder whose context is a SeedContext. */
export type ModuleSeeder = Constructor<Seeder<SeedContext & Dictionary>>;

/**
 * What a domain package tells the apps about itself. `@huddle/db` knows nothing else about a domain:
 * it migrates, seeds and maps errors for whatever list of modules an app composes.
 */
export interface DomainModule {
  /** Also the module's PostgreSQL schema name and the key of its migrations table. */
  name: string;
  entities: (EntityClass<AnyEntity> | EntitySchema)[];
  /** This module's migrations, oldest first; names must sort in the order they apply. */
  migrations: MigrationObject[];
  seeders: { minimal: ModuleSeeder; realistic?: ModuleSeeder };
  /** Modules whose migrations must run before this one's. */
  dependsOn?: string[];
}

/** Builds the migration list from classes, keeping each migration's name stable (its class name). */
export function migrationList(...classes: Constructor<Migration>[]): MigrationObject[] {
  return classes.map((migrationClass) => ({ name: migrationClass.name, class: migrationClass }));
}

/** Orders modules so every module comes after the ones it depends on; throws on unknown or cyclic dependencies. */
export function orderModules(modules: readonly DomainModule[]): DomainModule[] {
  const byName = new Map(modules.map((module) => [module.name, module]));
  const ordered: DomainModule[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (module: DomainModule, chain: string[]) => {
    const seen = state.get(module.name);
    if (seen === 'done') return;
    if (seen === 'visiting')
      throw new Error(`module dependency cycle: ${[...chain, module.name].join(' -> ')}`);
    state.set(module.name, 'visiting');
    for (const dependency of module.dependsOn ?? []) {
      const target = byName.get(dependency);
      if (!target) throw new Error(`module ${module.name} depends on ${dependency}, which is not composed`);
      visit(target, [...chain, module.name]);
    }
    state.set(module.name, 'done');
    ordered.push(module);
  };
  for (const module of modules) visit(module, []);
  return ordered;
}

/** The module called `name`; an unknown name is a ConfigurationError that lists the known ones. */
export function findModule(modules: readonly DomainModule[], name: string): DomainModule {
  const module = modules.find((candidate) => candidate.name === name);
  if (!module) {
    const known = modules.map((candidate) => candidate.name).join(', ') || 'none';
    throw new ConfigurationError(`module: unknown module "${name}" (known: ${known})`);
  }
  return module;
}

/**
 * The modules called `names` and every module they depend on (transitively), in their order among
 * `modules`; an unknown name is a ConfigurationError that lists the known ones.
 */
export function withDependencies(modules: readonly DomainModule[], names: readonly string[]): DomainModule[] {
  const needed = new Set<string>();
  const visit = (name: string) => {
    if (needed.has(name)) return;
    needed.add(name);
    for (const dependency of findModule(modules, name).dependsOn ?? []) visit(dependency);
  };
  for (const name of names) visit(name);
  return modules.filter((module) => needed.has(module.name));
}

/** The modules called `names`, in their given order among `modules`; all of them when `names` is empty. */
export function selectModules(
  modules: readonly DomainModule[],
  names: readonly string[] | undefined,
): DomainModule[] {
  if (!names || names.length === 0) return [...modules];
  for (const name of names) findModule(modules, name);
  return modules.filter((module) => names.includes(module.name));
}
