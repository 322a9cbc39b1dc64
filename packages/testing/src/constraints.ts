import pg from 'pg';
import { expect, it } from 'vitest';

/**
 * What every module's constraint tests share: rows made with plain SQL as the owner (no service in the way),
 * and a table of rows the database must refuse, each with the SQLSTATE and the constraint (or column) it
 * names. `{user}`, `{session}`… in a case's SQL stand for the ids the test made (`ids`).
 */

/** One row the database must refuse. */
export interface RefusedRow {
  rule: string;
  sql: string;
  code: '23502' | '23503' | '23505' | '23514' | '23P01';
  /** The constraint PostgreSQL names (not-null violations name the column instead). */
  constraint?: string;
  column?: string;
}

/** Plain-SQL helpers over a test's owner connection (`useSqlClient`). */
export function sqlProbe(postgres: { readonly client: pg.Client }, ids: Readonly<Record<string, number>>) {
  return {
    /** Runs an `insert …` and returns the new row's id. */
    async insert(sql: string, params: unknown[] = []): Promise<number> {
      const result = await postgres.client.query<{ id: number }>(`${sql} returning id`, params);
      return result.rows[0]!.id;
    },
    /** `select count(*) from <sql>`. */
    async count(sql: string, params: unknown[] = []): Promise<number> {
      const result = await postgres.client.query<{ count: string }>(`select count(*) from ${sql}`, params);
      return Number(result.rows[0]!.count);
    },
    /** Runs `sql`, expects PostgreSQL to refuse it, and returns its error. */
    async refusal(sql: string): Promise<pg.DatabaseError> {
      const error = await postgres.client.query(sql).then(
        () => undefined,
        (reason: unknown) => reason,
      );
      if (!(error instanceof pg.DatabaseError)) throw new Error(`expected the database to refuse: ${sql}`);
      return error;
    },
    /** `sql` with every `{name}` replaced by `ids[name]`. */
    withIds(sql: string): string {
      return sql.replace(/\{(\w+)\}/g, (_, key: string) => String(ids[key]));
    },
  };
}

/** One test per refused row: the database refuses it with that SQLSTATE, naming that constraint or column. */
export function itRefusesEach(probe: ReturnType<typeof sqlProbe>, rows: readonly RefusedRow[]): void {
  it.each(rows)('$rule', async ({ sql, code, constraint, column }) => {
    const error = await probe.refusal(probe.withIds(sql));
    expect(error.code).toBe(code);
    if (constraint) expect(error.constraint).toBe(constraint);
    if (column) expect(error.column).toBe(column);
  });
}
