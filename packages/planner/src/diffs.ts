import { applyPatch, parsePatch, type StructuredPatch } from 'diff';

/**
 * The unified diffs of `code_changes` entries, read and applied with jsdiff (`diff`): its parser scans line
 * by line with anchored, non-nested patterns (linear in the diff's length), and `applyPatch` places each hunk
 * where its context matches exactly (no fuzz), the way `git apply` does by default.
 */

const MAX_REASON_LENGTH = 200;

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
    return { refusal: `must be a unified diff (${(error as Error).message.slice(0, MAX_REASON_LENGTH)})` };
  }
  if (patches.length !== 1) return { refusal: 'must be the diff of one file (it names several)' };
  const [patch] = patches as [StructuredPatch];
  if (diff.length > 0 && patch.hunks.length === 0) {
    return { refusal: 'must be a unified diff with at least one hunk ("@@ -1,2 +1,3 @@" and its lines)' };
  }
  return { patch };
}

/** Where a diff stops applying: its hunk (from 1), the line it expects there, and what the file has. */
export interface DiffConflict {
  hunk: number;
  /** The line of the file (from 1) where the hunk's first differing line was expected. */
  line: number;
  expected: string;
  /** Null past the end of the file. */
  found: string | null;
}

export type DiffApplication = { applies: true; result: string } | { applies: false; conflict: DiffConflict };

const applied = (source: string, patch: StructuredPatch, hunks: number): string | false =>
  applyPatch(source, { ...patch, hunks: patch.hunks.slice(0, hunks) });

/**
 * Applies `patch` to `source`. When it does not apply, the first hunk that fails is found by bisection: hunks
 * are placed in order, each after the one before, so if the first k apply so do the first k - 1.
 */
export function applyFileDiff(source: string, patch: StructuredPatch): DiffApplication {
  const result = applyPatch(source, patch);
  if (result !== false) return { applies: true, result };
  let fitting = 0;
  let failing = patch.hunks.length;
  while (failing - fitting > 1) {
    const middle = Math.floor((fitting + failing) / 2);
    if (applied(source, patch, middle) === false) failing = middle;
    else fitting = middle;
  }
  return { applies: false, conflict: conflictIn(source, patch, failing) };
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
    if (found !== expected) return { hunk: number, line: start + index, expected, found: found ?? null };
  }
  // Every line is where the header says, so what failed is the end of the file (a newline marker).
  const last = expectedLines.length === 0 ? '' : expectedLines[expectedLines.length - 1]!.slice(1);
  return { hunk: number, line: start + Math.max(expectedLines.length - 1, 0), expected: last, found: last };
}
