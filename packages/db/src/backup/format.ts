import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { z } from 'zod';
import { InvalidInputError } from '../errors.ts';
import { parseInput } from '../input.ts';

/**
 * A Huddle backup is one gzip stream of UTF-8 lines:
 *
 *   @huddle-backup 1                 format and version
 *   @table {"schema":…,"name":…,"columns":[…]}
 *   {"col":…}                        one row per line: row_to_json, columns in name order
 *   …                                (a @table line and its rows for every table, in restore order)
 *   @manifest {…}                    last line: modules and migrations, per-table row count and SHA-256
 *
 * Rows always start with `{` and records with `@`, so a reader never confuses them. A table's checksum is
 * the SHA-256 of its row lines, each followed by `\n`, exactly as they stand in the file.
 */
export const BACKUP_FORMAT = 'huddle-backup';
export const BACKUP_VERSION = 1;
export const HEADER_LINE = `@${BACKUP_FORMAT} ${BACKUP_VERSION}`;
export const TABLE_TAG = '@table ';
export const MANIFEST_TAG = '@manifest ';

const identifier = z.string().min(1);

const backupTableSchema = z.object({
  schema: identifier,
  name: identifier,
  /** Column names in the order each row lists them (by name). */
  columns: z.array(identifier).min(1),
});
export type BackupTable = z.infer<typeof backupTableSchema>;

const manifestSchema = z.object({
  format: z.literal(BACKUP_FORMAT),
  version: z.literal(BACKUP_VERSION),
  createdAt: z.iso.datetime(),
  source: z.object({ engine: z.enum(['postgresql', 'pglite']), serverVersion: z.string() }),
  modules: z.array(z.object({ name: identifier, migrations: z.array(z.string()) })),
  tables: z.array(
    backupTableSchema.extend({
      rows: z.number().int().nonnegative(),
      sha256: z.string().regex(/^[0-9a-f]{64}$/),
    }),
  ),
});
export type BackupManifest = z.infer<typeof manifestSchema>;

/** `schema.name`, the way messages and progress name a table. */
export function tableLabel(table: { schema: string; name: string }): string {
  return `${table.schema}.${table.name}`;
}

/** Row count and SHA-256 of a table's row lines. */
export class TableDigest {
  #hash: Hash = createHash('sha256');
  rows = 0;

  add(line: string): void {
    this.#hash.update(line);
    this.#hash.update('\n');
    this.rows++;
  }

  finish(): { rows: number; sha256: string } {
    return { rows: this.rows, sha256: this.#hash.digest('hex') };
  }
}

type BackupRecord =
  | { kind: 'table'; table: BackupTable }
  | { kind: 'row'; line: string }
  | { kind: 'manifest'; manifest: BackupManifest };

function corrupt(file: string, reason: string, cause?: unknown): InvalidInputError {
  return new InvalidInputError(`backup ${file} is not usable: ${reason}`, { field: 'file' }, { cause });
}

function parseRecord<T>(file: string, schema: z.ZodType<T>, json: string, what: string): T {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    throw corrupt(file, `its ${what} is not valid JSON`, error);
  }
  try {
    return parseInput(schema, value);
  } catch (error) {
    throw corrupt(file, `its ${what} is malformed (${(error as Error).message})`, error);
  }
}

/** Decompressed text of the file, chunk by chunk, with zlib's failures turned into one clear line. */
async function* decompressed(file: string, onBytes: (read: number) => void): AsyncGenerator<string> {
  const input = createReadStream(file);
  const gunzip = createGunzip();
  input.on('error', (error) => gunzip.destroy(error));
  input.pipe(gunzip).setEncoding('utf8');
  try {
    for await (const chunk of gunzip) {
      onBytes(input.bytesRead);
      yield chunk as string;
    }
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'Z_BUF_ERROR')
      throw corrupt(file, 'it is truncated (the compressed data ends early)', error);
    if (code?.startsWith('Z_')) throw corrupt(file, `it is corrupt (${(error as Error).message})`, error);
    throw corrupt(file, (error as Error).message, error);
  } finally {
    input.destroy();
  }
}

/**
 * Reads a backup as a stream of records (never the whole file at once), checking its framing: the header
 * first, rows only inside a table, the manifest last. `onBytes` reports compressed bytes read of `size`.
 */
export async function* readBackup(
  file: string,
  onBytes: (read: number, size: number) => void = () => undefined,
): AsyncGenerator<BackupRecord> {
  const { size } = await stat(file).catch((error: unknown) => {
    throw corrupt(file, (error as Error).message, error);
  });
  let pending = '';
  let lineNumber = 0;
  let inTable = false;
  let manifestSeen = false;
  const record = (line: string): BackupRecord | undefined => {
    lineNumber++;
    if (manifestSeen) throw corrupt(file, `line ${lineNumber} follows the manifest`);
    if (lineNumber === 1) {
      if (line !== HEADER_LINE) throw corrupt(file, `it does not start with "${HEADER_LINE}"`);
      return undefined;
    }
    if (line.startsWith('{')) {
      if (!inTable) throw corrupt(file, `line ${lineNumber} is a row outside any table`);
      return { kind: 'row', line };
    }
    if (line.startsWith(TABLE_TAG)) {
      inTable = true;
      const table = parseRecord(file, backupTableSchema, line.slice(TABLE_TAG.length), 'table header');
      return { kind: 'table', table };
    }
    if (line.startsWith(MANIFEST_TAG)) {
      manifestSeen = true;
      const manifest = parseRecord(file, manifestSchema, line.slice(MANIFEST_TAG.length), 'manifest');
      return { kind: 'manifest', manifest };
    }
    throw corrupt(file, `line ${lineNumber} is neither a row nor a record`);
  };
  for await (const chunk of decompressed(file, (read) => onBytes(read, size))) {
    const lines = (pending + chunk).split('\n');
    pending = lines.pop()!;
    for (const line of lines) {
      const next = record(line);
      if (next) yield next;
    }
  }
  if (pending !== '') throw corrupt(file, 'it is truncated (its last line is incomplete)');
  if (lineNumber === 0) throw corrupt(file, 'it is empty');
  if (!manifestSeen) throw corrupt(file, 'it is truncated (it has no manifest)');
}

/**
 * Reads the whole file once and checks every table's row count and checksum against the manifest, and that
 * the file holds exactly the manifest's tables in its order. Returns the manifest; throws one clear line.
 */
export async function verifyBackup(
  file: string,
  onBytes?: (read: number, size: number) => void,
): Promise<BackupManifest> {
  const digests: { table: BackupTable; digest: TableDigest }[] = [];
  for await (const record of readBackup(file, onBytes)) {
    if (record.kind === 'table') digests.push({ table: record.table, digest: new TableDigest() });
    else if (record.kind === 'row') digests.at(-1)!.digest.add(record.line);
    else return checkAgainstManifest(file, record.manifest, digests);
  }
  throw corrupt(file, 'it has no manifest');
}

function checkAgainstManifest(
  file: string,
  manifest: BackupManifest,
  sections: { table: BackupTable; digest: TableDigest }[],
): BackupManifest {
  if (sections.length !== manifest.tables.length) {
    throw corrupt(
      file,
      `it holds ${sections.length} tables but its manifest lists ${manifest.tables.length}`,
    );
  }
  for (const [index, { table, digest }] of sections.entries()) {
    const expected = manifest.tables[index]!;
    if (tableLabel(table) !== tableLabel(expected) || table.columns.join() !== expected.columns.join()) {
      throw corrupt(
        file,
        `table ${tableLabel(table)} does not match its manifest entry ${tableLabel(expected)}`,
      );
    }
    const { rows, sha256 } = digest.finish();
    if (rows !== expected.rows) {
      throw corrupt(file, `${tableLabel(table)} has ${rows} rows, its manifest says ${expected.rows}`);
    }
    if (sha256 !== expected.sha256) {
      throw corrupt(file, `the checksum of ${tableLabel(table)} does not match its manifest`);
    }
  }
  return manifest;
}
