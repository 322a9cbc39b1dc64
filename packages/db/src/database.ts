import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { MikroORM, type Options } from '@mikro-orm/core';
import { Migrator } from '@mikro-orm/migrations';
import { PgliteDriver } from '@mikro-orm/pglite';
import { PostgreSqlDriver } from '@mikro-orm/postgresql';
import { type AbstractSqlDriver, createPostgreSqlTypeParsers, type EntityManager } from '@mikro-orm/sql';
import parseArray from 'postgres-array';
import { type BulkConnection, pgliteBulkConnection, postgresBulkConnection } from './bulk.ts';
import { type DataDirLock, lockDataDir } from './data-dir-lock.ts';
import { type DatabaseTarget, databaseTargetFromEnv, redactUrl, type SessionLimits } from './env.ts';
import { ConfigurationError, DatabaseUnavailableError } from './errors.ts';
import { type EventListener, pgliteEventListener, postgresEventListener } from './events.ts';
import { migrateUp } from './migrations.ts';
import { type DomainModule, orderModules } from './module.ts';
import { platformModule } from './platform.ts';
import { PooledClient } from './prepared.ts';
import { replicaOptions } from './replicas.ts';
import { copyTemplate, holdsDatabase, saveTemplate, templateDirectory } from './template.ts';

export type HuddleOrm = MikroORM<AbstractSqlDriver, EntityManager>;

/** An open database: the runtime ORM over every composed module's entities, plus what migrations need. */
export interface Database {
  readonly target: DatabaseTarget;
  /** Platform first, then the domain modules in dependency order. */
  readonly modules: readonly DomainModule[];
  readonly orm: HuddleOrm;
  /** LISTEN/NOTIFY subscriptions for this process; see `publish`. */
  readonly events: EventListener;
  /** Transactions that can `COPY` (backup and restore). */
  readonly bulk: BulkConnection;
  /** Opens a short-lived ORM that sees only `module`, with its own migrations table; close it after use. */
  openModuleOrm(module: DomainModule): Promise<HuddleOrm>;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  modules: readonly DomainModule[];
  /** Defaults to the target read from the environment (DATABASE_URL, DATABASE_REPLICA_URLS, HUDDLE_DATA_DIR). */
  target?: DatabaseTarget;
  /**
   * Timeouts for every PostgreSQL session of the runtime pool (request-serving processes pass
   * `sessionLimitsFromEnv()`); the migration ORMs and the embedded database run without them.
   */
  sessionLimits?: SessionLimits;
  debug?: boolean;
  /**
   * When the embedded data directory holds no database yet: `'empty'` (the default) creates an empty one;
   * `'migrated'` creates it with every opened module migrated, copied from a template cached per migration
   * list (`template.ts`; the first such start builds the template), which skips PGlite's initdb and every
   * migration; `false` refuses with one line and creates nothing — for commands that only read.
   */
  create?: 'empty' | 'migrated' | false;
}

/**
 * How long a new connection may take, and how long a request waits for a pool connection to come free (pg's
 * pool applies `connectionTimeoutMillis` to both): past it the request fails as DatabaseUnavailableError
 * (the API's 503 with Retry-After) instead of queueing without bound.
 */
const CONNECT_TIMEOUT_MS = 5_000;

/**
 * Every entity lives in its module's schema: the module's name, given once in its DomainModule rather than on
 * each entity.
 */
function moduleSchemas(modules: readonly DomainModule[]): NonNullable<Options['discovery']>['onMetadata'] {
  const schemaByEntity = new Map<unknown, string>(
    modules.flatMap((module) => module.entities.map((entity) => [entity, module.name] as const)),
  );
  return (meta) => {
    const schema = schemaByEntity.get(meta.class) ?? schemaByEntity.get(meta.root?.class);
    if (schema && !meta.schema) meta.schema = schema;
  };
}

/** pg connection options that PostgreSQL applies to the session at connect time. */
function sessionParameters(limits: SessionLimits | undefined) {
  return limits
    ? {
        statement_timeout: limits.statementTimeoutMs,
        idle_in_transaction_session_timeout: limits.idleInTransactionTimeoutMs,
        lock_timeout: limits.lockTimeoutMs,
      }
    : {};
}

function baseOptions(
  target: DatabaseTarget,
  pglite: PGlite | undefined,
  modules: readonly DomainModule[],
  limits: SessionLimits | undefined,
): Partial<Options> {
  const common: Partial<Options> = {
    discovery: {
      warnWhenNoEntities: false,
      onMetadata: moduleSchemas(modules),
      // MikroORM checks table names before onMetadata gives entities their schemas, so poker.users and
      // scrum.users would look like one table; the schemas keep them apart, and the database refuses a true
      // duplicate.
      checkDuplicateTableNames: false,
    },
    allowGlobalContext: false,
    // The database exists before Huddle opens it; migrations create everything inside it.
    ensureDatabase: false,
  };
  if (target.kind === 'postgresql') {
    return {
      ...common,
      driver: PostgreSqlDriver,
      clientUrl: target.url,
      pool: { min: 0, max: target.poolMax },
      driverOptions: {
        connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
        ...sessionParameters(limits),
        Client: PooledClient,
      },
    };
  }
  return { ...common, driver: PgliteDriver, dbName: 'postgres', driverOptions: { pglite } };
}

/**
 * Opens the embedded PGlite cluster in `dataDir` with pgvector, using MikroORM's type parsers, after taking
 * the directory's lock (one process at a time); the caller releases the lock after closing PGlite. A
 * directory without a database gets a copy of `template` when there is one; with `create: false` it is
 * refused before anything is written.
 */
async function openPglite(
  dataDir: string,
  create: OpenDatabaseOptions['create'],
  template: string | undefined,
): Promise<{ pglite: PGlite; lock: DataDirLock; created: boolean; copied: boolean }> {
  const created = !holdsDatabase(dataDir);
  if (created && create === false) {
    throw new ConfigurationError(
      `no embedded database in ${dataDir}: run \`huddle migrate up\` to create it, or set HUDDLE_DATA_DIR (or DATABASE_URL) to the database to use`,
    );
  }
  await mkdir(dataDir, { recursive: true });
  const lock = lockDataDir(dataDir);
  try {
    const copied = created && template !== undefined && (await copyTemplate(template, dataDir));
    const pglite = await PGlite.create(dataDir, {
      extensions: { vector },
      parsers: createPostgreSqlTypeParsers((value) => parseArray.parse(value)),
    });
    return { pglite, lock, created, copied };
  } catch (error) {
    lock.release();
    throw new DatabaseUnavailableError(
      `cannot open the embedded database in ${dataDir}: ${(error as Error).message}`,
      {},
      { cause: error },
    );
  }
}

async function initOrm(options: Partial<Options>, target: DatabaseTarget): Promise<HuddleOrm> {
  let orm: HuddleOrm | undefined;
  try {
    orm = (await MikroORM.init(options)) as unknown as HuddleOrm;
    await orm.em.getConnection().execute('select 1');
    return orm;
  } catch (error) {
    await orm?.close(true).catch(() => undefined);
    const where =
      target.kind === 'postgresql' ? `PostgreSQL at ${redactUrl(target.url)}` : 'the embedded database';
    const reason = (error as Error).message || (error as { code?: string }).code || String(error);
    throw new DatabaseUnavailableError(`cannot reach ${where}: ${reason}`, {}, { cause: error });
  }
}

/**
 * Opens the database for a list of domain modules: `DATABASE_URL` → PostgreSQL with a pool (and one per read
 * replica in `DATABASE_REPLICA_URLS`, opened lazily), otherwise the embedded PGlite in the data directory. Throws DatabaseUnavailableError with one clear line when it can't.
 */
export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  const target = options.target ?? databaseTargetFromEnv();
  const modules = orderModules([platformModule, ...options.modules]);
  const template =
    options.create === 'migrated' && target.kind === 'pglite' ? await templateDirectory(modules) : undefined;
  const embedded =
    target.kind === 'pglite' ? await openPglite(target.dataDir, options.create, template) : undefined;
  const pglite = embedded?.pglite;
  const closeEmbedded = async () => {
    await pglite?.close();
    embedded?.lock.release();
  };
  const debug = options.debug ?? false;
  // Migrations run without the session limits (a schema change may take as long as it takes) and on the
  // primary only; the runtime ORM also holds the read replicas' pools.
  const base = { ...baseOptions(target, pglite, modules, undefined), debug };
  const runtime = {
    ...baseOptions(target, pglite, modules, options.sessionLimits),
    ...replicaOptions(target),
    debug,
  };
  let orm: HuddleOrm;
  try {
    orm = await initOrm({ ...runtime, entities: modules.flatMap((module) => module.entities) }, target);
  } catch (error) {
    await closeEmbedded();
    throw error;
  }

  const events =
    target.kind === 'postgresql' ? postgresEventListener(target.url) : pgliteEventListener(pglite!);
  const bulk =
    target.kind === 'postgresql'
      ? postgresBulkConnection(target.url, CONNECT_TIMEOUT_MS)
      : pgliteBulkConnection(pglite!);
  const db: Database = {
    target,
    modules,
    orm,
    events,
    bulk,
    openModuleOrm: async (module) => {
      // Each module sees only its own schema, so a diff never touches (or drops) another module's tables,
      // nor a schema no module owns (the API's sign-in counters in `huddle_api`, an operator's own schema).
      const foreign = await orm.em
        .fork()
        .execute<{ name: string }[]>(
          "select nspname as name from pg_namespace where nspname not like 'pg\\_%' and nspname not in ('information_schema', 'public')",
        );
      const others = [
        ...new Set([...modules.map((other) => other.name), ...foreign.map((schema) => schema.name)]),
      ].filter((name) => name !== module.name);
      return initOrm(
        {
          ...base,
          ...(target.kind === 'postgresql' && { pool: { min: 0, max: 1 } }),
          entities: module.entities,
          schema: module.name,
          schemaGenerator: { ignoreSchema: others },
          extensions: [Migrator],
          migrations: {
            tableName: `${module.name}.mikro_orm_migrations`,
            migrationsList: module.migrations,
            snapshot: false,
            silent: true,
            transactional: true,
            allOrNothing: true,
          },
        },
        target,
      );
    },
    close: async () => {
      await events.close();
      await orm.close();
      await closeEmbedded();
    },
  };
  if (target.kind === 'pglite' && embedded?.created && template !== undefined && !embedded.copied) {
    await buildTemplate(db, embedded.pglite, target.dataDir, template);
  }
  return db;
}

/**
 * The first `create: 'migrated'` open of a new data directory without a template: migrates it, then saves
 * it (idle, checkpointed) as the template the next new data directory is copied from. The template is a
 * cache: when it cannot be written (a read-only home), the database is still migrated and the start goes on.
 */
async function buildTemplate(db: Database, pglite: PGlite, dataDir: string, template: string): Promise<void> {
  try {
    await migrateUp(db);
    await pglite.exec('checkpoint');
  } catch (error) {
    await db.close();
    throw error;
  }
  await saveTemplate(dataDir, template).catch(() => undefined);
}

/** The EntityManager type every service receives (PostgreSQL and PGlite alike). */
export type { EntityManager };
