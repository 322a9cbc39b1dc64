import { type Database, type DomainModule, migrateUp, openDatabase } from '@huddle/db';
import { afterAll, beforeAll, inject } from 'vitest';
import type { TestProject } from 'vitest/node';
import { createDatabase, databaseUrl, dropDatabase, testDatabaseName, withClient } from './databases.ts';
import { acquireTestServer } from './server.ts';

export { actingIn } from './acting.ts';
export { type SchemaSnapshot, schemaSnapshot } from './catalog.ts';
export { itRefusesEach, type RefusedRow, sqlProbe } from './constraints.ts';
export { createDatabase, databaseUrl, dropDatabase, listDatabases, withClient } from './databases.ts';
export { eventually, expectHuddleError, settleAll, useSqlClient } from './helpers.ts';
export {
  type ReplicatedServers,
  startReplicatedServers,
  useReplicatedDatabase,
  waitForReplay,
} from './replication.ts';
export { acquireTestServer, findPostgresBinaries, freePort, type TestServer } from './server.ts';

/** What the global setup hands to every test file of a run. */
export interface HuddleTestContext {
  serverUrl: string;
  source: string;
  /** A database with every module of the suite migrated, cloned cheaply per test file. */
  template: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    huddle: HuddleTestContext;
  }
}

/**
 * A vitest globalSetup: finds a server (see acquireTestServer), migrates `modules` once into a template
 * database, and on teardown drops it and stops whatever it started, also when tests failed.
 */
export function huddleGlobalSetup(modules: readonly DomainModule[]) {
  return async (project: TestProject) => {
    const server = await acquireTestServer();
    const template = testDatabaseName('tpl');
    const teardown = async () => {
      await dropDatabase(server.url, template).catch(() => undefined);
      await server.stop();
    };
    try {
      await createDatabase(server.url, template);
      const db = await openDatabase({
        modules,
        target: { kind: 'postgresql', url: databaseUrl(server.url, template), poolMax: 1 },
      });
      try {
        await migrateUp(db);
      } finally {
        await db.close();
      }
    } catch (error) {
      await teardown();
      throw error;
    }
    project.provide('huddle', { serverUrl: server.url, source: server.source, template });
    return teardown;
  };
}

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/**
 * A new database for one test file: a copy of the migrated template, or, with `migrated: false`, an empty
 * one (for tests that run migrations themselves).
 */
export async function createTestDatabase(options: { migrated?: boolean } = {}): Promise<TestDatabase> {
  const { serverUrl, template } = inject('huddle');
  const name = testDatabaseName('db');
  await createDatabase(serverUrl, name, options.migrated === false ? 'template0' : template);
  return { name, url: databaseUrl(serverUrl, name), drop: () => dropDatabase(serverUrl, name) };
}

/**
 * A new, empty database owned by a new **non-superuser** login role with CREATEROLE — as on managed
 * PostgreSQL — with the `vector` extension created beforehand by the superuser (as an administrator would
 * there), unless `vector: false`. `url` connects as that owner; `drop` removes the database and the role.
 */
export async function createOwnedTestDatabase(
  options: { vector?: boolean } = {},
): Promise<TestDatabase & { owner: string }> {
  const { serverUrl } = inject('huddle');
  const name = testDatabaseName('db');
  const owner = `${name}_owner`;
  await withClient(serverUrl, (client) => client.query(`create role "${owner}" login createrole`));
  await createDatabase(serverUrl, name, 'template0');
  await withClient(serverUrl, (client) => client.query(`alter database "${name}" owner to "${owner}"`));
  if (options.vector !== false) {
    await withClient(databaseUrl(serverUrl, name), (client) => client.query('create extension vector'));
  }
  const url = new URL(databaseUrl(serverUrl, name));
  url.username = owner;
  return {
    name,
    owner,
    url: url.toString(),
    drop: async () => {
      await dropDatabase(serverUrl, name);
      await withClient(serverUrl, (client) => client.query(`drop role if exists "${owner}"`));
    },
  };
}

/**
 * Registers beforeAll/afterAll hooks giving the test file its own database opened for `modules` — migrated,
 * or with `migrated: false` empty, for tests that run migrations themselves; read `.db` inside tests. The
 * database is dropped after the file, whether its tests passed or not.
 */
export function useTestDatabase(
  modules: readonly DomainModule[],
  options: { migrated?: boolean } = {},
): { readonly db: Database; readonly url: string } {
  let testDatabase: TestDatabase | undefined;
  let db: Database | undefined;
  beforeAll(async () => {
    testDatabase = await createTestDatabase(options);
    db = await openDatabase({ modules, target: { kind: 'postgresql', url: testDatabase.url, poolMax: 10 } });
  });
  afterAll(async () => {
    await db?.close();
    await testDatabase?.drop();
  });
  return {
    get db() {
      if (!db) throw new Error('useTestDatabase: the database is only available inside tests');
      return db;
    },
    get url() {
      if (!testDatabase) throw new Error('useTestDatabase: the database is only available inside tests');
      return testDatabase.url;
    },
  };
}
