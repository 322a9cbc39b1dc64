import type { CopySession } from '../bulk.ts';
import { type CatalogTable, compareText, readCatalog } from '../catalog/introspect.ts';
import type { Database } from '../database.ts';
import { ConfigurationError, ConflictError, HuddleError, toHuddleError } from '../errors.ts';
import { migrateUp, migrationStatus } from '../migrations.ts';
import type { TableProgress } from './dump.ts';
import { type BackupManifest, readBackup, TableDigest, tableLabel, verifyBackup } from './format.ts';
import {
  advanceSequences,
  canonicalColumns,
  copyRowsIn,
  inCanonicalSession,
  loadedRows,
  truncateForLoad,
  withConstraintsBuiltAfter,
} from './table-data.ts';

export interface RestoreOptions {
  /** Replace the rows of a non-empty target: truncate the backed-up tables first, in the same transaction. */
  force?: boolean;
  /** Verify the file and check the target, then stop without writing anything. */
  dryRun?: boolean;
  /** Compressed bytes read while verifying the file. */
  onVerify?: (read: number, size: number) => void;
  /** Rows inserted per table, then rows re-read per table for the final check. */
  onRestore?: TableProgress;
  onCheck?: TableProgress;
}

export interface RestoreResult {
  manifest: BackupManifest;
  dryRun: boolean;
  /** Whether the target's rows in the backed-up tables were replaced (--force on a non-empty target). */
  replaced: boolean;
  /** Backed-up tables that held rows before the restore. */
  nonEmpty: string[];
  /** The target had no migration applied, so the restore migrated it first. */
  migrated: boolean;
}

/** Differences between the backup's applied migrations and the target's, one phrase per module. */
async function migrationDifferences(db: Database, manifest: BackupManifest): Promise<string[]> {
  const status = await migrationStatus(db);
  return manifest.modules.flatMap(({ name, migrations }) => {
    const target = status.find((entry) => entry.module === name);
    if (!target) return [`module ${name} is not composed here`];
    const missing = migrations.filter((migration) => !target.applied.includes(migration));
    const extra = target.applied.filter((migration) => !migrations.includes(migration));
    return [
      ...(missing.length > 0 ? [`${name}: the target lacks ${missing.join(', ')}`] : []),
      ...(extra.length > 0 ? [`${name}: the target has ${extra.join(', ')}, the backup does not`] : []),
    ];
  });
}

/**
 * A target with no migration applied (a new database) is migrated before the restore, so restoring onto a
 * new machine is one command; the migrations then have to match the backup's as usual. A dry run changes
 * nothing, so it says what the restore would do instead.
 */
async function migrateEmptyTarget(db: Database, dryRun: boolean): Promise<boolean> {
  if ((await migrationStatus(db)).some((module) => module.applied.length > 0)) return false;
  if (dryRun) {
    throw new ConfigurationError(
      'the target is not migrated, so there is nothing to check it against: a restore without --dry-run migrates it first',
    );
  }
  await migrateUp(db);
  return true;
}

/**
 * The target's tables for the manifest's, refusing any whose backed-up columns differ (drift the migrations
 * can't see).
 */
function targetTables(manifest: BackupManifest, catalog: CatalogTable[]): Map<string, CatalogTable> {
  const tables = new Map<string, CatalogTable>();
  for (const entry of manifest.tables) {
    const table = catalog.find((candidate) => tableLabel(candidate) === tableLabel(entry));
    if (!table) throw new ConflictError(`the target has no table ${tableLabel(entry)}`);
    const columns = canonicalColumns(table);
    if (columns.join() !== [...entry.columns].sort(compareText).join()) {
      throw new ConflictError(
        `${tableLabel(entry)} has columns (${columns.join(', ')}) in the target, (${entry.columns.join(', ')}) in the backup`,
      );
    }
    tables.set(tableLabel(entry), table);
  }
  return tables;
}

/**
 * Streams the file's rows a second time, each table's with one COPY into it, checking each table's checksum
 * as it goes (the file could have changed since it was verified).
 */
async function copyFromFile(
  session: CopySession,
  file: string,
  manifest: BackupManifest,
  tables: Map<string, CatalogTable>,
  onRestore: TableProgress | undefined,
): Promise<void> {
  const changed = (table?: string) =>
    new ConflictError(`${file} changed while it was being restored${table ? ` (${table})` : ''}`);
  const records = readBackup(file)[Symbol.asyncIterator]();
  let next = await records.next();
  while (!next.done && next.value.kind !== 'manifest') {
    const record = next.value;
    if (record.kind !== 'table') throw changed();
    const label = tableLabel(record.table);
    const entry = manifest.tables.find((candidate) => tableLabel(candidate) === label);
    if (!entry) throw changed();
    const digest = new TableDigest();
    onRestore?.(label, 0, entry.rows);
    // Pulls the table's chunks of rows off the shared reader, leaving the next record in `next`.
    async function* rows(): AsyncGenerator<Buffer> {
      for (;;) {
        next = await records.next();
        if (next.done || next.value.kind !== 'rows') return;
        digest.add(next.value.chunk, next.value.lines);
        onRestore?.(label, digest.rows, entry!.rows);
        yield next.value.chunk;
      }
    }
    await copyRowsIn(session, tables.get(label)!, record.table.columns, rows());
    if (digest.finish().sha256 !== entry.sha256) throw changed(label);
  }
}

/** Re-reads every restored table the way a backup would and compares it with the manifest. */
async function checkRestored(
  session: CopySession,
  manifest: BackupManifest,
  tables: Map<string, CatalogTable>,
  truncated: Set<CatalogTable>,
  onCheck: TableProgress | undefined,
): Promise<void> {
  for (const entry of manifest.tables) {
    const digest = new TableDigest();
    const table = tables.get(tableLabel(entry))!;
    for await (const chunk of loadedRows(session, table, truncated.has(table))) {
      digest.add(chunk);
      onCheck?.(tableLabel(entry), digest.rows, entry.rows);
    }
    const { rows, sha256 } = digest.finish();
    if (rows !== entry.rows || sha256 !== entry.sha256) {
      throw new ConflictError(
        `${tableLabel(entry)} reads back as ${rows} rows with another checksum than the backup's ${entry.rows} (a trigger or rule rewrote rows?)`,
      );
    }
  }
}

/**
 * Restores a backup into the database. Before touching it: verifies the file's manifest and every checksum,
 * migrates a target that has no migration applied (`migrateEmptyTarget`), refuses a target whose migrations differ from the backup's (naming them) or whose tables differ, and a
 * target whose backed-up tables hold rows unless `force`. Everything else happens in one transaction:
 * truncate the tables (empty or not, so the load lands in order), COPY each table's rows in (indexes and
 * constraints dropped during the load and built again after it, so each is built and checked once), move
 * sequences past the restored ids, re-read every table and compare counts and checksums. Any failure, or
 * the process dying, leaves the target exactly as it was. Needs the role that migrates (it owns the tables),
 * no superuser. A table that a table outside the restore references is emptied with DELETE (`truncateForLoad`).
 */
export async function restoreBackup(
  db: Database,
  file: string,
  options: RestoreOptions = {},
): Promise<RestoreResult> {
  const manifest = await verifyBackup(file, options.onVerify);
  const migrated = await migrateEmptyTarget(db, Boolean(options.dryRun));
  const differences = await migrationDifferences(db, manifest);
  if (differences.length > 0) {
    throw new ConflictError(`the target's migrations differ from the backup's: ${differences.join('; ')}`);
  }
  let writing = false;
  try {
    return await inCanonicalSession(db, async (session) => {
      const { sql } = session;
      const schemas = [...new Set(manifest.tables.map((entry) => entry.schema))];
      const tables = targetTables(manifest, await readCatalog(sql, schemas));
      const qualified = [...tables.values()].map((table) => table.qualified).join(', ');
      const nonEmpty: string[] = [];
      if (tables.size > 0) {
        // Nobody writes to the tables between the emptiness check and the commit.
        await sql(`lock table ${qualified} in exclusive mode`);
        for (const [label, table] of tables) {
          const [row] = await sql<{ found: boolean }>(
            `select exists (select from ${table.qualified}) as found`,
          );
          if (row!.found) nonEmpty.push(label);
        }
      }
      if (nonEmpty.length > 0 && !options.force) {
        throw new ConflictError(
          `the target is not empty (${nonEmpty.join(', ')} hold rows); use --force to replace them`,
        );
      }
      const result = {
        manifest,
        dryRun: Boolean(options.dryRun),
        replaced: nonEmpty.length > 0,
        nonEmpty,
        migrated,
      };
      if (options.dryRun || tables.size === 0) return result;
      writing = true;
      const truncated = await truncateForLoad(sql, [...tables.values()]);
      await withConstraintsBuiltAfter(sql, [...tables.values()], () =>
        copyFromFile(session, file, manifest, tables, options.onRestore),
      );
      for (const table of tables.values()) await advanceSequences(sql, table);
      await checkRestored(session, manifest, tables, truncated, options.onCheck);
      return result;
    });
  } catch (error) {
    const mapped = toHuddleError(error);
    if (!writing || !(mapped instanceof Error)) throw mapped;
    const info = mapped instanceof HuddleError ? mapped.constraint : {};
    throw new ConflictError(`restore rolled back, the target is unchanged: ${mapped.message}`, info, {
      cause: error,
    });
  }
}
