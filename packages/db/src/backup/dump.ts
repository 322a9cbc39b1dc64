import { createWriteStream } from 'node:fs';
import { realpath, rename, rm, stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { readCatalog } from '../catalog/introspect.ts';
import type { Sql } from '../catalog/sql.ts';
import type { Database } from '../database.ts';
import { migrationStatus } from '../migrations.ts';
import { selectModules } from '../module.ts';
import {
  BACKUP_FORMAT,
  BACKUP_VERSION,
  type BackupManifest,
  type BackupTable,
  HEADER_LINE,
  MANIFEST_TAG,
  TABLE_END,
  TABLE_TAG,
  TableDigest,
  tableLabel,
} from './format.ts';
import { canonicalColumns, canonicalRows, inCanonicalSession, restoreOrder } from './table-data.ts';

/** Progress of a long operation on one table: `done` of `total` rows. */
export type TableProgress = (table: string, done: number, total: number) => void;

export interface BackupOptions {
  /** Back up only these modules (default: every composed module). */
  modules?: string[];
  onProgress?: TableProgress;
}

/** `count(*)` of a table, for progress totals. */
export async function countRows(sql: Sql, qualified: string): Promise<number> {
  const [row] = await sql<{ total: string }>(`select count(*)::text as total from ${qualified}`);
  return Number(row!.total);
}

/**
 * Where to write `file` and what to rename at the end. A new path or a regular file (through symlinks) is
 * written as `<file>.partial` beside it and renamed over it once complete, so a failed backup leaves no
 * half-written file behind. Anything else — a device (`/dev/full`), a FIFO, `/dev/stdout` — is written
 * in place: renaming over it would replace the device node with a regular file.
 */
async function backupDestination(
  file: string,
): Promise<{ write: string; rename?: { from: string; to: string } }> {
  const target = await realpath(file).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return file;
    throw error;
  });
  const existing = await stat(target).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (existing && !existing.isFile()) return { write: target };
  const partial = `${target}.partial`;
  return { write: partial, rename: { from: partial, to: target } };
}

/** gzip's fastest level: the backup keeps pace with the server's COPY (level 6 takes about 4× the CPU). */
const GZIP_LEVEL = 1;

/**
 * Writes a backup of the selected modules' tables to `file` (see format.ts): one consistent snapshot
 * (a read-only REPEATABLE READ transaction) streamed table by table with COPY through a checksum into gzip,
 * so memory stays flat whatever the data's size. A regular file appears only when complete (see
 * backupDestination); a failed write, such as a full disk, is an error naming the file. Returns the manifest.
 */
export async function writeBackup(
  db: Database,
  file: string,
  options: BackupOptions = {},
): Promise<BackupManifest> {
  const modules = selectModules(db.modules, options.modules);
  const status = await migrationStatus(db);
  const destination = await backupDestination(file);
  try {
    const manifest = await inCanonicalSession(
      db,
      async (session) => {
        const { sql } = session;
        const [server] = await sql<{ version: string }>(
          "select current_setting('server_version') as version",
        );
        const tables = restoreOrder(
          await readCatalog(
            sql,
            modules.map((module) => module.name),
          ),
        );
        const manifest: BackupManifest = {
          format: BACKUP_FORMAT,
          version: BACKUP_VERSION,
          createdAt: new Date().toISOString(),
          source: { engine: db.target.kind, serverVersion: server!.version },
          modules: modules.map((module) => ({
            name: module.name,
            migrations: status.find((entry) => entry.module === module.name)?.applied ?? [],
          })),
          tables: [],
        };
        // A generator, so gzip's backpressure paces the COPY: a few chunks in memory at a time.
        async function* content(): AsyncGenerator<Buffer> {
          yield Buffer.from(`${HEADER_LINE}\n`);
          for (const table of tables) {
            const header: BackupTable = {
              schema: table.schema,
              name: table.name,
              columns: canonicalColumns(table),
            };
            yield Buffer.from(`${TABLE_TAG}${JSON.stringify(header)}\n`);
            const total = await countRows(sql, table.qualified);
            const digest = new TableDigest();
            options.onProgress?.(tableLabel(table), 0, total);
            for await (const chunk of canonicalRows(session, table)) {
              digest.add(chunk);
              yield chunk;
              options.onProgress?.(tableLabel(table), digest.rows, total);
            }
            yield Buffer.from(TABLE_END);
            manifest.tables.push({ ...header, ...digest.finish() });
          }
          yield Buffer.from(`${MANIFEST_TAG}${JSON.stringify(manifest)}\n`);
        }
        await pipeline(
          Readable.from(content()),
          createGzip({ level: GZIP_LEVEL }),
          createWriteStream(destination.write),
        ).catch((error: NodeJS.ErrnoException) => {
          // File system errors name the file; the database's own errors pass through as they are.
          if (!error.syscall) throw error;
          throw new Error(`cannot write the backup to ${file}: ${error.message}`, { cause: error });
        });
        return manifest;
      },
      { snapshot: true },
    );
    if (destination.rename) await rename(destination.rename.from, destination.rename.to);
    return manifest;
  } catch (error) {
    if (destination.rename) await rm(destination.rename.from, { force: true });
    throw error;
  }
}
