import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { DataDirInUseError } from './errors.ts';

/** Held by the process that has the embedded data directory open; `release` once PGlite is closed. */
export interface DataDirLock {
  release(): void;
}

const SQLITE_BUSY = 5;

function holderPid(pidFile: string): number | undefined {
  try {
    const pid = readFileSync(pidFile, 'utf8').trim();
    return /^\d+$/.test(pid) ? Number(pid) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Takes the embedded data directory for this process, or throws DataDirInUseError naming the process
 * that has it. Two PGlite instances on one directory corrupt it, and PGlite does not guard
 * against that itself.
 *
 * The lock is an exclusive SQLite transaction (node:sqlite, built into Node) kept open on `huddle.lock`
 * in the directory: SQLite takes it as a kernel fcntl lock on that file, so the kernel releases it when the
 * process ends in any way, SIGKILL included — no stale lock to clean up, no native addon, no child
 * process. A second connection in the same process is refused too. `huddle.lock.pid` only names the
 * holder for the message; the lock alone decides.
 */
export function lockDataDir(dataDir: string): DataDirLock {
  const pidFile = path.join(dataDir, 'huddle.lock.pid');
  const lock = new DatabaseSync(path.join(dataDir, 'huddle.lock'), { timeout: 0 });
  try {
    lock.exec('begin exclusive');
  } catch (error) {
    lock.close();
    if ((error as { errcode?: unknown }).errcode !== SQLITE_BUSY) throw error;
    throw new DataDirInUseError(dataDir, holderPid(pidFile), { cause: error });
  }
  writeFileSync(pidFile, `${process.pid}\n`);
  return {
    release() {
      // The pid file goes while the lock is still held, so it never removes the next holder's.
      rmSync(pidFile, { force: true });
      lock.close();
    },
  };
}
