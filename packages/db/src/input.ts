import type { z } from 'zod';
import { InvalidInputError } from './errors.ts';

/**
 * Validates `input` against `schema` and returns the parsed value; on failure throws an InvalidInputError
 * whose message names the first offending field and its rule (`title: Too big: expected string to have
 * <=500 characters`). Services call this first, so every caller (API, CLI, embedding app) gets the same rules.
 */
export function parseInput<Schema extends z.ZodType>(schema: Schema, input: unknown): z.output<Schema> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = issue.path.map(String).join('.') || 'input';
  throw new InvalidInputError(`${field}: ${issue.message}`, { field }, { cause: result.error });
}
