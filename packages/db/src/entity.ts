import { type FilterOptions, p, type TriggerDef } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/sql';

/**
 * The conventions every module's entities share, so each table states only what is its own. A module never
 * writes its schema on an entity: `openDatabase` gives every entity its module's name as schema.
 */

/** A `timestamptz` column (every timestamp is one: the schema template's rule). */
export const timestamptz = () => p.datetime().columnType('timestamptz');

/** `timestamptz not null default current_timestamp`: when the row was written. */
export const createdAt = () => timestamptz().defaultRaw('current_timestamp');

/** `created_at` and `updated_at`; add `touchUpdatedAt` to the entity's triggers to keep `updated_at` current. */
export const timestamps = () => ({ createdAt: createdAt(), updatedAt: createdAt() });

/**
 * Keeps `updated_at` current in the database, so no writer (service, seeder, raw SQL) can forget it. Its
 * function gets a fixed `search_path` in the module's migration (`fixTriggerSearchPath`).
 */
export const touchUpdatedAt: TriggerDef = {
  name: 'touch_updated_at',
  timing: 'before',
  events: ['update'],
  body: 'new.updated_at = now(); return new;',
};

/** `alter function … set search_path = ''` for the function MikroORM creates behind an entity trigger. */
export function fixTriggerSearchPath(schema: string, table: string, trigger: string): string {
  return `alter function "${schema}"."${table}_${trigger}_fn"() set search_path = '';`;
}

/** Soft delete: `deleted_at`, and a default filter so every query leaves deleted rows out unless asked. */
export const softDelete = {
  property: () => timestamptz().nullable(),
  filter: 'notDeleted',
  /** Find options that include deleted rows: `em.find(Entity, where, { ...softDelete.included })`. */
  included: { filters: { notDeleted: false } },
  filters: { notDeleted: { name: 'notDeleted', cond: { deletedAt: null }, default: true } },
} as const;

/** Archive: `archived_at`, and a default filter so queries leave archived rows out unless asked. */
export const archive = {
  property: () => timestamptz().nullable(),
  filter: 'notArchived',
  /** Find options that include archived rows: `em.find(Entity, where, { ...archive.included })`. */
  included: { filters: { notArchived: false } },
  filters: { notArchived: { name: 'notArchived', cond: { archivedAt: null }, default: true } },
} as const;

/** `'a', 'b'`: string literals for SQL, from the same constants the zod schemas use. */
export function sqlStringList(values: readonly string[]): string {
  return values.map((value) => `'${value.replaceAll("'", "''")}'`).join(', ');
}

/**
 * A `timestamptz` column (an SQL expression) rendered as the ISO-8601 text the output schemas carry
 * (`2026-11-22T06:31:05.123Z`, UTC, milliseconds): for hot reads that build their answer as JSON in the
 * database instead of hydrating entities.
 */
export function isoTimestampSql(column: string): string {
  return `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
}

/**
 * A `timestamptz` column as ISO-8601 text with microseconds, PostgreSQL's own precision: the timestamp of a
 * keyset cursor, which must compare exactly with the stored value (milliseconds would skip or repeat rows
 * that differ in the last three digits).
 */
export function keysetTimestampSql(column: string): string {
  return `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
}

/** A named CHECK that `column` is one of `values`. */
export function checkIn(name: string, column: string, values: readonly string[]) {
  return { name, expression: `${column} in (${sqlStringList(values)})` };
}

/**
 * Writes the unit of work and reads `entity` back: what the database set (an `updated_at` trigger, defaults)
 * is then in the answer. `options` as `refreshOrFail`'s (e.g. filters a soft-deleted row must pass).
 */
export async function flushAndReload<Entity extends object>(
  em: EntityManager,
  entity: Entity,
  options: { filters?: FilterOptions } = {},
) {
  await em.flush();
  return em.refreshOrFail(entity, options);
}
