import { z } from 'zod';

/**
 * Input schemas every module shares, importable without the ORM (`@huddle/db/zod`), so a package's zod
 * schemas load on their own in a client.
 */

export const TEXT_RULE = 'must be well-formed text without NUL characters';

/**
 * Every string a client sends: well-formed UTF-16 (no lone surrogates, which the embedded database
 * mis-measures) and no NUL (PostgreSQL text cannot hold it). Chain `.trim().min().max()` as usual.
 */
export const text = () =>
  z.string().refine((value) => value.isWellFormed() && !value.includes('\u0000'), { message: TEXT_RULE });

/** A serial id: a positive PostgreSQL `integer`, so an out-of-range id is bad input, not a database error. */
export const serialId = () => z.number().int().positive().max(2_147_483_647);

/** A timestamp in an output: ISO 8601 in UTC, as services render `timestamptz` values (`toISOString`). */
export const isoTimestamp = () => z.iso.datetime();
