import type { Database } from '@huddle/db';

/** Where a command writes and what environment it reads: the process's own in `main.ts`, captured in tests. */
export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
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
  const target = databaseTargetFromEnv(io.env);
  const composed = [platformModule, ...domainModules];
  const modules = options.modules ? withDependencies(composed, options.modules) : composed;
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

/** Writes `value` as JSON (for scripts) or `text` (for people) to stdout. */
export function output(io: CliIo, json: boolean | undefined, value: unknown, text: () => string): void {
  io.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${text()}\n`);
}
