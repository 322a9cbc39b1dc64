import { type CatalogTable, readCatalog } from '../catalog/introspect.ts';
import { inSqlTransaction, type Sql } from '../catalog/sql.ts';
import type { Database } from '../database.ts';
import { ConflictError, HuddleError, toHuddleError } from '../errors.ts';
import { migrationStatus } from '../migrations.ts';
import type { TableProgress } from './dump.ts';
import { type BackupManifest, readBackup, TableDigest, tableLabel, verifyBackup } from './format.ts';
import {
  advanceSequences,
  INSERT_BYTES,
  INSERT_ROWS,
  insertRows,
  rowBatches,
  withForeignKeysCheckedAfter,
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

/** The target's tables for the manifest's, refusing any whose columns differ (drift the migrations can't see). */
function targetTables(manifest: BackupManifest, catalog: CatalogTable[]): Map<string, CatalogTable> {
  const tables = new Map<string, CatalogTable>();
  for (const entry of manifest.tables) {
    const table = catalog.find((candidate) => tableLabel(candidate) === tableLabel(entry));
    if (!table) throw new ConflictError(`the target has no table ${tableLabel(entry)}`);
    const columns = table.columns.map((column) => column.name).sort();
    if (columns.join() !== [...entry.columns].sort().join()) {
      throw new ConflictError(
        `${tableLabel(entry)} has columns (${columns.join(', ')}) in the target, (${entry.columns.join(', ')}) in the backup`,
      );
    }
    tables.set(tableLabel(entry), table);
  }
  return tables;
}

/** Streams the file's rows a second time into the tables, checking each table's checksum as it goes. */
async function insertFromFile(
  sql: Sql,
  file: string,
  manifest: BackupManifest,
  tables: Map<string, CatalogTable>,
  onRestore: TableProgress | undefined,
): Promise<void> {
  let current: { table: CatalogTable; columns: string[]; digest: TableDigest; total: number } | undefined;
  let batch: string[] = [];
  let bytes = 0;
  const flush = async () => {
    if (!current || batch.length === 0) return;
    await insertRows(sql, current.table, current.columns, batch);
    onRestore?.(tableLabel(current.table), current.digest.rows, current.total);
    batch = [];
    bytes = 0;
  };
  const finishTable = async () => {
    await flush();
    if (!current) return;
    const expected = manifest.tables.find((entry) => tableLabel(entry) === tableLabel(current!.table))!;
    if (current.digest.finish().sha256 !== expected.sha256) {
      throw new ConflictError(`${file} changed while it was being restored (${tableLabel(expected)})`);
    }
  };
  for await (const record of readBackup(file)) {
    if (record.kind === 'table') {
      await finishTable();
      const entry = manifest.tables.find((candidate) => tableLabel(candidate) === tableLabel(record.table));
      if (!entry) throw new ConflictError(`${file} changed while it was being restored`);
      current = {
        table: tables.get(tableLabel(entry))!,
        columns: record.table.columns,
        digest: new TableDigest(),
        total: entry.rows,
      };
      onRestore?.(tableLabel(entry), 0, entry.rows);
    } else if (record.kind === 'row') {
      current!.digest.add(record.line);
      batch.push(record.line);
      bytes += record.line.length;
      if (batch.length >= INSERT_ROWS || bytes >= INSERT_BYTES) await flush();
    }
  }
  await finishTable();
}

/** Re-reads every restored table the way a backup would and compares it with the manifest. */
async function checkRestored(
  sql: Sql,
  manifest: BackupManifest,
  tables: Map<string, CatalogTable>,
  onCheck: TableProgress | undefined,
): Promise<void> {
  for (const entry of manifest.tables) {
    const digest = new TableDigest();
    for await (const batch of rowBatches(sql, tables.get(tableLabel(entry))!)) {
      for (const line of batch) digest.add(line);
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
 * refuses a target whose migrations differ from the backup's (naming them) or whose tables differ, and a
 * target whose backed-up tables hold rows unless `force` (then they are truncated first). Everything else
 * happens in one transaction: insert (foreign keys checked once after the load), move sequences past the
 * restored ids, re-read every table and compare counts and checksums. Any failure, or the process dying,
 * leaves the target exactly as it was. Needs the role that migrates (it owns the tables).
 */
export async function restoreBackup(
  db: Database,
  file: string,
  options: RestoreOptions = {},
): Promise<RestoreResult> {
  const manifest = await verifyBackup(file, options.onVerify);
  const differences = await migrationDifferences(db, manifest);
  if (differences.length > 0) {
    throw new ConflictError(`the target's migrations differ from the backup's: ${differences.join('; ')}`);
  }
  let writing = false;
  try {
    return await inSqlTransaction(db, async (sql) => {
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
      const result = { manifest, dryRun: Boolean(options.dryRun), replaced: nonEmpty.length > 0, nonEmpty };
      if (options.dryRun || tables.size === 0) return result;
      writing = true;
      if (nonEmpty.length > 0) await sql(`truncate ${qualified}`);
      await withForeignKeysCheckedAfter(sql, [...tables.values()], () =>
        insertFromFile(sql, file, manifest, tables, options.onRestore),
      );
      for (const table of tables.values()) await advanceSequences(sql, table);
      await checkRestored(sql, manifest, tables, options.onCheck);
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
