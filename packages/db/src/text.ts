import { z } from 'zod';

/**
 * The zod string every module's input schemas use for text: well-formed UTF-16 only (no lone surrogate)
 * and no NUL character. PostgreSQL text cannot hold NUL (the statement fails as a protocol error), and a
 * lone surrogate is not a character at all: encoders silently replace it with U+FFFD, and PGlite measured
 * it wrongly and cut statements short. Refusing both at the boundary gives the caller a field-naming
 * InvalidInputError (`name: must be well-formed text without NUL characters`) and the database only text
 * it stores exactly. Chain the usual rules after it: `text().trim().min(1).max(200)`.
 */
export function text(): z.ZodString {
  return z.string().refine((value) => value.isWellFormed() && !value.includes('\u0000'), {
    error: 'must be well-formed text without NUL characters',
  });
}
