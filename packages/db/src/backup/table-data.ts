import type { CopySession, CopyTransactionOptions } from '../bulk.ts';
import { type CatalogTable, compareText, quoteIdentifier } from '../catalog/introspect.ts';
import { CANONICAL_OUTPUT, type Sql } from '../catalog/sql.ts';
import type { Database } from '../database.ts';

/**
 * Table bytes (as stored) per COPY where the engine hands over a COPY's whole output at once (PGlite); the
 * text is a few times that at most (a vector's floats, stored in 4 bytes, print in about 10).
 */
const SLICE_BYTES = 8 * 1024 * 1024;

/**
 * The columns a backup holds, in name order (the canonical order of a row, whatever the physical layout):
 * every column but the generated ones, which the database computes.
 */
export function canonicalColumns(table: CatalogTable): string[] {
  return table.columns
    .filter((column) => !column.generated)
    .map((column) => column.name)
    .sort(compareText);
}

/** A COPY transaction with the canonical output settings: backup and restore read rows the same way. */
export function inCanonicalSession<T>(
  db: Database,
  work: (session: CopySession) => Promise<T>,
  options?: CopyTransactionOptions,
): Promise<T> {
  return db.bulk.transaction(async (session) => {
    for (const statement of CANONICAL_OUTPUT) await session.sql(statement);
    return work(session);
  }, options);
}

/**
 * Orders tables so every table comes after the tables its foreign keys reference (self-references and
 * cycles aside): a backup lists parents first, so reading it top to bottom makes sense. Restore does not
 * depend on it, as it checks foreign keys once after the load.
 */
export function restoreOrder(tables: CatalogTable[]): CatalogTable[] {
  const byName = new Map(tables.map((table) => [`${table.schema}.${table.name}`, table]));
  const ordered: CatalogTable[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (key: string) => {
    if (state.has(key)) return;
    state.set(key, 'visiting');
    const table = byName.get(key)!;
    for (const foreignKey of table.foreignKeys) {
      const parent = `${foreignKey.referencedSchema}.${foreignKey.referencedTable}`;
      if (parent !== key && byName.has(parent)) visit(parent);
    }
    state.set(key, 'done');
    ordered.push(table);
  };
  for (const key of [...byName.keys()].sort(compareText)) visit(key);
  return ordered;
}

/**
 * The primary key's columns as sort keys, text ones `collate "C"` so two servers with different default
 * collations produce the same sequence (and checksum); without a primary key, the whole row's text.
 */
function sortKeys(table: CatalogTable): string[] {
  if (!table.primaryKey)
    return [`row(${canonicalColumns(table).map(quoteIdentifier).join(', ')})::text collate "C"`];
  const collatable = new Set(
    table.columns.filter((column) => column.collatable).map((column) => column.name),
  );
  return table.primaryKey.map((key) => `${quoteIdentifier(key)}${collatable.has(key) ? ' collate "C"' : ''}`);
}

/**
 * The canonical rows of the table: its backed-up columns, within `where`, in primary-key order or, for a
 * table just loaded (see `loadedRows`), as they lie in the table.
 */
function canonicalQuery(table: CatalogTable, where: string | undefined, order: RowOrder): string {
  const columns = canonicalColumns(table).map(quoteIdentifier).join(', ');
  const sorted = order === 'primary key' ? ` order by ${sortKeys(table).join(', ')}` : '';
  return `select ${columns} from ${table.qualified}${where ? ` where ${where}` : ''}${sorted}`;
}

type RowOrder = 'primary key' | 'as loaded';

/**
 * Primary-key values (SQL literals, in key order) that cut the table into slices of about `sliceBytes`:
 * every n-th row's key for the table's average row size, read in the caller's snapshot.
 */
async function sliceBounds(sql: Sql, table: CatalogTable, sliceBytes: number): Promise<string[]> {
  const [slice] = await sql<{ rows: string }>(
    `select (${sliceBytes} / greatest(avg(pg_column_size(t.*)), 1))::bigint + 1 as rows from ${table.qualified} t`,
  );
  const literals = table
    .primaryKey!.map((key) => `quote_literal(${quoteIdentifier(key)})`)
    .join(` || ', ' || `);
  const bounds = await sql<{ bound: string }>(
    `select bound from (select ${literals} as bound, row_number() over (order by ${sortKeys(table).join(', ')}) as n
     from ${table.qualified}) s where n % $1 = 0 order by n`,
    [slice!.rows],
  );
  return bounds.map((row) => row.bound);
}

/**
 * The table's canonical rows in COPY text format, in chunks: one streamed COPY, or, where the engine hands
 * over a COPY's whole output at once (PGlite), one COPY per slice of primary-key range, so memory holds one
 * slice whatever the table's size (a table without a primary key, which schema lint refuses, in one).
 * Runs inside the session's transaction.
 */
export async function* canonicalRows(
  session: CopySession,
  table: CatalogTable,
  sliceBytes = SLICE_BYTES,
  order: RowOrder = 'primary key',
): AsyncGenerator<Buffer> {
  if (!session.buffered || !table.primaryKey) {
    yield* session.copyOut(canonicalQuery(table, undefined, order));
    return;
  }
  const key = `(${sortKeys(table).join(', ')})`;
  let after: string | undefined;
  for (const bound of [...(await sliceBounds(session.sql, table, sliceBytes)), undefined]) {
    const range = [after && `${key} > (${after})`, bound && `${key} <= (${bound})`].filter(Boolean);
    yield* session.copyOut(canonicalQuery(table, range.join(' and ') || undefined, order));
    after = bound;
  }
}

/**
 * The canonical rows of a table that `truncateForLoad` emptied and `copyRowsIn` then filled in primary-key
 * order, in the same transaction, read back without sorting them again: COPY into a table truncated in its
 * own transaction skips the free-space map and appends every page after the last, so the table holds the
 * rows in the order they were loaded, and a scan on one backend (no parallel workers, no synchronised scan
 * starting mid-table) reads them in that order. Sorting 1.7 million rows again cost the re-read a fifth of
 * its time. Should the order ever differ, the checksums differ and the restore rolls back: never wrong, only
 * refused. A table that could not be truncated is read in primary-key order.
 */
export async function* loadedRows(
  session: CopySession,
  table: CatalogTable,
  truncated: boolean,
): AsyncGenerator<Buffer> {
  await session.sql("select set_config('max_parallel_workers_per_gather', '0', true)");
  await session.sql("select set_config('synchronize_seqscans', 'off', true)");
  yield* canonicalRows(session, table, SLICE_BYTES, truncated ? 'as loaded' : 'primary key');
}

/**
 * Empties the tables in the caller's transaction, so a COPY into them writes pages in load order
 * (`loadedRows`), whether they held rows or not. A table that a table outside `tables` references by
 * foreign key cannot be truncated: its rows are deleted instead (the foreign key decides whether they may
 * go). Returns the tables truncated. Takes the lock nobody reads past until the commit.
 */
export async function truncateForLoad(sql: Sql, tables: CatalogTable[]): Promise<Set<CatalogTable>> {
  const names = tables.map((table) => table.qualified);
  const referenced = new Set(
    (
      await sql<{ name: string }>(
        `select t.name from unnest($1::text[]) t(name) where exists (
           select from pg_constraint c where c.contype = 'f' and c.confrelid = t.name::regclass
             and not c.conrelid = any($1::regclass[]))`,
        [names],
      )
    ).map((row) => row.name),
  );
  const truncated = tables.filter((table) => !referenced.has(table.qualified));
  if (truncated.length > 0) await sql(`truncate ${truncated.map((table) => table.qualified).join(', ')}`);
  for (const name of referenced) await sql(`delete from ${name}`);
  return new Set(truncated);
}

/** COPYs rows (COPY text lines of `columns`) into the table, ids as they are. */
export function copyRowsIn(
  session: CopySession,
  table: CatalogTable,
  columns: string[],
  rows: AsyncIterable<Buffer>,
): Promise<void> {
  return session.copyIn(`${table.qualified} (${columns.map(quoteIdentifier).join(', ')})`, rows);
}

/**
 * Indexes of `tables` that are built again after a load rather than kept up to date row by row: all but
 * those a foreign key the load keeps depends on, and those carrying something dropping would lose (a
 * comment, CLUSTER, REPLICA IDENTITY). Call it with the load's own foreign keys already dropped.
 */
async function rebuildableIndexes(sql: Sql, tables: CatalogTable[]): Promise<Set<string>> {
  const rows = await sql<{ schema: string; name: string }>(
    `select n.nspname as schema, i.relname as name
     from pg_index x join pg_class i on i.oid = x.indexrelid join pg_namespace n on n.oid = i.relnamespace
     left join pg_constraint c on c.conindid = x.indexrelid and c.conrelid = x.indrelid
     where x.indrelid = any($1::regclass[]) and not x.indisclustered and not x.indisreplident
       and obj_description(x.indexrelid, 'pg_class') is null
       and (c.oid is null or obj_description(c.oid, 'pg_constraint') is null)
       and not exists (select from pg_constraint f where f.contype = 'f' and f.conindid = x.indexrelid)`,
    [tables.map((table) => table.qualified)],
  );
  return new Set(rows.map((row) => `${row.schema}.${row.name}`));
}

/**
 * Runs `work` (the load) with the tables' foreign keys and indexes (constraint ones included) dropped, then
 * builds them again from their definitions in the same transaction, as pg_restore does: an index is built
 * once from sorted rows instead of updated per row, and each foreign key is checked once over all rows, so
 * the load order stops mattering. A row that breaks a constraint still fails the transaction, and the
 * catalog ends as it was (same names and definitions).
 */
export async function withConstraintsBuiltAfter(
  sql: Sql,
  tables: CatalogTable[],
  work: () => Promise<void>,
): Promise<void> {
  const foreignKeys = tables.flatMap((table) =>
    table.foreignKeys.map((foreignKey) => ({ table, foreignKey })),
  );
  for (const { table, foreignKey } of foreignKeys) {
    await sql(`alter table ${table.qualified} drop constraint ${quoteIdentifier(foreignKey.name)}`);
  }
  const rebuildable = await rebuildableIndexes(sql, tables);
  const indexes = tables.flatMap((table) =>
    table.indexes
      .filter((index) => rebuildable.has(`${table.schema}.${index.name}`))
      .map((index) => ({
        table,
        index,
        constraint: table.constraints.find((constraint) => constraint.name === index.constraint),
      })),
  );
  for (const { table, index, constraint } of indexes) {
    await sql(
      constraint
        ? `alter table ${table.qualified} drop constraint ${quoteIdentifier(constraint.name)}`
        : `drop index ${quoteIdentifier(table.schema)}.${quoteIdentifier(index.name)}`,
    );
  }
  await work();
  for (const { table, index, constraint } of indexes) {
    await sql(
      constraint
        ? `alter table ${table.qualified} add constraint ${quoteIdentifier(constraint.name)} ${constraint.definition}`
        : index.definition,
    );
  }
  for (const { table, foreignKey } of foreignKeys) {
    await sql(
      `alter table ${table.qualified} add constraint ${quoteIdentifier(foreignKey.name)} ${foreignKey.definition}`,
    );
  }
}

/** Moves every sequence feeding the table past its highest restored value, so new rows get fresh ids. */
export async function advanceSequences(sql: Sql, table: CatalogTable): Promise<void> {
  for (const column of table.columns) {
    if (!column.sequence) continue;
    await sql(
      `select setval($1::regclass, m) from (select max(${quoteIdentifier(column.name)})::bigint as m from ${table.qualified}) x
       where m is not null`,
      [column.sequence],
    );
  }
}
