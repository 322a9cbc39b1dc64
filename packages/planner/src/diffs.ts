import { applyPatch, parsePatch, type StructuredPatch } from 'diff';
import type { DiffConflict } from './schemas.ts';

/**
 * The unified diffs of `code_changes` entries, read and applied with jsdiff (`diff`): its parser scans line
 * by line with anchored, non-nested patterns (linear in the diff's length), and `applyPatch` places each hunk
 * where its context matches exactly (no fuzz), the way `git apply` does by default.
 */

/** How much of the caller's text a refusal or a conflict quotes. */
const MAX_QUOTE_LENGTH = 200;

/** A diff of one file, parsed; or why it is not one (a rule, worded to follow `diff: `). */
export type ParsedDiff = { patch: StructuredPatch } | { refusal: string };

/**
 * Parses the diff of one file: at least one hunk (`@@ -a,b +c,d @@`) whose line counts match its lines, and
 * no second file's headers. The empty diff (a pure rename, a delete, an empty new file) has no hunks.
 */
export function parseFileDiff(diff: string): ParsedDiff {
  let patches: StructuredPatch[];
  try {
    patches = parsePatch(diff) as StructuredPatch[];
  } catch (error) {
    // The parser's message may quote a line of the caller's: a short prefix of it says enough.
    return { refusal: `must be a unified diff (${(error as Error).message.slice(0, MAX_QUOTE_LENGTH)})` };
  }
  if (patches.length !== 1) return { refusal: 'must be the diff of one file (it names several)' };
  const [patch] = patches as [StructuredPatch];
  if (diff.length > 0 && patch.hunks.length === 0) {
    return { refusal: 'must be a unified diff with at least one hunk ("@@ -1,2 +1,3 @@" and its lines)' };
  }
  return { patch };
}

const applied = (source: string, patch: StructuredPatch, hunks: number): string | false =>
  applyPatch(source, { ...patch, hunks: patch.hunks.slice(0, hunks) });

/**
 * Where `patch` stops applying to `source`; undefined when it applies. The first hunk that fails is found
 * by bisection: hunks are placed in order, each after the one before, so if the first k apply so do the
 * first k - 1.
 */
export function diffConflict(source: string, patch: StructuredPatch): DiffConflict | undefined {
  if (applyPatch(source, patch) !== false) return undefined;
  let fitting = 0;
  let failing = patch.hunks.length;
  while (failing - fitting > 1) {
    const middle = Math.floor((fitting + failing) / 2);
    if (applied(source, patch, middle) === false) failing = middle;
    else fitting = middle;
  }
  return conflictIn(source, patch, failing);
}

/** The first line of hunk `number` (from 1) that the file does not have where the hunk's header puts it. */
function conflictIn(source: string, patch: StructuredPatch, number: number): DiffConflict {
  const hunk = patch.hunks[number - 1]!;
  const lines = source.split('\n');
  const expectedLines = hunk.lines.filter((line) => line[0] === ' ' || line[0] === '-');
  const start = Math.max(hunk.oldStart, 1);
  for (let index = 0; index < expectedLines.length; index++) {
    const found = lines[start - 1 + index];
    const expected = expectedLines[index]!.slice(1);
    if (found !== expected) return quoted(number, start + index, expected, found ?? null);
  }
  // Every line is where the header says, so what failed is the end of the file (a newline marker).
  const last = expectedLines.length === 0 ? '' : expectedLines[expectedLines.length - 1]!.slice(1);
  return quoted(number, start + Math.max(expectedLines.length - 1, 0), last, last);
}

function quoted(hunk: number, line: number, expected: string, found: string | null): DiffConflict {
  return {
    hunk,
    line,
    expected: expected.slice(0, MAX_QUOTE_LENGTH),
    found: found === null ? null : found.slice(0, MAX_QUOTE_LENGTH),
  };
}
