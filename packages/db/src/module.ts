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
import type { EntityManager } from '@mikro-orm/sql';
import type { ActorSpec, ModuleActor } from './actor.ts';
import type { ModuleCommand } from './commands.ts';
import type { Database } from './database.ts';
import type { DatabaseTarget } from './env.ts';
import { ConfigurationError } from './errors.ts';
import type { Operations } from './operations.ts';

/**
 * What every module seeder receives as its context: realistic seeders scale with `scale` and are
 * deterministic for a given `seed`; they report rows as they write them so a CLI can show progress.
 */
export interface SeedContext<Resources = unknown> {
  /** The database being seeded: a seeder that writes files keeps them with it (the embedded data directory). */
  target: DatabaseTarget;
  scale: number;
  seed: number;
  /** `total` is the number of rows the seeder will write to `table`; `written` grows towards it. */
  progress(table: string, written: number, total: number): void;
  /** The module's resources (`DomainModule.resources`), as its operations and jobs receive them. */
  resources: Resources;
}

/** A module seeder: a MikroORM Seeder whose context is a SeedContext. */
export type ModuleSeeder = Constructor<Seeder<SeedContext & Dictionary>>;

/** What a job did, for its log line and for `huddle jobs run`. */
export interface JobReport {
  /** Rows the run changed (0 when there was nothing to do: jobs are idempotent). */
  rows: number;
  /** One line saying what those rows were, e.g. `3 tasks marked delayed, 3 notifications`. */
  summary: string;
}

/**
 * Scheduled maintenance a module declares (`huddle jobs run <module>.<name>`, or the API on `schedule`). A
 * run is one transaction as the owner role; running it twice in a row changes nothing the second time.
 */
export interface ModuleJob<Resources = unknown> {
  /** Unique within the module, kebab-case: `detect-delays`. */
  name: string;
  description: string;
  /** Default schedule, a five-field cron expression in UTC: `*\/15 * * * *`. */
  schedule: string;
  run(em: EntityManager, context: { now: Date; resources: Resources }): Promise<JobReport>;
}

/** One delivery to a module's webhook: its raw body (as signed) and its headers. */
export interface WebhookRequest {
  rawBody: string;
  /** A header's value (lower-case name); undefined when absent or repeated. */
  header(name: string): string | undefined;
}

/**
 * A plain HTTP route a module offers beside its operations, for senders that are other tools (a meeting
 * recorder's webhook), not tRPC clients: `POST <path>` with a bounded body. The API reads the body and maps
 * what `receive` throws as it maps a procedure's errors (a HuddleError naming the field, 4xx; a database
 * fault, 503).
 */
export interface ModuleWebhook<Resources = unknown> {
  /** Its path, e.g. `/webhooks/decisions/transcripts`. */
  path: string;
  /** Handles one delivery: the HTTP status and JSON body to answer with. */
  receive(
    request: WebhookRequest,
    context: { db: Database; resources: Resources },
  ): Promise<{ status: 200 | 201; body: unknown }>;
}

/**
 * What the embedded server's start banner offers a module to show a newcomer: example calls against the
 * seeded data. `tokenFor` signs a token for one of the module's actors.
 */
export interface DemoContext<Actor extends ModuleActor, Resources> {
  db: Database;
  /** The API's base URL, e.g. http://127.0.0.1:4000 */
  url: string;
  resources: Resources;
  tokenFor(actor: Actor): Promise<string>;
}

/**
 * One generation of a module's fuzz fixtures: rows in the states its procedures need, made anew while the
 * fuzz harness runs because calls use them up (removals, completions, archivals).
 */
export interface FuzzFixtureGeneration {
  /** Values of the rows made, by the input field names that take them, newest last. */
  values: Record<string, unknown[]>;
  /**
   * Inputs known to be accepted from the harness's first token of the module, by procedure path: where
   * fields must agree with each other or with the caller, values picked field by field almost never do.
   */
  examples: Record<string, unknown[]>;
}

/**
 * What a module gives the API's fuzz harness (`DomainModule.fuzz`): a valid id is too sparse to guess, so
 * without real rows the harness tests input validation, not the procedures.
 */
export interface ModuleFuzzFixtures<Resources = unknown> {
  /** Values no query reads (bodies, file paths, sign-in credentials), by the input field names that take them. */
  values?: Record<string, unknown[]>;
  /**
   * Statements whose `id` column gives the values of rows that exist, for each of `fields`, newest last;
   * read once, after the first generation.
   */
  sources?: { fields: string[]; sql: string }[];
  /** Token subjects the harness tries first, besides ids 1–8 (a subject that is no number, an admin). */
  subjects?: string[];
  /**
   * Tables a refused call may still change, by procedure path: a single-use row a call consumes before it
   * can be refused (the harness otherwise fails a refused call that changed a table).
   */
  usedUpWhenRefused?: Record<string, string[]>;
  /** The module's resources for the fuzz server, in place of the environment's (a root of its own, a stand-in). */
  resources?: Resources;
  /** Creates generation `generation` (0, 1, …) of the rows calls use up. */
  generation(generation: number): Promise<FuzzFixtureGeneration>;
  /** Removes what the fixtures made outside the database (files, servers). */
  remove?(): Promise<void>;
}

/**
 * What a domain package tells the apps about itself. `@huddle/db` knows nothing else about a domain:
 * it migrates, seeds, maps errors and runs requests and jobs for whatever list of modules an app composes.
 */
export interface DomainModule<
  Actor extends ModuleActor = ModuleActor,
  Resources = unknown,
  Name extends string = string,
  Ops extends Operations = Operations,
> {
  /** Also the module's PostgreSQL schema name (its entities' schema) and the key of its migrations table. */
  name: Name;
  entities: (EntityClass<AnyEntity> | EntitySchema)[];
  /** This module's migrations, oldest first; names must sort in the order they apply. */
  migrations: MigrationObject[];
  seeders: { minimal: ModuleSeeder; realistic?: ModuleSeeder };
  /**
   * The role this module's requests run as (`SET LOCAL ROLE` in `runAsActor` and `runAnonymously`). Its
   * migrations create it (`createRequestRole`) and grant it this module's tables only (`grantRequestAccess`),
   * so a request of one module cannot read another's.
   */
  requestRole: string;
  /** How a token subject becomes this module's actor; modules without users of their own have none. */
  actor?: ActorSpec<Actor>;
  /** What it offers callers: the API's procedures, one per operation (operations.ts). */
  operations?: Ops;
  /**
   * What its operations and jobs need from outside a request (settings, clients), read once when the modules
   * are composed (`ModuleResources.fromEnv`); tests and embedding apps may provide their own instead.
   */
  resources?(env: NodeJS.ProcessEnv): Resources | Promise<Resources>;
  /**
   * How a caller gets a token for this module, in one sentence naming the procedure or command: what the
   * API answers a call without one, and the description of the module's bearer scheme in `/openapi.json`.
   */
  signInHint?: string;
  /** Scheduled maintenance jobs. */
  jobs?: ModuleJob<Resources>[];
  /** Plain HTTP routes for other tools' deliveries (ModuleWebhook). */
  webhooks?: ModuleWebhook<Resources>[];
  /** Operator commands, mounted by the CLI as `huddle <name> <command>` (commands.ts). */
  commands?: ModuleCommand<Resources>[];
  /** Example calls for the embedded server's start banner (the seeded demo data). */
  demo?(context: DemoContext<Actor, Resources>): Promise<string[]>;
  /**
   * The fuzz harness's fixtures in `db`, seeded with the minimal sample data; test-only code, so a module
   * imports it here, when called (`import('./fuzz.ts')`), and never loads it at runtime.
   */
  fuzz?(db: Database): Promise<ModuleFuzzFixtures<Resources>>;
  /** Modules whose migrations must run before this one's. */
  dependsOn?: string[];
}

/** A module that has users: what the apps sign in to and run requests for (`runAsActor`). */
export type ModuleWithActors<Actor extends ModuleActor, Resources = unknown> = DomainModule<
  Actor,
  Resources
> & {
  actor: ActorSpec<Actor>;
};

/** What `module.resources` reads: the resources its operations and jobs receive. */
export type ResourcesOf<Module extends DomainModule> =
  NonNullable<Module['resources']> extends (env: NodeJS.ProcessEnv) => infer Resources
    ? Awaited<Resources>
    : undefined;

/**
 * Every composed module's resources, read once when the modules are composed: what an operation or job of a
 * module receives as `resources`.
 */
export class ModuleResources {
  readonly #byModule: ReadonlyMap<string, unknown>;

  private constructor(byModule: ReadonlyMap<string, unknown>) {
    this.#byModule = byModule;
  }

  /** Each module's resources as its `resources` reads them from `env`. */
  static async fromEnv(
    modules: readonly DomainModule[],
    env: NodeJS.ProcessEnv = process.env,
  ): Promise<ModuleResources> {
    const entries = await Promise.all(
      modules.map(async (module) => [module.name, await module.resources?.(env)] as const),
    );
    return new ModuleResources(new Map(entries));
  }

  /** These resources, with `module`'s replaced (tests, embedding apps). */
  with<Module extends DomainModule>(module: Module, resources: ResourcesOf<Module>): ModuleResources {
    return new ModuleResources(new Map([...this.#byModule, [module.name, resources]]));
  }

  /** `module`'s resources (undefined for a module that declares none). */
  of<Module extends DomainModule>(module: Module): ResourcesOf<Module> {
    // Only `fromEnv` (from the module's own reader) and `with` (typed by the module) put values here.
    return this.#byModule.get(module.name) as ResourcesOf<Module>;
  }
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
