import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  cursorTimestamp,
  encodeCursor,
  isoTimestamp,
  keysetCursor,
  MAX_PAGE_SIZE,
  pageLimit,
  serialId,
  toPage,
} from '../src/zod.ts';

const cursor = keysetCursor(z.tuple([isoTimestamp(), serialId()]));

describe('keyset paging', () => {
  it('round-trips a page key through its cursor', () => {
    const page = toPage(
      [
        { id: 3, at: '2026-01-01T00:00:00.000Z' },
        { id: 2, at: '2026-01-02T00:00:00.000Z' },
        { id: 1, at: '2026-01-03T00:00:00.000Z' },
      ],
      2,
      (row) => row.id,
      (row) => [row.at, row.id],
    );
    expect(page.items).toEqual([3, 2]);
    expect(cursor.parse(page.nextCursor)).toEqual(['2026-01-02T00:00:00.000Z', 2]);
  });

  it('takes only the string a list returned, not a decoded key (inputs are parsed once), and bounds it', () => {
    const parsed = cursor.parse(encodeCursor(['2026-01-02T00:00:00.000Z', 2]));
    expect(cursor.safeParse(parsed).success).toBe(false);
    expect(cursor.safeParse('x'.repeat(513)).error?.issues[0]?.message).toBe(
      'must be a nextCursor this list returned',
    );
  });

  it('has no next cursor on the last page', () => {
    expect(
      toPage(
        [1, 2],
        2,
        (row) => row,
        (row) => row,
      ).nextCursor,
    ).toBeNull();
  });

  it('refuses a cursor it did not make, naming the rule', () => {
    for (const forged of ['not base64 json!', encodeCursor(['yesterday', 1]), encodeCursor({ id: 1 })]) {
      const result = cursor.safeParse(forged);
      expect(result.success).toBe(false);
      expect(result.error?.issues[0]?.message).toBe('must be a nextCursor this list returned');
    }
  });

  it('bounds the page size', () => {
    expect(pageLimit(50).parse(undefined)).toBe(50);
    expect(pageLimit(50).safeParse(MAX_PAGE_SIZE + 1).success).toBe(false);
  });
});

describe('a cursor timestamp', () => {
  // Before: ISO's year 0000 passed and PostgreSQL refused it in the statement (a 500).
  it('refuses a year PostgreSQL cannot hold, and keeps microseconds', () => {
    const timestamped = keysetCursor(z.tuple([cursorTimestamp(), serialId()]));
    const refused = timestamped.safeParse(encodeCursor(['0000-02-29T20:16:09Z', 1]));
    expect(refused.success).toBe(false);
    expect(timestamped.parse(encodeCursor(['2026-12-06T08:00:00.123456Z', 1]))).toEqual([
      '2026-12-06T08:00:00.123456Z',
      1,
    ]);
  });
});
