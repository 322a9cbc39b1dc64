import type { EntityManager } from '@mikro-orm/sql';
import { CompiledQuery, type Kysely, type Transaction } from 'kysely';
import pg from 'pg';

/**
 * A statement of a request's hot path, with `$1`, `$2`, … parameters. On PostgreSQL it runs as a named
 * prepared statement: each pooled connection parses and plans it once and afterwards only executes it. A
 * statement that renders a whole answer costs the server more to parse and plan than to run (measured in
 * bench/README.md), and on a machine the API shares with its database that is CPU the API does not get.
 * The embedded database runs it as an ordinary parameterised statement.
 */
export interface PreparedStatement<Row> {
  readonly name: string;
  readonly sql: string;
  /** Only carries the row type; never set. */
  readonly row?: Row;
}

/** Statement text → its name, for `PooledClient`: a query arrives at the client as text only. */
const preparedNames = new Map<string, string>();
/** Name → its statement's text: a name stands for one statement. */
const declaredSql = new Map<string, string>();

/** PostgreSQL's limit on a prepared statement's name (NAMEDATALEN - 1). */
const MAX_NAME_LENGTH = 63;

/**
 * Declares a hot statement, once, at module level. Its name is unique in the process: a second statement
 * under the same name (or a name too long for PostgreSQL) is a programming error, thrown at load time.
 */
export function preparedStatement<Row>(name: string, sql: string): PreparedStatement<Row> {
  if (name.length > MAX_NAME_LENGTH || !/^[a-z][a-z0-9_.]*$/.test(name)) {
    throw new Error(
      `prepared statement "${name}": a name is lower-case, at most ${MAX_NAME_LENGTH} characters`,
    );
  }
  const declared = declaredSql.get(name);
  if (declared !== undefined && declared !== sql) {
    throw new Error(`prepared statement "${name}" is declared twice with different SQL`);
  }
  declaredSql.set(name, sql);
  preparedNames.set(sql, name);
  return { name, sql };
}

/**
 * Runs `statement` in `em`'s transaction (on its connection, primary or replica) with its parameters sent
 * apart from the text, and returns its rows. Errors are the database's own, mapped like every other by the
 * request scope (`toHuddleError`).
 */
export async function executePrepared<Row>(
  em: EntityManager,
  statement: PreparedStatement<Row>,
  params: readonly unknown[],
): Promise<Row[]> {
  const executor: Pick<Kysely<unknown>, 'executeQuery'> = em.getTransactionContext<Transaction<unknown>>() ??
  em.getConnection('write').getClient();
  const result = await executor.executeQuery(
    CompiledQuery.raw(statement.sql, [...params]) as CompiledQuery<Row>,
  );
  return result.rows;
}

/** A statement that opens a transaction, as Kysely sends it (`begin`, `start transaction read only`, …). */
const BEGIN = /^\s*(begin|start\s+transaction)\b/i;
/** A statement that ends one: when nothing was sent since the BEGIN, there is nothing to end. */
const END = /^\s*(commit|rollback)\s*;?\s*$/i;

function completed(command: string): pg.QueryResult {
  return { command, rowCount: null, oid: 0, rows: [], fields: [] };
}

type Send = (this: pg.Client, ...args: unknown[]) => unknown;
const send = pg.Client.prototype.query as Send;

/**
 * The `pg` client of Huddle's PostgreSQL pools. Two things make a request's round trips fewer:
 * - A query whose text is a declared prepared statement, with its values, is sent under the statement's
 *   name, so the connection prepares it on first use and reuses the plan after.
 * - A transaction's BEGIN is not sent alone: it is held and sent with the transaction's first statement in
 *   one message when that statement has no separate parameters (MikroORM's never do: it writes their
 *   values into the text), else just before it. A transaction that ends before any statement sends nothing.
 * Everything else goes through unchanged. (Kysely hands `pg` only a statement's text and values.)
 */
export class PooledClient extends pg.Client {
  #heldBegin: string | undefined;

  // `never`: pg declares `query` as a dozen overloads; this forwards every call shape to one of them.
  override query(...args: unknown[]): never {
    const [text, values, callback] = args;
    if (typeof text !== 'string' || typeof values === 'function' || callback !== undefined) {
      // A stream or a callback is answered synchronously, so it cannot wait for a held BEGIN's answer.
      if (this.#heldBegin !== undefined)
        throw new Error('a transaction must begin with a statement, not a stream');
      return send.apply(this, args) as never;
    }
    return this.#query(text, values) as never;
  }

  async #query(text: string, values: unknown): Promise<unknown> {
    const plain = values === undefined || (Array.isArray(values) && values.length === 0);
    const begin = this.#heldBegin;
    if (begin === undefined && plain && BEGIN.test(text)) {
      this.#heldBegin = text;
      return completed('BEGIN');
    }
    this.#heldBegin = undefined;
    if (begin !== undefined && plain) {
      if (END.test(text)) return completed(text.trim().split(/\s|;/)[0]!.toUpperCase());
      const [, ...results] = (await send.call(this, `${begin};\n${text}`)) as pg.QueryResult[];
      return results.length === 1 ? results[0] : results;
    }
    if (begin !== undefined) await send.call(this, begin);
    const name = preparedNames.get(text);
    return name !== undefined && Array.isArray(values)
      ? send.call(this, { name, text, values })
      : send.call(this, text, values);
  }
}
