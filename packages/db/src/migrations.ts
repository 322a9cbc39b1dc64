import pg from 'pg';
import { quoteIdentifier } from './catalog/introspect.ts';
import type { Database, HuddleOrm } from './database.ts';
import { describeTarget } from './env.ts';
import { ConfigurationError } from './errors.ts';
import { type DomainModule, findModule, withDependencies } from './module.ts';

export interface ModuleMigrationStatus {
  module: string;
  applied: string[];
  pending: string[];
}

export interface ModuleMigrationCheck extends ModuleMigrationStatus {
  /** SQL that would bring the database in line with the module's entities; empty when they agree. */
  drift: string[];
  ok: boolean;
}

export interface MigrationSelection {
  /** Restrict to one module (plus, for `up`, the modules it depends on; for `down`, the ones depending on it). */
  module?: string;
}

async function withModuleOrm<T>(db: Database, module: DomainModule, work: (orm: HuddleOrm) => Promise<T>) {
  const orm = await db.openModuleOrm(module);
  try {
    return await work(orm);
  } finally {
    await orm.close();
  }
}

/**
 * Runs `work` holding the database's migration lock: on PostgreSQL a session advisory lock on a connection of
 * its own (released when that session ends, also when the process dies), so processes that start together
 * on one database — API processes behind a load balancer, a CLI — change the schema one after another and
 * the later ones find nothing pending. The embedded database has one process by design (its directory lock).
 */
async function underMigrationLock<T>(
  db: Database,
  work: (session: pg.Client | undefined) => Promise<T>,
): Promise<T> {
  if (db.target.kind !== 'postgresql') return work(undefined);
  const session = new pg.Client({ connectionString: db.target.url });
  // A lost connection fails the statement in flight; the event itself must not end the process.
  session.on('error', () => undefined);
  await session.connect();
  try {
    await session.query("select pg_advisory_lock(hashtext('huddle.migrations'))");
    return await work(session);
  } finally {
    await session.end();
  }
}

/** insufficient_privilege; and a server without pgvector's files (feature_not_supported, undefined_file). */
const INSUFFICIENT_PRIVILEGE = '42501';
const EXTENSION_NOT_AVAILABLE = new Set(['0A000', '58P01']);

/**
 * The platform's first migration creates the `vector` extension, which only a superuser may create where
 * pgvector is not a trusted extension — and a managed server's database owner is no superuser. Tried first in
 * a transaction that is rolled back, so that a refusal names the SQL an administrator must run, and nothing
 * (not even the platform's schema and migrations table) has been created.
 */
async function requireVectorExtension(session: pg.Client): Promise<void> {
  const { rows } = await session.query<{ database: string; owner: string; installed: boolean }>(
    "select current_database() as database, current_user as owner, exists (select 1 from pg_extension where extname = 'vector') as installed",
  );
  const { database, owner, installed } = rows[0]!;
  if (installed) return;
  const administrator = `as a superuser, run \`CREATE EXTENSION vector;\` in database "${database}", then \`huddle migrate up\` again`;
  await session.query('begin');
  try {
    await session.query('create extension vector');
  } catch (error) {
    const code = (error as { code?: string }).code ?? '';
    if (code === INSUFFICIENT_PRIVILEGE) {
      throw new ConfigurationError(
        `the vector extension is not installed in database "${database}" and ${owner} may not create it: ${administrator}`,
        {},
        { cause: error },
      );
    }
    if (EXTENSION_NOT_AVAILABLE.has(code)) {
      throw new ConfigurationError(
        `the server has no vector extension (pgvector) to install in database "${database}": install pgvector on it, then ${administrator}`,
        {},
        { cause: error },
      );
    }
    throw error;
  } finally {
    await session.query('rollback');
  }
}

/** The module and everything it depends on, in migration order, after the platform module. */
function withDependenciesAndPlatform(db: Database, name: string): DomainModule[] {
  // The platform module is implicitly depended on by every module.
  return withDependencies(db.modules, [db.modules[0]!.name, name]);
}

/** The module and everything that depends on it, in migration order. */
function withDependents(db: Database, name: string): DomainModule[] {
  const affected = new Set([findModule(db.modules, name).name]);
  const isPlatform = name === db.modules[0]!.name;
  for (const module of db.modules) {
    if (isPlatform || module.dependsOn?.some((dependency) => affected.has(dependency)))
      affected.add(module.name);
  }
  return db.modules.filter((module) => affected.has(module.name));
}

function sqlLines(sql: string): string[] {
  return sql
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
}

/**
 * Applies pending migrations, platform first, then each module in dependency order, under the migration
 * lock (`underMigrationLock`). A module with nothing pending is left alone: no migration ORM is opened for
 * it, so a start on a current database costs two statements.
 */
export async function migrateUp(
  db: Database,
  selection: MigrationSelection = {},
): Promise<ModuleMigrationStatus[]> {
  const modules = selection.module ? withDependenciesAndPlatform(db, selection.module) : [...db.modules];
  return underMigrationLock(db, async (session) => {
    const status = await migrationStatus(db);
    if (session && status[0]!.pending.length > 0) await requireVectorExtension(session);
    const results: ModuleMigrationStatus[] = [];
    for (const module of modules) {
      if (status.find((entry) => entry.module === module.name)?.pending.length === 0) {
        results.push({ module: module.name, applied: [], pending: [] });
        continue;
      }
      results.push(
        await withModuleOrm(db, module, async (orm) => {
          const applied = await orm.migrator.up();
          return { module: module.name, applied: applied.map((info) => info.name), pending: [] };
        }),
      );
    }
    return results;
  });
}

export interface MigrateDownOptions extends MigrationSelection {
  /** Revert every migration of the selected modules (dependents first) instead of only the latest one. */
  all?: boolean;
}

/**
 * Reverts migrations in reverse dependency order. Without `all`, reverts the single most recent migration
 * of the selected module (or of the last module that has any applied); with `all`, reverts everything
 * of the selected modules and of the modules depending on them. Under the migration lock, as `migrateUp`.
 */
export async function migrateDown(
  db: Database,
  options: MigrateDownOptions = {},
): Promise<ModuleMigrationStatus[]> {
  const selected = options.module ? withDependents(db, options.module) : [...db.modules];
  return underMigrationLock(db, async () => {
    const results: ModuleMigrationStatus[] = [];
    for (const module of [...selected].reverse()) {
      if (!options.all && options.module && module.name !== options.module) continue;
      const reverted = await withModuleOrm(db, module, async (orm) => {
        const executed = await orm.migrator.getExecuted();
        if (executed.length === 0) return [];
        const infos = options.all ? await orm.migrator.down({ to: 0 }) : await orm.migrator.down();
        return infos.map((info) => info.name);
      });
      results.push({ module: module.name, applied: [], pending: reverted });
      if (!options.all && reverted.length > 0) break;
    }
    return results;
  });
}

/** The selected module only (unknown → ConfigurationError), or every module. */
function selected(db: Database, selection: MigrationSelection): readonly DomainModule[] {
  return selection.module ? [findModule(db.modules, selection.module)] : db.modules;
}

/**
 * Applied and pending migrations per module, in migration order. Reads the modules' migrations tables
 * through the runtime ORM in two statements whatever the number of modules (which tables exist, then all
 * of their rows), with no extra ORM or connection, so `health` can call it freely.
 */
export async function migrationStatus(
  db: Database,
  selection: MigrationSelection = {},
): Promise<ModuleMigrationStatus[]> {
  const modules = selected(db, selection);
  const em = db.orm.em.fork();
  const existing = await em.execute<{ module: string }[]>(
    `select n.nspname as module from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where c.relname = 'mikro_orm_migrations' and c.relkind in ('r', 'p') and n.nspname in (${modules
       .map(() => '?')
       .join(', ')})`,
    modules.map((module) => module.name),
  );
  const rows =
    existing.length === 0
      ? []
      : await em.execute<{ module: string; name: string }[]>(
          existing
            .map(
              ({ module }) =>
                `(select ? as module, name, id from ${quoteIdentifier(module)}.mikro_orm_migrations)`,
            )
            .join(' union all ')
            .concat(' order by module, id'),
          existing.map(({ module }) => module),
        );
  return modules.map((module) => {
    const applied = rows.filter((row) => row.module === module.name).map((row) => row.name);
    const pending = module.migrations
      .map((migration) => migration.name)
      .filter((name) => !applied.includes(name));
    return { module: module.name, applied, pending };
  });
}

/**
 * Refuses a database on which a module it is opened for has pending migrations — not migrated, or behind
 * the code — with one line naming the database, the modules and the command to run: a command would
 * otherwise fail on the first table or column it lacks, with PostgreSQL's words.
 */
export async function requireMigrated(db: Database): Promise<void> {
  const behind = (await migrationStatus(db)).filter((module) => module.pending.length > 0);
  if (behind.length === 0) return;
  const state = behind.every((module) => module.applied.length === 0) ? 'is not migrated' : 'is behind';
  const pending = behind.reduce((count, module) => count + module.pending.length, 0);
  throw new ConfigurationError(
    `${describeTarget(db.target)} ${state} (${pending} pending migrations of ${behind
      .map((module) => module.module)
      .join(', ')}): run \`huddle migrate up\``,
  );
}

/**
 * For each module (or the selected one): its migration status and the SQL its entities would still need
 * against the database. A module is ok when nothing is pending and its entities and migrated schema agree.
 */
export async function migrationCheck(
  db: Database,
  selection: MigrationSelection = {},
): Promise<ModuleMigrationCheck[]> {
  const results: ModuleMigrationCheck[] = [];
  for (const status of await migrationStatus(db, selection)) {
    const module = findModule(db.modules, status.module);
    const drift = await withModuleOrm(db, module, async (orm) =>
      sqlLines(await orm.schema.getUpdateSchemaSQL({ wrap: false })),
    );
    results.push({ ...status, drift, ok: status.pending.length === 0 && drift.length === 0 });
  }
  return results;
}

/**
 * The SQL (up and down) that would bring `module`'s schema in line with its entities, against the current
 * database: the starting point for a module's next migration, to be reviewed and put in a Migration class.
 */
export async function migrationDiff(
  db: Database,
  moduleName: string,
): Promise<{ up: string[]; down: string[] }> {
  const module = findModule(db.modules, moduleName);
  return withModuleOrm(db, module, async (orm) => {
    const { up, down } = await orm.schema.getUpdateSchemaMigrationSQL({ wrap: false });
    return { up: sqlLines(up), down: sqlLines(down) };
  });
}
