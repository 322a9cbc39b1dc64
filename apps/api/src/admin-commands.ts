import type { Database } from '@huddle/db';
import { logger } from './logger.ts';

/** Admin commands served beside the API on its open embedded database, until closed. */
export interface AdminCommands {
  /** Takes no more commands, waits up to `drainMs` for the running ones, then ends them. */
  close(drainMs: number): Promise<void>;
}

/**
 * Starts serving admin commands on the open embedded database `db`; `onError` hears what goes wrong once they
 * are served (a failed accept), which must not end the API.
 */
export type AdminCommandsStarter = (db: Database, onError: (error: Error) => void) => Promise<AdminCommands>;

let adminCommandsStarter: AdminCommandsStarter | undefined;

/**
 * Plugs in what serves the CLI's commands while this process holds the embedded database (one process at
 * a time): `huddle serve` plugs in the CLI's admin socket before the API starts. The API alone has no
 * commands to serve, so without it the data directory stays this process's alone.
 */
export function useAdminCommands(start: AdminCommandsStarter): void {
  adminCommandsStarter = start;
}

/**
 * Starts the plugged-in admin commands on an embedded database (on PostgreSQL the CLI opens connections of
 * its own). One that cannot start is logged and left off: the API serves anyway, and the CLI says the
 * data directory is in use, as it does without them.
 */
export async function serveAdminCommands(db: Database): Promise<AdminCommands | undefined> {
  if (db.target.kind !== 'pglite' || !adminCommandsStarter) return undefined;
  try {
    return await adminCommandsStarter(db, (error) =>
      logger.error({ err: error }, `admin commands: ${error.message}`),
    );
  } catch (error) {
    logger.warn({ err: error }, `admin commands are off: ${(error as Error).message}`);
    return undefined;
  }
}
