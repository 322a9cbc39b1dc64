/**
 * The one way a read builds its answer: the database renders it in the output schema's shape, from a select
 * list whose fields the compiler checks against the output type (every field of `Output` has its expression,
 * and no other). A service's row then already is its answer; nothing maps it again in Node.
 */

/** An SQL expression for every field of `Output`. */
export type OutputColumns<Output> = { readonly [Field in keyof Output]-?: string };

/** `expression as "field", …`: a row of the statement is an `Output`. */
export function outputColumnsSql<Output>(columns: OutputColumns<Output>): string {
  return Object.entries<string>(columns)
    .map(([field, expression]) => `${expression} as "${field}"`)
    .join(', ');
}

/** `json_build_object('field', expression, …)`: an `Output` nested in a statement's answer (lists, details). */
export function outputObjectSql<Output>(columns: OutputColumns<Output>): string {
  const pairs = Object.entries<string>(columns).map(([field, expression]) => `'${field}', ${expression}`);
  return `json_build_object(${pairs.join(', ')})`;
}
