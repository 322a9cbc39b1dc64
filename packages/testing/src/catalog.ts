import {
  type CatalogFunction,
  type CatalogSchemaGrant,
  type CatalogSequence,
  type CatalogTable,
  type Database,
  inSqlTransaction,
  readCatalog,
  readFunctions,
  readSchemaGrants,
  readSequences,
} from '@huddle/db';

export interface SchemaSnapshot {
  /** What docs, lint and backup read: columns, constraints, foreign keys, indexes, RLS, policies, triggers, grants. */
  tables: CatalogTable[];
  /** Functions (trigger functions included) with their fixed settings and a hash of the body. */
  functions: CatalogFunction[];
  sequences: CatalogSequence[];
  schemaGrants: CatalogSchemaGrant[];
  /** Enum types of the schemas, with their labels in order. */
  enumTypes: { schema: string; name: string; labels: string }[];
}

/**
 * Everything PostgreSQL's catalog says about `schemas`, deterministically ordered, so two snapshots compare
 * with `toEqual` (for up → down → up tests). Migration bookkeeping tables are left out.
 */
export function schemaSnapshot(db: Database, schemas: string[]): Promise<SchemaSnapshot> {
  return inSqlTransaction(db, async (sql) => ({
    tables: await readCatalog(sql, schemas),
    functions: await readFunctions(sql, schemas),
    sequences: await readSequences(sql, schemas),
    schemaGrants: await readSchemaGrants(sql, schemas),
    enumTypes: await sql<SchemaSnapshot['enumTypes'][number]>(
      `select n.nspname as schema, t.typname as name, string_agg(e.enumlabel, ',' order by e.enumsortorder) as labels
       from pg_type t join pg_namespace n on n.oid = t.typnamespace join pg_enum e on e.enumtypid = t.oid
       where n.nspname = any($1::text[]) group by 1, 2 order by 1, 2`,
      [schemas],
    ),
  }));
}
