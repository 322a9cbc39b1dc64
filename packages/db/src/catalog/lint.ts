import { z } from 'zod';
import type { Database } from '../database.ts';
import { parseInput } from '../input.ts';
import { IDEMPOTENCY_ROLE } from '../roles.ts';
import {
  type CatalogFunction,
  type CatalogIndex,
  type CatalogTable,
  compareText,
  readCatalog,
  readFunctions,
} from './introspect.ts';
import { sqlAutocommit } from './sql.ts';

const LINT_RULES = [
  'foreign-key-index',
  'timestamp-timezone',
  'primary-key',
  'application-grant',
  'rls-policy',
  'function-search-path',
  'extension-in-public',
  'redundant-index',
  'stale-allow',
] as const;
export type LintRule = (typeof LINT_RULES)[number];

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
 * Findings the lint keeps quiet, each with why (typically: the module's seed document names an index that
 * another makes redundant). `{ module, index, reason }` is short for a `redundant-index` entry. Read from
 * docs/schema/lint-allow.json by the CLI.
 */
const lintAllowEntrySchema = z.object({
  module: z.string().min(1),
  rule: z.enum(LINT_RULES),
  object: z.string().min(1),
  reason: z.string().min(1),
});
const lintAllowListSchema = z.array(
  z.preprocess(
    (entry) =>
      typeof entry === 'object' && entry !== null && 'index' in entry
        ? (({ index, ...rest }) => ({ rule: 'redundant-index', object: index, ...rest }))(
            entry as { index: unknown },
          )
        : entry,
    lintAllowEntrySchema,
  ),
);
export type LintAllowList = z.output<typeof lintAllowListSchema>;

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

function lintTable(module: string, requestRole: string, table: CatalogTable): LintFinding[] {
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
  // Every request role is a member of IDEMPOTENCY_ROLE (createRequestRole), so what it is granted, every
  // request role has.
  const reachesRequests = (role: string) => role === requestRole || role === IDEMPOTENCY_ROLE;
  if (!table.grants.some((grant) => reachesRequests(grant.grantee))) {
    findings.push(
      finding(
        'application-grant',
        table.name,
        `the table is not granted to ${requestRole} (the module's request role), so no request can use it`,
      ),
    );
  }
  const appliesToRequests = (roles: string[]) => roles.some(reachesRequests) || roles.includes('public');
  if (table.rowSecurity && !table.policies.some((policy) => appliesToRequests(policy.roles))) {
    findings.push(
      finding(
        'rls-policy',
        table.name,
        `row-level security is enabled but no policy applies to ${requestRole}, so requests see no row`,
      ),
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

/** A function whose search_path a caller's role can change may resolve names to objects it did not mean. */
function lintFunction(fn: CatalogFunction): LintFinding[] {
  if (fn.config?.some((setting) => setting.startsWith('search_path='))) return [];
  return [
    {
      rule: 'function-search-path',
      module: fn.schema,
      table: fn.schema,
      object: `${fn.name}(${fn.arguments})`,
      message: `function ${fn.schema}.${fn.name} has a role-mutable search_path: set search_path = '' (or a fixed list)`,
    },
  ];
}

/**
 * The template's schema rules over every composed module: each foreign key covered by an index whose
 * leading columns are its columns, timestamps with time zone, a primary key everywhere, every table granted
 * to its module's request role, a policy for it on every table with row-level security, no index made redundant
 * by another, a fixed search_path on every function, no extension in the `public` schema. Findings on the
 * allow list are kept quiet; an allow-list entry of a composed module that no longer matches is a finding.
 */
export async function lintSchema(db: Database, allow: LintAllowList = []): Promise<LintFinding[]> {
  const modules = db.modules.map((module) => module.name);
  const requestRoles = new Map(db.modules.map((module) => [module.name, module.requestRole]));
  const sql = sqlAutocommit(db);
  const tables = await readCatalog(sql, modules);
  const platform = db.modules[0]!.name;
  const extensions = await sql<{ name: string }>(
    "select e.extname as name from pg_extension e join pg_namespace n on n.oid = e.extnamespace where n.nspname = 'public' and e.extname <> 'plpgsql' order by 1",
  );
  const findings = [
    ...tables.flatMap((table) => lintTable(table.schema, requestRoles.get(table.schema)!, table)),
    ...(await readFunctions(sql, modules)).flatMap(lintFunction),
    ...extensions.map(
      ({ name }): LintFinding => ({
        rule: 'extension-in-public',
        module: platform,
        table: 'public',
        object: name,
        message: `extension ${name} is installed in the public schema`,
      }),
    ),
  ];
  const matches = (entry: LintAllowList[number], finding: LintFinding) =>
    entry.rule === finding.rule && entry.module === finding.module && entry.object === finding.object;
  const stale = allow
    .filter((entry) => modules.includes(entry.module))
    .filter((entry) => !findings.some((finding) => matches(entry, finding)))
    .map(
      (entry): LintFinding => ({
        rule: 'stale-allow',
        module: entry.module,
        table: entry.module,
        object: entry.object,
        message: `the allow list keeps ${entry.rule} ${entry.object}, which no longer applies (or is gone): remove the entry`,
      }),
    );
  return [...findings.filter((finding) => !allow.some((entry) => matches(entry, finding))), ...stale];
}
