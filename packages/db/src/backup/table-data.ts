import { type CatalogTable, compareText, quoteIdentifier } from '../catalog/introspect.ts';
import type { Sql } from '../catalog/sql.ts';

/** Rows fetched per round trip while dumping, and the most rows / JSON bytes sent per INSERT. */
const FETCH_ROWS = 2000;
export const INSERT_ROWS = 2000;
export const INSERT_BYTES = 4 * 1024 * 1024;
const CURSOR = 'huddle_backup_rows';

/** The table's columns in name order: the canonical order of a row line, whatever the physical layout. */
export function canonicalColumns(table: CatalogTable): string[] {
  return table.columns.map((column) => column.name).sort(compareText);
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
 * `row_to_json` of every row, columns in name order, in primary-key order. Text keys sort `collate "C"` so
 * two servers with different default collations produce the same sequence (and checksum); a table without
 * a primary key is ordered by its whole line.
 */
function canonicalSelect(table: CatalogTable): string {
  const columns = canonicalColumns(table).map(quoteIdentifier).join(', ');
  const collatable = new Set(
    table.columns.filter((column) => column.collatable).map((column) => column.name),
  );
  const order = table.primaryKey
    ? table.primaryKey
        .map((key) => `r.${quoteIdentifier(key)}${collatable.has(key) ? ' collate "C"' : ''}`)
        .join(', ')
    : '1 collate "C"';
  return `select row_to_json(r)::text as line from (select ${columns} from ${table.qualified}) r order by ${order}`;
}

/**
 * The table's canonical row lines, FETCH_ROWS at a time, through a cursor: memory holds one batch whatever
 * the table's size. Runs inside the caller's transaction (a cursor lives in one); consume it to the end.
 */
export async function* rowBatches(sql: Sql, table: CatalogTable): AsyncGenerator<string[]> {
  await sql(`declare ${CURSOR} no scroll cursor for ${canonicalSelect(table)}`);
  try {
    for (;;) {
      const rows = await sql<{ line: string }>(`fetch forward ${FETCH_ROWS} from ${CURSOR}`);
      if (rows.length === 0) return;
      yield rows.map((row) => row.line);
    }
  } finally {
    await sql(`close ${CURSOR}`);
  }
}

/** Inserts row lines with their ids as they are; generated columns are left to the database. */
export async function insertRows(sql: Sql, table: CatalogTable, columns: string[], lines: string[]) {
  const generated = new Set(table.columns.filter((column) => column.generated).map((column) => column.name));
  const targets = columns
    .filter((column) => !generated.has(column))
    .map(quoteIdentifier)
    .join(', ');
  await sql(
    `insert into ${table.qualified} (${targets}) overriding system value
     select ${targets} from json_populate_recordset(null::${table.qualified}, $1::json)`,
    [`[${lines.join(',')}]`],
  );
}

/**
 * Runs `work` (the load) with the tables' foreign keys dropped, then adds them back in the same transaction:
 * PostgreSQL then checks each constraint once over all rows, as pg_restore does, instead of once per
 * inserted row, and the load order stops mattering. A row that breaks one still fails the transaction.
 */
export async function withForeignKeysCheckedAfter(
  sql: Sql,
  tables: CatalogTable[],
  work: () => Promise<void>,
) {
  const foreignKeys = tables.flatMap((table) =>
    table.foreignKeys.map((foreignKey) => ({ table, foreignKey })),
  );
  for (const { table, foreignKey } of foreignKeys) {
    await sql(`alter table ${table.qualified} drop constraint ${quoteIdentifier(foreignKey.name)}`);
  }
  await work();
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
