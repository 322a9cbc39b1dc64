import type { EntityName, RequiredEntityData } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/sql';
import type { SeedContext } from './module.ts';

/** Rows per multi-row INSERT: large enough to amortise round trips, small enough for PostgreSQL's bind limit. */
const DEFAULT_ROWS_PER_INSERT = 1_000;

/**
 * Takes `count` ids from the serial sequence of `table` (`schema.table`, column `id`), so bulk rows can be
 * inserted with their ids known in advance and children can refer to them: `em.insertMany` reports only the
 * first generated id on PostgreSQL (MikroORM 7.2).
 */
export async function reserveIds(em: EntityManager, table: string, count: number): Promise<number[]> {
  // Connection.execute is typed loosely; this query's rows are exactly `{ id }` (bigint, read as text).
  const rows: { id: string }[] = await em
    .getConnection()
    .execute(
      `select nextval(pg_get_serial_sequence(?, 'id')) as id from generate_series(1, ?)`,
      [table, count],
      'all',
      em.getTransactionContext(),
    );
  return rows.map((row) => Number(row.id)).sort((a, b) => a - b);
}

/** Inserts `rows` as multi-row INSERTs, reporting progress for `table` after each chunk. */
export async function insertInChunks<Entity extends object>(
  em: EntityManager,
  entity: EntityName<Entity>,
  table: string,
  rows: RequiredEntityData<Entity>[],
  progress: SeedContext['progress'],
  rowsPerInsert = DEFAULT_ROWS_PER_INSERT,
): Promise<void> {
  progress(table, 0, rows.length);
  for (let start = 0; start < rows.length; start += rowsPerInsert) {
    const chunk = rows.slice(start, start + rowsPerInsert);
    await em.insertMany(entity, chunk);
    progress(table, start + chunk.length, rows.length);
  }
}

/** A seedable source of randomness for realistic seeders: the same seed gives the same sequence. */
export interface SeededRandom {
  /** Uniform in [0, 1). */
  next(): number;
  chance(probability: number): boolean;
  /** An integer in [min, max]. */
  integer(min: number, max: number): number;
  pick<T>(items: readonly T[]): T;
  /** `length` lower-case hex digits, e.g. for tokens and codes a database would otherwise draw at random. */
  hex(length: number): string;
}

/** mulberry32: a tiny, fast PRNG, plenty for sample data (never for secrets). */
export function seededRandom(seed: number): SeededRandom {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  const integer = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  return {
    next,
    chance: (probability) => next() < probability,
    integer,
    pick: (items) => items[integer(0, items.length - 1)]!,
    hex: (length) => Array.from({ length }, () => integer(0, 15).toString(16)).join(''),
  };
}
