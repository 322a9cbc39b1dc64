import pg from 'pg';
import { quoteIdentifier } from './catalog/introspect.ts';
import type { Database, HuddleOrm } from './database.ts';
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
async function underMigrationLock<T>(db: Database, work: () => Promise<T>): Promise<T> {
  if (db.target.kind !== 'postgresql') return work();
  const session = new pg.Client({ connectionString: db.target.url });
  // A lost connection fails the statement in flight; the event itself must not end the process.
  session.on('error', () => undefined);
  await session.connect();
  try {
    await session.query("select pg_advisory_lock(hashtext('huddle.migrations'))");
    return await work();
  } finally {
    await session.end();
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
 * lock (`underMigrationLock`).
 */
export async function migrateUp(
  db: Database,
  selection: MigrationSelection = {},
): Promise<ModuleMigrationStatus[]> {
  const modules = selection.module ? withDependenciesAndPlatform(db, selection.module) : [...db.modules];
  return underMigrationLock(db, async () => {
    const results: ModuleMigrationStatus[] = [];
    for (const module of modules) {
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
