import pg from 'pg';

/**
 * Everything PostgreSQL's catalog says about the tables of `schemas`: columns, constraints, indexes,
 * triggers, policies, row-level-security flags and enum types, sorted, so two snapshots compare with
 * `toEqual` (for up → down → up tests). Migration bookkeeping tables are left out.
 */
export async function schemaSnapshot(url: string, schemas: string[]): Promise<Record<string, unknown[]>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const query = async (sql: string) => (await client.query(sql, [schemas])).rows;
    return {
      columns: await query(`
        select table_schema, table_name, column_name, data_type, udt_name, is_nullable, column_default,
               character_maximum_length
        from information_schema.columns where table_schema = any($1) and table_name <> 'mikro_orm_migrations'
        order by table_schema, table_name, column_name`),
      constraints: await query(`
        select n.nspname as schema, c.conrelid::regclass::text as table_name, c.conname, c.contype,
               pg_get_constraintdef(c.oid) as definition
        from pg_constraint c join pg_namespace n on n.oid = c.connamespace
        where n.nspname = any($1) and c.conrelid::regclass::text not like '%mikro_orm_migrations' order by 1, 2, 3`),
      indexes: await query(`
        select schemaname, tablename, indexname, indexdef from pg_indexes
        where schemaname = any($1) and tablename <> 'mikro_orm_migrations' order by 1, 2, 3`),
      triggers: await query(`
        select event_object_schema, event_object_table, trigger_name, event_manipulation, action_statement
        from information_schema.triggers where trigger_schema = any($1) order by 1, 2, 3, 4`),
      policies: await query(`
        select schemaname, tablename, policyname, cmd, roles::text, qual, with_check from pg_policies
        where schemaname = any($1) order by 1, 2, 3`),
      rowSecurity: await query(`
        select n.nspname, c.relname, c.relrowsecurity, c.relforcerowsecurity from pg_class c
        join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = any($1) and c.relkind = 'r' and c.relname <> 'mikro_orm_migrations' order by 1, 2`),
      types: await query(`
        select n.nspname, t.typname, array_agg(e.enumlabel order by e.enumsortorder)::text as labels
        from pg_type t join pg_namespace n on n.oid = t.typnamespace join pg_enum e on e.enumtypid = t.oid
        where n.nspname = any($1) group by 1, 2 order by 1, 2`),
    };
  } finally {
    await client.end();
  }
}
