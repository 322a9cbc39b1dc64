import path from 'node:path';
import type { Database } from '@huddle/db';

/**
 * Where a command writes, what environment it reads and where its relative paths start: the process's own
 * in `main.ts`, captured in tests, the handing process's in a server running a handed-over command.
 */
export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Set in the server that holds the embedded database when a CLI process handed it the command. */
  handedOver?: HandedOver;
}

/** A command a CLI process handed to the server holding the embedded database (`admin-socket.ts`). */
export interface HandedOver {
  /** The server's open database, which the command works on instead of opening one. */
  database: Database;
  /** Where that database lives. */
  dataDir: string;
  /** The process that handed the command over: `/dev/stdout` in an argument means its standard output. */
  clientPid: number;
}

export interface WithDatabaseOptions {
  /**
   * Open only these modules (platform included) and what they depend on, instead of every composed one:
   * a command about one module loads one module's entities. An unknown name fails before anything opens.
   */
  modules?: readonly string[];
  /**
   * The command migrates (`migrate up`, `restore`): it may create the embedded database when there is none,
   * and runs on a database whose migrations are pending. Every other command creates nothing — a missing
   * embedded database is one line saying how to create it — and refuses a database that is not migrated
   * (or is behind), naming the command to run.
   */
  migrates?: boolean;
  /** Runs on a database whose migrations are pending, but creates nothing (`migrate status`, `check`, `diff`, `down`). */
  readsMigrations?: boolean;
}

/**
 * Opens the database the environment selects, for the modules the CLI composes (or `options.modules`),
 * runs `work`, and always closes it. The data layer loads here, on first use, not when the CLI starts.
 * A command handed over to the server holding the embedded database works on the server's open database
 * (every module) and leaves it open. When another process holds the embedded database, the
 * DataDirInUseError reaches runCli, which hands the command to that process if it is a server.
 */
export async function withDatabase<T>(
  io: CliIo,
  work: (db: Database) => Promise<T>,
  options: WithDatabaseOptions = {},
): Promise<T> {
  const [
    { openDatabase, databaseTargetFromEnv, platformModule, requireMigrated, withDependencies },
    { domainModules },
  ] = await Promise.all([import('@huddle/db'), import('@huddle/composition')]);
  const composed = [platformModule, ...domainModules];
  // An unknown module name is refused here, also in a server running a handed-over command.
  const modules = options.modules ? withDependencies(composed, options.modules) : composed;
  if (io.handedOver) return work(io.handedOver.database);
  const target = databaseTargetFromEnv(io.env);
  // openDatabase puts the platform module first by itself.
  const db = await openDatabase({
    modules: modules.filter((module) => module !== platformModule),
    target,
    create: options.migrates ? 'empty' : false,
  });
  try {
    if (!options.migrates && !options.readsMigrations) await requireMigrated(db);
    return await work(db);
  } finally {
    await db.close();
  }
}

/**
 * withDatabase for a command that replaces the data a server serves (restore): handed to the server that
 * holds the embedded database, it is refused with one line saying to stop the server first, and changes
 * nothing.
 */
export async function withDatabaseToItself<T>(
  io: CliIo,
  command: string,
  work: (db: Database) => Promise<T>,
  options: WithDatabaseOptions = {},
): Promise<T> {
  if (io.handedOver) {
    const { DatabaseUnavailableError } = await import('@huddle/db');
    throw new DatabaseUnavailableError(
      `${command} needs the embedded database in ${io.handedOver.dataDir} to itself, and the running API server (process ${process.pid}) serves it: stop the server first, then run ${command} again`,
    );
  }
  return withDatabase(io, work, options);
}

/** Writes `value` as JSON (for scripts) or `text` (for people) to stdout. */
export function output(io: CliIo, json: boolean | undefined, value: unknown, text: () => string): void {
  io.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${text()}\n`);
}

const PER_PROCESS_FILE = /^\/dev\/(?:(stdout)|(stderr)|fd\/(\d+))$/;

/**
 * Where a file argument is: relative to the caller's working directory; in a server running a handed-over
 * command, `/dev/stdout`, `/dev/stderr` and `/dev/fd/<n>` are the handing process's (through /proc), not
 * the server's own.
 */
export function filePath(io: CliIo, file: string): string {
  const perProcess = PER_PROCESS_FILE.exec(file);
  if (!io.handedOver || !perProcess) return path.resolve(io.cwd, file);
  const fd = perProcess[1] ? 1 : perProcess[2] ? 2 : Number(perProcess[3]);
  return `/proc/${io.handedOver.clientPid}/fd/${fd}`;
}
