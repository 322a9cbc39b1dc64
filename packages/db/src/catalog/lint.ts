import { z } from 'zod';
import type { Database } from '../database.ts';
import { parseInput } from '../input.ts';
import { type CatalogIndex, type CatalogTable, compareText, readCatalog } from './introspect.ts';
import { sqlAutocommit } from './sql.ts';

export type LintRule =
  | 'foreign-key-index'
  | 'timestamp-timezone'
  | 'primary-key'
  | 'rls-policy'
  | 'redundant-index'
  | 'stale-allow';

export interface LintFinding {
  rule: LintRule;
  module: string;
  /** `schema.table` the finding is about. */
  table: string;
  /** The constraint, column, index or policy concerned (the table itself for table-level rules). */
  object: string;
  message: string;
}

/**
 * Indexes the lint may not call redundant, each with why it stays (typically: the module's seed document
 * names it). Read from docs/schema/lint-allow.json by the CLI.
 */
const lintAllowListSchema = z.array(
  z.object({ module: z.string().min(1), index: z.string().min(1), reason: z.string().min(1) }),
);
export type LintAllowList = z.infer<typeof lintAllowListSchema>;

/** Parses an allow list (already JSON-decoded), naming the first offending entry and field. */
export function parseLintAllowList(value: unknown): LintAllowList {
  return parseInput(lintAllowListSchema, value);
}

const list = (columns: readonly (string | null)[]) =>
  columns.map((column) => column ?? '<expression>').join(', ');

/** An index that serves lookups on `columns`: valid for every row (not partial), keyed by them first. */
function leadsWith(index: CatalogIndex, columns: readonly string[]): boolean {
  if (index.predicate !== null || index.columns.length < columns.length) return false;
  const leading = index.columns.slice(0, columns.length);
  return columns.every((column) => leading.includes(column));
}

/** `other` makes `index` redundant: same method, predicate and operator classes, and `index`'s keys lead it. */
function makesRedundant(index: CatalogIndex, other: CatalogIndex): boolean {
  if (index === other || index.unique || index.method !== other.method) return false;
  if (index.predicate !== other.predicate || index.columns.includes(null)) return false;
  const prefix = index.method === 'btree' ? index.columns.length : other.columns.length;
  if (index.columns.length !== prefix || other.columns.length < prefix) return false;
  const sameKeys = index.columns.every(
    (column, position) =>
      column === other.columns[position] &&
      index.operatorClasses[position] === other.operatorClasses[position],
  );
  // Of two identical plain indexes, report only the one whose name sorts last.
  const identical = sameKeys && other.columns.length === prefix && !other.unique;
  return sameKeys && (!identical || compareText(index.name, other.name) > 0);
}

function lintTable(module: string, table: CatalogTable): LintFinding[] {
  const label = `${table.schema}.${table.name}`;
  const finding = (rule: LintRule, object: string, message: string): LintFinding => ({
    rule,
    module,
    table: label,
    object,
    message,
  });
  const findings: LintFinding[] = [];
  if (!table.primaryKey) findings.push(finding('primary-key', table.name, 'the table has no primary key'));
  for (const column of table.columns) {
    if (/^timestamp(\(\d\))? without time zone/.test(column.type)) {
      findings.push(
        finding(
          'timestamp-timezone',
          column.name,
          `column ${column.name} is ${column.type}; use timestamptz`,
        ),
      );
    }
  }
  for (const foreignKey of table.foreignKeys) {
    if (!table.indexes.some((index) => leadsWith(index, foreignKey.columns))) {
      findings.push(
        finding(
          'foreign-key-index',
          foreignKey.name,
          `foreign key ${foreignKey.name} (${list(foreignKey.columns)}) has no index whose leading columns are its columns`,
        ),
      );
    }
  }
  if (table.rowSecurity && table.policies.length === 0) {
    findings.push(
      finding('rls-policy', table.name, 'row-level security is enabled but the table has no policy'),
    );
  }
  for (const index of table.indexes) {
    const other = table.indexes.find((candidate) => makesRedundant(index, candidate));
    if (other) {
      findings.push(
        finding(
          'redundant-index',
          index.name,
          `index ${index.name} (${list(index.columns)}) is redundant: ${other.name} (${list(other.columns)}) has the same leading columns`,
        ),
      );
    }
  }
  return findings;
}

/**
 * The template's schema rules over every composed module's tables: each foreign key covered by an index
 * whose leading columns are its columns, timestamps with time zone, a primary key everywhere, a policy on
 * every table with row-level security, no index made redundant by another. Redundant indexes on the allow
 * list are kept quiet; an allow-list entry of a composed module that no longer matches is itself a finding.
 */
export async function lintSchema(db: Database, allow: LintAllowList = []): Promise<LintFinding[]> {
  const modules = db.modules.map((module) => module.name);
  const tables = await readCatalog(sqlAutocommit(db), modules);
  const findings = tables.flatMap((table) => lintTable(table.schema, table));
  const matches = (entry: LintAllowList[number], finding: LintFinding) =>
    finding.rule === 'redundant-index' && entry.module === finding.module && entry.index === finding.object;
  const stale = allow
    .filter((entry) => modules.includes(entry.module))
    .filter((entry) => !findings.some((finding) => matches(entry, finding)))
    .map(
      (entry): LintFinding => ({
        rule: 'stale-allow',
        module: entry.module,
        table: entry.module,
        object: entry.index,
        message: `the allow list keeps index ${entry.index}, which is no longer redundant (or gone): remove the entry`,
      }),
    );
  return [...findings.filter((finding) => !allow.some((entry) => matches(entry, finding))), ...stale];
}
