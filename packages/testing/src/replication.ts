import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Database, type DomainModule, migrateUp, openDatabase } from '@huddle/db';
import { afterAll, beforeAll } from 'vitest';
import { createDatabase, databaseUrl, withClient } from './databases.ts';
import {
  findPostgresBinaries,
  freePort,
  initCluster,
  postgresPrograms,
  restartCluster,
  startCluster,
  stopCluster,
} from './server.ts';

/** A throwaway primary and a streaming replica of it, on loopback; both URLs connect as the superuser. */
export interface ReplicatedServers {
  /** The primary's `postgres` database. */
  primaryUrl: string;
  /** The same database on the replica (a hot standby: read-only). */
  replicaUrl: string;
  /** Restarts one server (`pg_ctl restart -m fast`: every session ends) and waits until it accepts connections. */
  restart(server: 'primary' | 'replica'): Promise<void>;
  stop(): Promise<void>;
}

const NEEDS_BINARIES =
  'a primary with a streaming replica needs the PostgreSQL server binaries on this machine (initdb, pg_ctl, pg_basebackup; a container runtime or TEST_DATABASE_URL is not enough): `bash scripts/provision-postgres.sh` (Debian), or set PG_BIN_DIR';

/**
 * Starts a primary (initdb: `wal_level=replica` and `hot_standby=on` are PostgreSQL's defaults, and initdb's
 * trust authentication covers replication connections) and a hot standby cloned from it with
 * `pg_basebackup -R` (which writes `primary_conninfo` and `standby.signal`), each on a free loopback port. Needs the local PostgreSQL binaries, whatever server the rest of the suite uses.
 */
export async function startReplicatedServers(): Promise<ReplicatedServers> {
  const binDir = await findPostgresBinaries();
  if (!binDir || !existsSync(path.join(binDir, 'pg_basebackup'))) throw new Error(NEEDS_BINARIES);
  const programs = await postgresPrograms(binDir);
  const root = await mkdtemp(path.join(tmpdir(), 'huddle-pg-pair-'));
  const primaryDir = path.join(root, 'primary');
  const replicaDir = path.join(root, 'replica');
  const stop = async () => {
    await stopCluster(programs, replicaDir);
    await stopCluster(programs, primaryDir);
    await rm(root, { recursive: true, force: true });
  };
  try {
    for (const dir of [root, primaryDir, replicaDir]) {
      if (dir !== root) await mkdir(dir, { mode: 0o700 });
      await programs.own(dir);
    }
    await initCluster(programs, primaryDir);
    const primaryPort = await freePort();
    await startCluster(programs, primaryDir, primaryPort, root);
    await programs.run('pg_basebackup', [
      '-D',
      replicaDir,
      '-R',
      '-X',
      'stream',
      '--checkpoint=fast',
      '--no-sync',
      '-h',
      '127.0.0.1',
      '-p',
      String(primaryPort),
      '-U',
      'postgres',
    ]);
    const replicaPort = await freePort();
    await startCluster(programs, replicaDir, replicaPort, root);
    return {
      primaryUrl: `postgres://postgres@127.0.0.1:${primaryPort}/postgres`,
      replicaUrl: `postgres://postgres@127.0.0.1:${replicaPort}/postgres`,
      restart: (server) => restartCluster(programs, server === 'primary' ? primaryDir : replicaDir),
      stop,
    };
  } catch (error) {
    await stop();
    throw new Error(
      `could not start a primary and a streaming replica with ${binDir}: ${(error as Error).message}`,
    );
  }
}

/**
 * Waits until the replica at `replicaUrl` has replayed everything the primary at `primaryUrl` had written
 * when called (a replica whose replay is paused never does: resume it first). Fails after `timeoutMs`.
 */
export async function waitForReplay(
  primaryUrl: string,
  replicaUrl: string,
  timeoutMs = 10_000,
): Promise<void> {
  const { rows } = await withClient(primaryUrl, (client) =>
    client.query<{ lsn: string }>('select pg_current_wal_insert_lsn()::text as lsn'),
  );
  const target = rows[0]!.lsn;
  const deadline = Date.now() + timeoutMs;
  await withClient(replicaUrl, async (client) => {
    for (;;) {
      const { rows: replayed } = await client.query<{ done: boolean }>(
        'select pg_last_wal_replay_lsn() >= $1::pg_lsn as done',
        [target],
      );
      if (replayed[0]!.done) return;
      if (Date.now() > deadline)
        throw new Error(`the replica did not replay up to ${target} in ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  });
}

/**
 * Registers beforeAll/afterAll hooks giving the test file a primary and a streaming replica of its own
 * (startReplicatedServers) with `modules` migrated into a `huddle` database on the primary, and that database
 * opened with the replica as its read replica (`replicaUrls`) once the replica has replayed the migrations.
 * `primaryUrl` and `replicaUrl` connect to that database on each server as the superuser. Everything stops
 * after the file, whether its tests passed or not.
 */
export function useReplicatedDatabase(modules: readonly DomainModule[]): {
  readonly db: Database;
  readonly primaryUrl: string;
  readonly replicaUrl: string;
  restart(server: 'primary' | 'replica'): Promise<void>;
} {
  let servers: ReplicatedServers | undefined;
  let urls: { primaryUrl: string; replicaUrl: string } | undefined;
  let db: Database | undefined;
  beforeAll(async () => {
    servers = await startReplicatedServers();
    await createDatabase(servers.primaryUrl, 'huddle');
    urls = {
      primaryUrl: databaseUrl(servers.primaryUrl, 'huddle'),
      replicaUrl: databaseUrl(servers.replicaUrl, 'huddle'),
    };
    db = await openDatabase({
      modules,
      target: { kind: 'postgresql', url: urls.primaryUrl, poolMax: 10, replicaUrls: [urls.replicaUrl] },
    });
    await migrateUp(db);
    // On the servers' `postgres` databases: the replica may not have replayed CREATE DATABASE yet.
    await waitForReplay(servers.primaryUrl, servers.replicaUrl);
  });
  afterAll(async () => {
    await db?.close();
    await servers?.stop();
  });
  const started = () => {
    if (!db || !urls) throw new Error('useReplicatedDatabase: the database is only available inside tests');
    return { db, ...urls };
  };
  return {
    get db() {
      return started().db;
    },
    get primaryUrl() {
      return started().primaryUrl;
    },
    get replicaUrl() {
      return started().replicaUrl;
    },
    restart: (server) => {
      if (!servers) throw new Error('useReplicatedDatabase: the servers are only available inside tests');
      return servers.restart(server);
    },
  };
}
