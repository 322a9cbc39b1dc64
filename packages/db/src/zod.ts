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

/** A one-time secret as `newOneTimeSecret` gives it out (secrets.ts): exactly 43 base64url characters. */
export function oneTimeSecretText(): z.ZodString {
  return z.string().regex(/^[A-Za-z0-9_-]{43}$/, { error: 'must be the 43-character code you were given' });
}

/** The largest value of PostgreSQL's `integer`, which serial ids are. */
export const MAX_SERIAL_ID = 2_147_483_647;

/** A serial id: a positive PostgreSQL `integer`, so an out-of-range id is bad input, not a database error. */
export const serialId = () => z.number().int().positive().max(MAX_SERIAL_ID);

/** A timestamp in an output: ISO 8601 in UTC, as services render `timestamptz` values (`toISOString`). */
export const isoTimestamp = () => z.iso.datetime();

/**
 * A timestamp a client sends back inside a keyset cursor: ISO 8601 that PostgreSQL can read. ISO allows the
 * year 0000, which PostgreSQL refuses (`date/time field value out of range`), so it is refused here, naming
 * the cursor, instead of failing in the database.
 */
export const cursorTimestamp = () =>
  z.iso.datetime().refine((value) => Number(value.slice(0, 4)) >= 1, {
    error: 'must be a year PostgreSQL can hold (0001 or later)',
  });

/** The most items any list answers with in one page, whatever the caller asks for. */
export const MAX_PAGE_SIZE = 200;

/** A list's page size: 1 to MAX_PAGE_SIZE, `fallback` when the caller sends none. */
export const pageLimit = (fallback: number) => z.number().int().min(1).max(MAX_PAGE_SIZE).default(fallback);

const CURSOR_RULE = 'must be a nextCursor this list returned';

/** The longest cursor accepted: a page key is a few values. */
const MAX_CURSOR_LENGTH = 512;

/**
 * A keyset cursor: the sort key of a page's last item, sent to the client as opaque base64url JSON and parsed
 * back into `key` (for example `z.tuple([isoTimestamp(), serialId()])`) at the edge, so a service receives
 * typed key values and a forged cursor is a field-naming invalid input, never a database error. Inputs
 * are parsed once (where an operation is called), so a cursor is only ever the string a list returned.
 */
export function keysetCursor<Key extends z.ZodType>(key: Key) {
  return z.string().transform((value, context): z.output<Key> => {
    let decoded: unknown;
    try {
      if (value.length > MAX_CURSOR_LENGTH) throw new RangeError('cursor too long');
      decoded = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
    } catch {
      context.addIssue({ code: 'custom', message: CURSOR_RULE });
      return z.NEVER;
    }
    const parsed = key.safeParse(decoded);
    if (!parsed.success) {
      context.addIssue({ code: 'custom', message: CURSOR_RULE });
      return z.NEVER;
    }
    return parsed.data;
  });
}

/** The cursor a client sends back for the page after the one ending with `key`. */
export function encodeCursor(key: unknown): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

/** A page of a list: at most MAX_PAGE_SIZE items, and the cursor of the next page (null on the last). */
export function pageOf<Item extends z.ZodType>(item: Item) {
  return z.object({ items: z.array(item).max(MAX_PAGE_SIZE), nextCursor: z.string().nullable() });
}

/**
 * Builds a page from rows read with `limit + 1`: the extra row only says that another page exists; the
 * cursor is the sort key of the last row kept.
 */
export function toPage<Row, Item>(
  rows: readonly Row[],
  limit: number,
  item: (row: Row) => Item,
  key: (row: Row) => unknown,
): { items: Item[]; nextCursor: string | null } {
  const kept = rows.slice(0, limit);
  const last = kept.at(-1);
  return {
    items: kept.map(item),
    nextCursor: rows.length > limit && last !== undefined ? encodeCursor(key(last)) : null,
  };
}

/** `toPage` of rows that are the page's items as they are: a read whose columns are its output's fields. */
export function rowsToPage<Row>(
  rows: readonly Row[],
  limit: number,
  key: (row: Row) => unknown,
): { items: Row[]; nextCursor: string | null } {
  return toPage(rows, limit, (row) => row, key);
}
