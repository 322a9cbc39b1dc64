import { IsolationLevel } from '@mikro-orm/core';
import { CompiledQuery, type QueryResult } from 'kysely';
import type { Database } from '../database.ts';

/** Runs one SQL statement with `$1`-style bound parameters and returns its rows. */
export type Sql = <Row>(text: string, params?: readonly unknown[]) => Promise<Row[]>;

/** What MikroORM's connection and its open transactions both are underneath: a Kysely executor. */
interface QueryExecutor {
  executeQuery(query: CompiledQuery): Promise<QueryResult<unknown>>;
}

/**
 * Binds parameters for real instead of going through `em.execute`, which inlines them into the SQL text:
 * backup batches are megabytes of JSON, and PGlite and node-postgres both take them as one `$1`.
 */
function sqlOn(executor: QueryExecutor): Sql {
  return async <Row>(text: string, params: readonly unknown[] = []) =>
    (await executor.executeQuery(CompiledQuery.raw(text, [...params]))).rows as Row[];
}

/** Statements outside any transaction, each in its own (VACUUM, for one, cannot run inside one). */
export function sqlAutocommit(db: Database): Sql {
  return sqlOn(db.orm.em.getConnection().getClient());
}

export interface SqlTransactionOptions {
  /** A read-only REPEATABLE READ transaction: every statement sees the same snapshot (a consistent dump). */
  snapshot?: boolean;
}

/**
 * Session settings that make `COPY` and `row_to_json` print a value the same way on every server: timestamps
 * in UTC, intervals, floats and bytea in their default styles, whatever the server's or role's configuration
 * says.
 */
export const CANONICAL_OUTPUT = [
  "set local timezone to 'UTC'",
  "set local datestyle to 'ISO, YMD'",
  "set local intervalstyle to 'postgres'",
  'set local extra_float_digits to 1',
  "set local bytea_output to 'hex'",
];

/** Runs `work` in one transaction on its own EntityManager fork, with the canonical output settings. */
export function inSqlTransaction<T>(
  db: Database,
  work: (sql: Sql) => Promise<T>,
  options: SqlTransactionOptions = {},
): Promise<T> {
  return db.orm.em.fork().transactional(
    async (em) => {
      const sql = sqlOn(em.getTransactionContext<QueryExecutor>()!);
      for (const statement of CANONICAL_OUTPUT) await sql(statement);
      return work(sql);
    },
    options.snapshot ? { isolationLevel: IsolationLevel.REPEATABLE_READ, readOnly: true } : {},
  );
}
