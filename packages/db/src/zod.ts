import { z } from 'zod';

/**
 * Input schemas every module shares, importable without the ORM (`@huddle/db/zod`), so a package's zod
 * schemas load on their own in a client.
 */

export const TEXT_RULE = 'must be well-formed text without NUL characters';

/**
 * The zod string every module's input schemas use for text: well-formed UTF-16 only (no lone surrogate)
 * and no NUL character. PostgreSQL text cannot hold NUL (the statement fails as a protocol error), and a
 * lone surrogate is not a character at all: encoders silently replace it with U+FFFD, and PGlite measured
 * it wrongly and cut statements short. Refusing both at the boundary gives the caller a field-naming
 * InvalidInputError (`name: must be well-formed text without NUL characters`) and the database only text
 * it stores exactly. Chain the usual rules after it: `text().trim().min(1).max(200)`.
 */
export function text(): z.ZodString {
  return z
    .string()
    .refine((value) => value.isWellFormed() && !value.includes('\u0000'), { error: TEXT_RULE });
}

/** The largest value of PostgreSQL's `integer`, which serial ids are. */
export const MAX_SERIAL_ID = 2_147_483_647;

/** A serial id: a positive PostgreSQL `integer`, so an out-of-range id is bad input, not a database error. */
export const serialId = () => z.number().int().positive().max(MAX_SERIAL_ID);

/** A timestamp in an output: ISO 8601 in UTC, as services render `timestamptz` values (`toISOString`). */
export const isoTimestamp = () => z.iso.datetime();
