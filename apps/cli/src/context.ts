import { domainModules } from '@huddle/composition';
import { type Database, openDatabase } from '@huddle/db';

/** Opens the database for every module the CLI composes, runs `work`, and always closes it. */
export async function withDatabase<T>(work: (db: Database) => Promise<T>): Promise<T> {
  const db = await openDatabase({ modules: domainModules });
  try {
    return await work(db);
  } finally {
    await db.close();
  }
}

/** Writes `value` as JSON (for scripts) or `text` (for people) to stdout. */
export function output(json: boolean | undefined, value: unknown, text: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${text()}\n`);
}
