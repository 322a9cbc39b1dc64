import { stat } from 'node:fs/promises';
import path from 'node:path';
import { type Database, type DomainModule, restoreBackup, writeBackup } from '@huddle/db';
import { createDatabase, databaseUrl, dropDatabase, withClient } from '@huddle/testing';
import { count, migratedDatabase, postgresBinary, ratio, run, seconds, timed } from './server.ts';

export interface BackupFigures {
  rows: number;
  huddle: { backup: number; restore: number; bytes: number; restorePhases: RestorePhases };
  postgres: { dump: number; restore: number; bytes: number };
}

/**
 * Where a restore's time goes, in milliseconds: verifying the file (and locking and preparing the target),
 * loading and building indexes and constraints, re-reading every table to compare counts and checksums.
 */
interface RestorePhases {
  verify: number;
  load: number;
  check: number;
}

/** Runs `restoreBackup`, timing its phases by when its progress callbacks first report each one. */
async function timedRestore(db: Database, file: string): Promise<RestorePhases> {
  const started = performance.now();
  let loading: number | undefined;
  let checking: number | undefined;
  await restoreBackup(db, file, {
    onRestore: () => {
      loading ??= performance.now();
    },
    onCheck: () => {
      checking ??= performance.now();
    },
  });
  const ended = performance.now();
  return { verify: loading! - started, load: checking! - loading!, check: ended - checking! };
}

/**
 * `huddle backup` / `huddle restore` (the @huddle/db engine the CLI runs) against `pg_dump -Fc -n <schema>`
 * / `pg_restore` of the same schemas on the same server. pg_restore recreates the schemas in an empty
 * database; huddle restores into a migrated one, as operators use each.
 */
export async function benchBackup(
  serverUrl: string,
  modules: readonly DomainModule[],
  source: { url: string; db: Database },
  workDir: string,
): Promise<BackupFigures> {
  // No timed step pays for what an earlier one left behind: the freshly seeded source gets its hint bits
  // and statistics once (otherwise its first reader, the first backup, would set them), and every step
  // starts after a checkpoint, with no autovacuum of a database from another step running.
  const checkpoint = () => withClient(serverUrl, (client) => client.query('checkpoint'));
  await withClient(source.url, (client) => client.query('vacuum (analyze)'));
  await checkpoint();
  const file = path.join(workDir, 'bench.huddle');
  const backup = await timed(() => writeBackup(source.db, file));
  const rows = backup.result.tables.reduce((sum, table) => sum + table.rows, 0);
  const schemas = [...new Set(backup.result.tables.map((table) => table.schema))];

  const target = await migratedDatabase(serverUrl, 'bench_restore_huddle', modules);
  await checkpoint();
  const restore = await timed(() => timedRestore(target.db, file));
  await target.db.close();
  await dropDatabase(serverUrl, 'bench_restore_huddle');

  const dumpFile = path.join(workDir, 'bench.dump');
  const pgDump = await postgresBinary('pg_dump');
  await checkpoint();
  const dump = await timed(() =>
    run(pgDump, ['-Fc', ...schemas.flatMap((schema) => ['-n', schema]), '-f', dumpFile, source.url]),
  );
  await createDatabase(serverUrl, 'bench_restore_pg');
  const emptyUrl = databaseUrl(serverUrl, 'bench_restore_pg');
  // pg_dump -n leaves out the extension (it lives in public), as an administrator creates it beforehand.
  await withClient(emptyUrl, (client) => client.query('create extension vector'));
  const pgRestore = await postgresBinary('pg_restore');
  await checkpoint();
  const pgRestoreRun = await timed(() => run(pgRestore, ['--exit-on-error', '-d', emptyUrl, dumpFile]));

  return {
    rows,
    huddle: {
      backup: backup.milliseconds,
      restore: restore.milliseconds,
      bytes: (await stat(file)).size,
      restorePhases: restore.result,
    },
    postgres: {
      dump: dump.milliseconds,
      restore: pgRestoreRun.milliseconds,
      bytes: (await stat(dumpFile)).size,
    },
  };
}

export function backupReport(figures: BackupFigures): string[] {
  const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  const phases = figures.huddle.restorePhases;
  return [
    `backup and restore: ${count(figures.rows)} rows`,
    `  huddle backup      ${seconds(figures.huddle.backup).padStart(9)}  ${mb(figures.huddle.bytes).padStart(9)}`,
    `  pg_dump -Fc        ${seconds(figures.postgres.dump).padStart(9)}  ${mb(figures.postgres.bytes).padStart(9)}`,
    `  huddle restore     ${seconds(figures.huddle.restore).padStart(9)}   verify ${seconds(phases.verify)}, load and build ${seconds(phases.load)}, re-read ${seconds(phases.check)}`,
    `  pg_restore         ${seconds(figures.postgres.restore).padStart(9)}`,
    `  backup takes ${ratio(figures.huddle.backup / figures.postgres.dump)} pg_dump's time, restore ${ratio(
      figures.huddle.restore / figures.postgres.restore,
    )} pg_restore's`,
  ];
}
