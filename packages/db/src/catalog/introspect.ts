import type { Sql } from './sql.ts';

/** Migration bookkeeping lives beside a module's tables but is not its data, its schema nor its doc. */
const MIGRATIONS_TABLE = 'mikro_orm_migrations';

export interface CatalogColumn {
  name: string;
  /** As PostgreSQL prints it: `character varying(100)`, `timestamp with time zone`, `vector(3)`. */
  type: string;
  /** The type's short name (`varchar`, `timestamptz`, `int4[]`), for diagrams. */
  shortType: string;
  nullable: boolean;
  default: string | null;
  /** A stored generated column: computed by the database, never inserted. */
  generated: boolean;
  /** The sequence that feeds this column (serial or identity), schema-qualified. */
  sequence: string | null;
  /** Whether the type sorts by collation (text and friends): such keys are ordered `collate "C"`. */
  collatable: boolean;
}

export type ForeignKeyAction = 'NO ACTION' | 'RESTRICT' | 'CASCADE' | 'SET NULL' | 'SET DEFAULT';

export interface CatalogForeignKey {
  name: string;
  columns: string[];
  referencedSchema: string;
  referencedTable: string;
  referencedColumns: string[];
  onDelete: ForeignKeyAction;
  onUpdate: ForeignKeyAction;
  deferrable: boolean;
  /** As PostgreSQL prints it (`FOREIGN KEY (…) REFERENCES …`), enough to create it again. */
  definition: string;
}

export interface CatalogConstraint {
  name: string;
  kind: 'primary key' | 'unique' | 'check' | 'exclusion';
  columns: string[];
  definition: string;
}

export interface CatalogIndex {
  name: string;
  /** Access method: btree, gin, hnsw, … */
  method: string;
  unique: boolean;
  primary: boolean;
  /** Key columns in order; `null` where the key is an expression. INCLUDE columns are not keys. */
  columns: (string | null)[];
  /** The operator class of each key column, so two indexes on the same columns compare exactly. */
  operatorClasses: string[];
  /** The WHERE clause of a partial index. */
  predicate: string | null;
  /** The constraint (primary key, unique, exclusion) this index implements. */
  constraint: string | null;
  definition: string;
}

export interface CatalogPolicy {
  name: string;
  command: string;
  permissive: string;
  roles: string[];
  using: string | null;
  withCheck: string | null;
}

export interface CatalogTrigger {
  name: string;
  definition: string;
}

/** Privileges a role other than the owner holds on a table, e.g. `application_user`: `DELETE,INSERT,SELECT`. */
export interface CatalogGrant {
  grantee: string;
  privileges: string[];
}

/** A function (or trigger function) a module's migrations created. */
export interface CatalogFunction {
  schema: string;
  name: string;
  arguments: string;
  language: string;
  securityDefiner: boolean;
  /** `SET` options fixed on the function, e.g. `search_path=""`; null when none. */
  config: string[] | null;
  /** A hash of the body, so a changed body shows in a snapshot comparison. */
  bodyHash: string;
}

export interface CatalogSequence {
  schema: string;
  name: string;
  dataType: string;
  increment: string;
  grants: CatalogGrant[];
}

/** What other roles may do in a schema itself (`USAGE`, `CREATE`). */
export interface CatalogSchemaGrant {
  schema: string;
  grantee: string;
  privileges: string[];
}

export interface CatalogTable {
  schema: string;
  name: string;
  /** `"schema"."table"`, ready for SQL. */
  qualified: string;
  columns: CatalogColumn[];
  primaryKey: string[] | null;
  constraints: CatalogConstraint[];
  foreignKeys: CatalogForeignKey[];
  indexes: CatalogIndex[];
  rowSecurity: boolean;
  /** Row-level security applies to the table's owner too. */
  forceRowSecurity: boolean;
  policies: CatalogPolicy[];
  triggers: CatalogTrigger[];
  /** Privileges of roles other than the owner, by grantee. */
  grants: CatalogGrant[];
}

/** Code-unit order: the same on every machine, whatever its locale. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Double-quotes an identifier for SQL. */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Names of a constraint's or index's columns, in key order, as a JSON array (null for expressions). */
const columnNames = (keys: string, relation: string) => `
  coalesce((select json_agg(a.attname order by k.ord) from unnest(${keys}) with ordinality k(attnum, ord)
    left join pg_attribute a on a.attrelid = ${relation} and a.attnum = k.attnum), '[]'::json)`;

const FOREIGN_KEY_ACTIONS: Record<string, ForeignKeyAction> = {
  a: 'NO ACTION',
  r: 'RESTRICT',
  c: 'CASCADE',
  n: 'SET NULL',
  d: 'SET DEFAULT',
};

const CONSTRAINT_KINDS: Record<string, CatalogConstraint['kind']> = {
  p: 'primary key',
  u: 'unique',
  c: 'check',
  x: 'exclusion',
};

/** Tables that belong to the schemas: ordinary and partitioned ones, not partitions nor bookkeeping. */
const TABLES = `
  select c.oid, n.nspname as schema, c.relname as name from pg_class c
  join pg_namespace n on n.oid = c.relnamespace
  where n.nspname = any($1::text[]) and c.relkind in ('r', 'p') and not c.relispartition
    and c.relname <> '${MIGRATIONS_TABLE}'`;

/** Privileges of `acl` granted to roles other than `owner`, grouped by grantee (PUBLIC as `public`). */
const grantsOf = (acl: string, owner: string) => `
  coalesce((select json_agg(g order by g.grantee) from (
    select case when x.grantee = 0 then 'public' else pg_get_userbyid(x.grantee) end as grantee,
      json_agg(x.privilege_type order by x.privilege_type) as privileges
    from aclexplode(${acl}) x where x.grantee <> ${owner} group by x.grantee) g), '[]'::json)`;

/** Each query returns one JSON document (json_agg as text), so no driver's type parsing gets in the way. */
const QUERIES = {
  tables: `
    select t.schema, t.name, c.relrowsecurity as "rowSecurity", c.relforcerowsecurity as "forceRowSecurity",
      ${grantsOf('c.relacl', 'c.relowner')} as grants
    from (${TABLES}) t join pg_class c on c.oid = t.oid`,
  columns: `
    select t.schema, t.name as "table", a.attname as name, a.attnum as position,
      format_type(a.atttypid, a.atttypmod) as type,
      case when ty.typcategory = 'A' then el.typname || '[]' else ty.typname end as "shortType",
      not a.attnotnull as nullable, pg_get_expr(d.adbin, d.adrelid) as default,
      a.attgenerated <> '' as generated,
      pg_get_serial_sequence(format('%I.%I', t.schema, t.name), a.attname) as sequence,
      a.attcollation <> 0 as collatable
    from (${TABLES}) t join pg_attribute a on a.attrelid = t.oid and a.attnum > 0 and not a.attisdropped
    join pg_type ty on ty.oid = a.atttypid left join pg_type el on el.oid = ty.typelem
    left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum`,
  constraints: `
    select t.schema, t.name as "table", co.conname as name, co.contype as kind,
      ${columnNames('co.conkey', 'co.conrelid')} as columns, pg_get_constraintdef(co.oid) as definition,
      fn.nspname as "referencedSchema", fc.relname as "referencedTable",
      ${columnNames('co.confkey', 'co.confrelid')} as "referencedColumns",
      co.confdeltype as "onDelete", co.confupdtype as "onUpdate", co.condeferrable as deferrable
    from (${TABLES}) t join pg_constraint co on co.conrelid = t.oid
    left join pg_class fc on fc.oid = co.confrelid left join pg_namespace fn on fn.oid = fc.relnamespace
    where co.contype in ('p', 'u', 'c', 'x', 'f')`,
  indexes: `
    select t.schema, t.name as "table", i.relname as name, am.amname as method, ix.indisunique as unique,
      ix.indisprimary as primary, ix.indnkeyatts as "keyCount",
      ${columnNames('ix.indkey::int2[]', 'ix.indrelid')} as columns,
      coalesce((select json_agg(opc.opcname order by k.ord) from unnest(ix.indclass::oid[]) with ordinality k(oid, ord)
        join pg_opclass opc on opc.oid = k.oid), '[]'::json) as "operatorClasses",
      pg_get_expr(ix.indpred, ix.indrelid) as predicate, con.conname as constraint,
      pg_get_indexdef(ix.indexrelid) as definition
    from (${TABLES}) t join pg_index ix on ix.indrelid = t.oid join pg_class i on i.oid = ix.indexrelid
    join pg_am am on am.oid = i.relam
    left join pg_constraint con on con.conindid = ix.indexrelid and con.conrelid = t.oid and con.contype in ('p', 'u', 'x')`,
  policies: `
    select schemaname as schema, tablename as "table", policyname as name, cmd as command, permissive,
      to_json(roles) as roles, qual as using, with_check as "withCheck"
    from pg_policies where schemaname = any($1::text[])`,
  triggers: `
    select t.schema, t.name as "table", tg.tgname as name, pg_get_triggerdef(tg.oid) as definition
    from (${TABLES}) t join pg_trigger tg on tg.tgrelid = t.oid where not tg.tgisinternal`,
};

/** Functions, sequences and schema privileges: the rest of what a module's migrations create. */
const MODULE_QUERIES = {
  functions: `
    select n.nspname as schema, p.proname as name, pg_get_function_identity_arguments(p.oid) as arguments,
      l.lanname as language, p.prosecdef as "securityDefiner", to_json(p.proconfig) as config,
      md5(p.prosrc) as "bodyHash"
    from pg_proc p join pg_namespace n on n.oid = p.pronamespace join pg_language l on l.oid = p.prolang
    left join pg_depend d on d.objid = p.oid and d.deptype = 'e'
    where n.nspname = any($1::text[]) and d.objid is null`,
  sequences: `
    select n.nspname as schema, c.relname as name, format_type(s.seqtypid, null) as "dataType",
      s.seqincrement::text as increment, ${grantsOf('c.relacl', 'c.relowner')} as grants
    from pg_sequence s join pg_class c on c.oid = s.seqrelid join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = any($1::text[]) and c.relname not like '${MIGRATIONS_TABLE}%'`,
  schemaGrants: `
    select n.nspname as schema, g.grantee, g.privileges
    from pg_namespace n, json_to_recordset(${grantsOf('n.nspacl', 'n.nspowner')}) as g(grantee text, privileges json)
    where n.nspname = any($1::text[])`,
};

interface Located {
  schema: string;
  table: string;
  name: string;
}

async function readJson<Row>(sql: Sql, query: string, schemas: readonly string[]): Promise<Row[]> {
  const [row] = await sql<{ doc: string | null }>(
    `select coalesce(json_agg(q)::text, '[]') as doc from (${query}) q`,
    [schemas],
  );
  return JSON.parse(row?.doc ?? '[]') as Row[];
}

/** Groups rows by `schema.table`, each group sorted by name so every rendering of it is deterministic. */
function byTable<Row extends Located>(rows: Row[]): Map<string, Row[]> {
  const groups = new Map<string, Row[]>();
  for (const row of [...rows].sort((a, b) => compareText(a.name, b.name))) {
    const key = `${row.schema}.${row.table}`;
    groups.set(key, [...(groups.get(key) ?? []), row]);
  }
  return groups;
}

/**
 * Everything the catalog says about the tables of `schemas` (migration bookkeeping left out), sorted by
 * schema and name: what docs, lint and backup all read, so the three agree on what a module's tables are.
 */
export async function readCatalog(sql: Sql, schemas: readonly string[]): Promise<CatalogTable[]> {
  type ColumnRow = CatalogColumn & Located & { position: number };
  type ConstraintRow = Located & {
    kind: string;
    columns: string[];
    definition: string;
    referencedSchema: string | null;
    referencedTable: string | null;
    referencedColumns: string[];
    onDelete: string;
    onUpdate: string;
    deferrable: boolean;
  };
  type IndexRow = Omit<CatalogIndex, 'columns'> & Located & { keyCount: number; columns: (string | null)[] };
  const tables = await readJson<{
    schema: string;
    name: string;
    rowSecurity: boolean;
    forceRowSecurity: boolean;
    grants: CatalogGrant[];
  }>(sql, QUERIES.tables, schemas);
  const columns = byTable(await readJson<ColumnRow>(sql, QUERIES.columns, schemas));
  const constraints = byTable(await readJson<ConstraintRow>(sql, QUERIES.constraints, schemas));
  const indexes = byTable(await readJson<IndexRow>(sql, QUERIES.indexes, schemas));
  const policies = byTable(await readJson<CatalogPolicy & Located>(sql, QUERIES.policies, schemas));
  const triggers = byTable(await readJson<CatalogTrigger & Located>(sql, QUERIES.triggers, schemas));

  return tables
    .sort((a, b) => compareText(a.schema, b.schema) || compareText(a.name, b.name))
    .map(({ schema, name, rowSecurity, forceRowSecurity, grants }) => {
      const key = `${schema}.${name}`;
      const tableConstraints = constraints.get(key) ?? [];
      const primaryKey = tableConstraints.find((constraint) => constraint.kind === 'p');
      return {
        schema,
        name,
        qualified: `${quoteIdentifier(schema)}.${quoteIdentifier(name)}`,
        columns: (columns.get(key) ?? [])
          .sort((a, b) => a.position - b.position)
          .map(({ schema: _s, table: _t, position: _p, ...column }) => column),
        primaryKey: primaryKey ? primaryKey.columns : null,
        constraints: tableConstraints
          .filter((constraint) => constraint.kind !== 'f')
          .map((constraint) => ({
            name: constraint.name,
            kind: CONSTRAINT_KINDS[constraint.kind]!,
            columns: constraint.columns,
            definition: constraint.definition,
          })),
        foreignKeys: tableConstraints
          .filter((constraint) => constraint.kind === 'f')
          .map((constraint) => ({
            name: constraint.name,
            columns: constraint.columns,
            referencedSchema: constraint.referencedSchema!,
            referencedTable: constraint.referencedTable!,
            referencedColumns: constraint.referencedColumns,
            onDelete: FOREIGN_KEY_ACTIONS[constraint.onDelete]!,
            onUpdate: FOREIGN_KEY_ACTIONS[constraint.onUpdate]!,
            deferrable: constraint.deferrable,
            definition: constraint.definition,
          })),
        indexes: (indexes.get(key) ?? []).map(({ schema: _s, table: _t, keyCount, ...index }) => ({
          ...index,
          columns: index.columns.slice(0, keyCount),
          operatorClasses: index.operatorClasses.slice(0, keyCount),
        })),
        rowSecurity,
        forceRowSecurity,
        policies: (policies.get(key) ?? []).map(({ schema: _s, table: _t, ...policy }) => policy),
        triggers: (triggers.get(key) ?? []).map(({ schema: _s, table: _t, ...trigger }) => trigger),
        grants,
      };
    });
}

const bySchemaAndName = <Row extends { schema: string; name: string }>(rows: Row[]) =>
  rows.sort((a, b) => compareText(a.schema, b.schema) || compareText(a.name, b.name));

/** The functions of `schemas` that migrations created (extensions' own functions left out). */
export async function readFunctions(sql: Sql, schemas: readonly string[]): Promise<CatalogFunction[]> {
  const rows = await readJson<CatalogFunction>(sql, MODULE_QUERIES.functions, schemas);
  return rows.sort(
    (a, b) =>
      compareText(a.schema, b.schema) || compareText(a.name, b.name) || compareText(a.arguments, b.arguments),
  );
}

/** The sequences of `schemas` with their grants (bookkeeping left out). */
export async function readSequences(sql: Sql, schemas: readonly string[]): Promise<CatalogSequence[]> {
  return bySchemaAndName(await readJson<CatalogSequence>(sql, MODULE_QUERIES.sequences, schemas));
}

/** Who other than the owner may use or create in each of `schemas`. */
export async function readSchemaGrants(sql: Sql, schemas: readonly string[]): Promise<CatalogSchemaGrant[]> {
  const rows = await readJson<CatalogSchemaGrant>(sql, MODULE_QUERIES.schemaGrants, schemas);
  return rows.sort((a, b) => compareText(a.schema, b.schema) || compareText(a.grantee, b.grantee));
}
