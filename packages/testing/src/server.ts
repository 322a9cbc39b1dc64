import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chown, mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { homedir, tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A PostgreSQL server a test run may create and drop databases on. */
export interface TestServer {
  /** Connection URL of the server's `postgres` database, as a superuser. */
  url: string;
  source: 'TEST_DATABASE_URL' | 'testcontainers' | 'local cluster';
  stop(): Promise<void>;
}

const PGVECTOR_IMAGE = 'pgvector/pgvector:0.8.0-pg15';

const HOW_TO_GET_ONE = [
  'no PostgreSQL server for the tests. Any one of these works:',
  '  - set TEST_DATABASE_URL to a server (with pgvector) where the tests may create databases;',
  '  - start Docker (or another container runtime) so testcontainers can run a pgvector image;',
  '  - install PostgreSQL 15 and pgvector: `bash scripts/provision-postgres.sh` (Debian), or set PG_BIN_DIR.',
].join('\n');

export interface TestServerOptions {
  /**
   * A throwaway local cluster keeps PostgreSQL's durable defaults (fsync, synchronous commit, full-page
   * writes) instead of turning them off: for benchmarks, whose commits must cost what they cost in
   * production. Servers from TEST_DATABASE_URL or a container are used as they are.
   */
  durable?: boolean;
}

/**
 * Finds a server in order: TEST_DATABASE_URL; a reachable container runtime (testcontainers); PostgreSQL
 * binaries on this machine (a throwaway cluster). Throws an error saying how to get one when all fail.
 */
export async function acquireTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const fromEnv = process.env.TEST_DATABASE_URL;
  if (fromEnv) return { url: fromEnv, source: 'TEST_DATABASE_URL', stop: async () => {} };
  const container = await startContainer();
  if (container) return container;
  const binDir = await findPostgresBinaries();
  if (binDir) return startLocalCluster(binDir, options);
  throw new Error(HOW_TO_GET_ONE);
}

function containerRuntimeMayExist(): boolean {
  return Boolean(
    process.env.DOCKER_HOST ||
      process.env.TESTCONTAINERS_HOST_OVERRIDE ||
      existsSync('/var/run/docker.sock') ||
      existsSync(path.join(homedir(), '.docker/run/docker.sock')) ||
      existsSync(path.join(homedir(), '.testcontainers.properties')),
  );
}

async function startContainer(): Promise<TestServer | undefined> {
  // Probing a runtime that isn't there costs seconds, so only ask when there are signs of one.
  if (!containerRuntimeMayExist()) return undefined;
  const { getContainerRuntimeClient } = await import('testcontainers');
  try {
    await getContainerRuntimeClient();
  } catch {
    return undefined;
  }
  const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
  const container = await new PostgreSqlContainer(PGVECTOR_IMAGE)
    .withDatabase('postgres')
    .withUsername('postgres')
    .withPassword('postgres')
    .start();
  return {
    url: container.getConnectionUri(),
    source: 'testcontainers',
    stop: async () => {
      await container.stop();
    },
  };
}

async function hasInitdb(dir: string): Promise<boolean> {
  return existsSync(path.join(dir, 'initdb')) && existsSync(path.join(dir, 'pg_ctl'));
}

/** PG_BIN_DIR, else `pg_config --bindir` on the PATH, else Debian's newest /usr/lib/postgresql/<v>/bin. */
export async function findPostgresBinaries(): Promise<string | undefined> {
  const explicit = process.env.PG_BIN_DIR;
  if (explicit) return (await hasInitdb(explicit)) ? explicit : undefined;
  try {
    const { stdout } = await run('pg_config', ['--bindir']);
    if (await hasInitdb(stdout.trim())) return stdout.trim();
  } catch {
    // no pg_config on the PATH; try Debian's layout
  }
  const debianRoot = '/usr/lib/postgresql';
  if (!existsSync(debianRoot)) return undefined;
  const versions = (await readdir(debianRoot))
    .filter((name) => /^\d+$/.test(name))
    .sort((a, b) => Number(b) - Number(a));
  for (const version of versions) {
    const dir = path.join(debianRoot, version, 'bin');
    if (await hasInitdb(dir)) return dir;
  }
  return undefined;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** The PostgreSQL programs of one binaries folder, for throwaway clusters. */
export interface PostgresPrograms {
  /** Runs `program` (`initdb`, `pg_ctl`, …), as the `postgres` user when this process is root (initdb refuses root). */
  run(program: string, args: string[]): Promise<unknown>;
  /** Hands a new directory to the user the programs run as, before they write into it. */
  own(dir: string): Promise<void>;
}

export async function postgresPrograms(binDir: string): Promise<PostgresPrograms> {
  if (userInfo().uid !== 0) {
    return { run: (program, args) => run(path.join(binDir, program), args), own: async () => {} };
  }
  const [{ stdout: uid }, { stdout: gid }] = await Promise.all([
    run('id', ['-u', 'postgres']),
    run('id', ['-g', 'postgres']),
  ]).catch(() => {
    throw new Error(`running as root needs a "postgres" user to own the test cluster.\n${HOW_TO_GET_ONE}`);
  });
  return {
    run: (program, args) => run('runuser', ['-u', 'postgres', '--', path.join(binDir, program), ...args]),
    own: (dir) => chown(dir, Number(uid), Number(gid)),
  };
}

/** `initdb` for a throwaway cluster: superuser `postgres`, trust authentication (replication included). */
export async function initCluster(programs: PostgresPrograms, dataDir: string): Promise<void> {
  await programs.run('initdb', [
    '-D',
    dataDir,
    '-U',
    'postgres',
    '--auth=trust',
    '-E',
    'UTF8',
    '--no-sync',
    '--no-instructions',
  ]);
}

/**
 * Starts the cluster in `dataDir` on 127.0.0.1:`port`, its socket in `socketDir`, and waits until it accepts
 * connections (read-only ones, for a standby).
 */
export async function startCluster(
  programs: PostgresPrograms,
  dataDir: string,
  port: number,
  socketDir: string,
  { durable = false }: TestServerOptions = {},
): Promise<void> {
  // Durability is irrelevant for a throwaway test cluster; turning it off makes CREATE DATABASE and commits
  // cheap.
  const settings = [
    `-p ${port}`,
    `-k ${socketDir}`,
    '-c listen_addresses=127.0.0.1',
    ...(durable ? [] : ['-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off']),
    '-c max_connections=300',
  ].join(' ');
  await programs.run('pg_ctl', [
    '-D',
    dataDir,
    '-l',
    path.join(dataDir, 'server.log'),
    '-o',
    settings,
    '-w',
    '-t',
    '60',
    'start',
  ]);
}

/**
 * Restarts the cluster in `dataDir` with the settings it was started with (`pg_ctl restart` reads them
 * back): a fast shutdown ends every session, then it waits until the server accepts connections again.
 */
export async function restartCluster(programs: PostgresPrograms, dataDir: string): Promise<void> {
  await programs.run('pg_ctl', [
    '-D',
    dataDir,
    '-l',
    path.join(dataDir, 'server.log'),
    '-m',
    'fast',
    '-w',
    '-t',
    '60',
    'restart',
  ]);
}

/** Stops the cluster in `dataDir` at once, if it runs. */
export async function stopCluster(programs: PostgresPrograms, dataDir: string): Promise<void> {
  await programs.run('pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
}

async function startLocalCluster(
  binDir: string,
  { durable = false }: TestServerOptions,
): Promise<TestServer> {
  const programs = await postgresPrograms(binDir);
  const dir = await mkdtemp(path.join(tmpdir(), 'huddle-pg-'));
  const stopAndRemove = async () => {
    await stopCluster(programs, dir);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await programs.own(dir);
    await initCluster(programs, dir);
    const port = await freePort();
    await startCluster(programs, dir, port, dir, { durable });
    return {
      url: `postgres://postgres@127.0.0.1:${port}/postgres`,
      source: 'local cluster',
      stop: stopAndRemove,
    };
  } catch (error) {
    await stopAndRemove();
    throw new Error(
      `could not start a throwaway PostgreSQL cluster with ${binDir}: ${(error as Error).message}`,
    );
  }
}
