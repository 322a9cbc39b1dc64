import type { Database } from '../database.ts';
import { selectModules } from '../module.ts';
import { readCatalog } from './introspect.ts';
import { sqlAutocommit } from './sql.ts';

export interface TableMaintenance {
  table: string;
  /** VACUUM ran too; false where only ANALYZE could (inside a transaction block). */
  vacuumed: boolean;
  milliseconds: number;
}

const ACTIVE_SQL_TRANSACTION = '25001';

/**
 * VACUUM (ANALYZE) each table of the selected modules (all composed modules by default), one statement per
 * table outside any transaction, which VACUUM requires; where the connection refuses VACUUM for running in a
 * transaction block, ANALYZE alone. Returns each table's timing.
 */
export async function analyzeTables(
  db: Database,
  options: { module?: string } = {},
): Promise<TableMaintenance[]> {
  const sql = sqlAutocommit(db);
  const modules = selectModules(db.modules, options.module ? [options.module] : undefined);
  const tables = await readCatalog(
    sql,
    modules.map((module) => module.name),
  );
  const results: TableMaintenance[] = [];
  for (const table of tables) {
    const started = performance.now();
    let vacuumed = true;
    try {
      await sql(`vacuum (analyze) ${table.qualified}`);
    } catch (error) {
      if ((error as { code?: string }).code !== ACTIVE_SQL_TRANSACTION) throw error;
      vacuumed = false;
      await sql(`analyze ${table.qualified}`);
    }
    results.push({
      table: `${table.schema}.${table.name}`,
      vacuumed,
      milliseconds: performance.now() - started,
    });
  }
  return results;
}
