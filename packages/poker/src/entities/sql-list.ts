/** `'a', 'b'`: a list of string literals for a CHECK constraint built from the same constants zod uses. */
export function sqlStringList(values: readonly string[]): string {
  return values.map((value) => `'${value.replaceAll("'", "''")}'`).join(', ');
}
