import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { TransformOptions } from 'node:stream';
import { createGunzip, type ZlibOptions } from 'node:zlib';
import { z } from 'zod';
import { InvalidInputError } from '../errors.ts';
import { parseInput } from '../input.ts';

/**
 * A Huddle backup is one gzip stream:
 *
 *   @huddle-backup 2                 format and version
 *   @table {"schema":…,"name":…,"columns":[…]}
 *   …                                the table's rows in PostgreSQL's COPY text format, columns as listed
 *   \.                               end of the table's rows (a row line never reads `\.`: COPY escapes `\`)
 *   …                                (a @table line, rows and `\.` for every table, in restore order)
 *   @manifest {…}                    last line: modules and migrations, per-table row count and SHA-256
 *
 * A table's checksum is the SHA-256 of its row lines, each followed by `\n`, exactly as they stand in the
 * file. Version 1 (one `row_to_json` line per row) is refused with a line saying how to carry it over.
 */
export const BACKUP_FORMAT = 'huddle-backup';
export const BACKUP_VERSION = 2;
export const HEADER_LINE = `@${BACKUP_FORMAT} ${BACKUP_VERSION}`;
export const TABLE_TAG = '@table ';
export const TABLE_END = '\\.\n';
export const MANIFEST_TAG = '@manifest ';

const NEWLINE = 0x0a;
const END_LINE = Buffer.from(TABLE_END);
/** A line that reads `\.` after a row line. */
const END_AFTER_ROW = Buffer.from(`\n${TABLE_END}`);

const identifier = z.string().min(1);

const backupTableSchema = z.object({
  schema: identifier,
  name: identifier,
  /** Column names in the order each row lists them (by name; generated columns are not backed up). */
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

/** Lines in `chunk` (its `\n` bytes). */
export function countLines(chunk: Buffer): number {
  let lines = 0;
  for (let at = chunk.indexOf(NEWLINE); at !== -1; at = chunk.indexOf(NEWLINE, at + 1)) lines++;
  return lines;
}

/** Row count and SHA-256 of a table's row lines, fed in chunks of whole lines. */
export class TableDigest {
  #hash: Hash = createHash('sha256');
  rows = 0;

  add(chunk: Buffer, lines = countLines(chunk)): void {
    this.#hash.update(chunk);
    this.rows += lines;
  }

  finish(): { rows: number; sha256: string } {
    return { rows: this.rows, sha256: this.#hash.digest('hex') };
  }
}

type BackupRecord =
  | { kind: 'table'; table: BackupTable }
  /** Whole row lines (`lines` of them) of the table last announced, as they stand in the file. */
  | { kind: 'rows'; chunk: Buffer; lines: number }
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

/** The first line of a backup of another format version, refused with what to do about it. */
function checkHeader(file: string, line: string): void {
  if (line === HEADER_LINE) return;
  const version = line.match(new RegExp(`^@${BACKUP_FORMAT} (\\d+)$`))?.[1];
  if (!version) throw corrupt(file, `it does not start with "${HEADER_LINE}"`);
  throw corrupt(
    file,
    `it is format version ${version} and this Huddle reads version ${BACKUP_VERSION}: restore it with the Huddle that wrote it, then back up again`,
  );
}

/** Decompressed bytes of the file, chunk by chunk, with zlib's failures turned into one clear line. */
async function* decompressed(file: string, onBytes: (read: number) => void): AsyncGenerator<Buffer> {
  const input = createReadStream(file, { highWaterMark: 256 * 1024 });
  // Room for a few chunks ahead, so zlib's thread decompresses while this one hashes (zlib streams take
  // the stream options too, which ZlibOptions does not list).
  const options: ZlibOptions & TransformOptions = { chunkSize: 256 * 1024, highWaterMark: 1024 * 1024 };
  const gunzip = createGunzip(options);
  input.on('error', (error) => gunzip.destroy(error));
  input.pipe(gunzip);
  try {
    for await (const chunk of gunzip) {
      onBytes(input.bytesRead);
      yield chunk as Buffer;
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
 * first, rows only inside a table and each table closed by `\.`, the manifest last. Rows come as chunks of
 * whole lines, never parsed one by one. `onBytes` reports compressed bytes read of `size`.
 */
export async function* readBackup(
  file: string,
  onBytes: (read: number, size: number) => void = () => undefined,
): AsyncGenerator<BackupRecord> {
  const { size } = await stat(file).catch((error: unknown) => {
    throw corrupt(file, (error as Error).message, error);
  });
  let pending: Buffer = Buffer.alloc(0);
  let lineNumber = 0;
  let inTable = false;
  let manifestSeen = false;
  const record = (line: string): BackupRecord | undefined => {
    lineNumber++;
    if (manifestSeen) throw corrupt(file, `line ${lineNumber} follows the manifest`);
    if (lineNumber === 1) {
      checkHeader(file, line);
      return undefined;
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
    throw corrupt(file, `line ${lineNumber} is neither a table header nor the manifest`);
  };
  /** The records of `data`, whole lines only; returns how many bytes that was. */
  function* parse(data: Buffer): Generator<BackupRecord, number> {
    let at = 0;
    for (;;) {
      if (inTable) {
        // `at` is the start of a line: the table ends at the first line that reads `\.`.
        const end =
          data.length - at >= END_LINE.length &&
          data.compare(END_LINE, 0, END_LINE.length, at, at + END_LINE.length) === 0
            ? at
            : data.indexOf(END_AFTER_ROW, at) + 1 || undefined;
        const rowsEnd = end ?? data.lastIndexOf(NEWLINE) + 1;
        if (rowsEnd > at) {
          const rows = data.subarray(at, rowsEnd);
          const lines = countLines(rows);
          lineNumber += lines;
          yield { kind: 'rows', chunk: rows, lines };
          at = rowsEnd;
        }
        if (end === undefined) return at;
        lineNumber++;
        at += TABLE_END.length;
        inTable = false;
        continue;
      }
      const newline = data.indexOf(NEWLINE, at);
      if (newline === -1) return at;
      const next = record(data.toString('utf8', at, newline));
      at = newline + 1;
      if (next) yield next;
    }
  }
  for await (const chunk of decompressed(file, (read) => onBytes(read, size))) {
    let rest = chunk;
    if (pending.length > 0) {
      // Only the line that spans two chunks is joined: copying whole chunks would double the garbage.
      const newline = chunk.indexOf(NEWLINE);
      if (newline === -1) {
        pending = Buffer.concat([pending, chunk]);
        continue;
      }
      yield* parse(Buffer.concat([pending, chunk.subarray(0, newline + 1)]));
      rest = chunk.subarray(newline + 1);
    }
    pending = rest.subarray(yield* parse(rest));
  }
  if (pending.length > 0) throw corrupt(file, 'it is truncated (its last line is incomplete)');
  if (lineNumber === 0) throw corrupt(file, 'it is empty');
  if (inTable) throw corrupt(file, 'it is truncated (its last table has no end)');
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
    else if (record.kind === 'rows') digests.at(-1)!.digest.add(record.chunk, record.lines);
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
