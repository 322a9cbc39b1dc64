import { pipeline } from 'node:stream/promises';
import type { PGlite, Transaction } from '@electric-sql/pglite';
import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import type { Sql } from './catalog/sql.ts';

/** One transaction that can move rows with `COPY`, in PostgreSQL's text format. */
export interface CopySession {
  /** Statements with `$1`-style bound parameters, in the same transaction. */
  sql: Sql;
  /**
   * Whether a COPY hands over its whole output at once (PGlite's `/dev/blob`) rather than streaming it:
   * then a caller that wants flat memory copies a large table in slices.
   */
  readonly buffered: boolean;
  /** `COPY (query) TO …`: the output in chunks, in the query's order. */
  copyOut(query: string): AsyncIterable<Buffer>;
  /** `COPY target FROM …` with `rows`, chunks of whole lines; resolves once the database has them all. */
  copyIn(target: string, rows: AsyncIterable<Buffer>): Promise<void>;
}

export interface CopyTransactionOptions {
  /** A read-only REPEATABLE READ transaction: every statement sees the same snapshot (a consistent dump). */
  snapshot?: boolean;
}

/**
 * COPY needs the connection itself, which MikroORM's pool does not hand out: on PostgreSQL a connection of
 * its own (its own session and transaction), on PGlite the embedded instance.
 */
export interface BulkConnection {
  transaction<T>(work: (session: CopySession) => Promise<T>, options?: CopyTransactionOptions): Promise<T>;
}

/** Most bytes PGlite is given per COPY FROM (its `/dev/blob` reads a Blob held in memory). */
const PGLITE_COPY_IN_BYTES = 8 * 1024 * 1024;

export function postgresBulkConnection(url: string, connectTimeoutMs: number): BulkConnection {
  return {
    async transaction(work, options = {}) {
      const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: connectTimeoutMs });
      // A connection lost mid-transaction fails the statement in flight; the event itself must not crash.
      client.on('error', () => undefined);
      await client.connect();
      try {
        await client.query(options.snapshot ? 'begin isolation level repeatable read read only' : 'begin');
        const session: CopySession = {
          sql: async <Row>(text: string, params: readonly unknown[] = []) =>
            (await client.query(text, [...params])).rows as Row[],
          buffered: false,
          async *copyOut(query) {
            yield* client.query(copyTo(`copy (${query}) to stdout`));
          },
          async copyIn(target, rows) {
            await pipeline(rows, client.query(copyFrom(`copy ${target} from stdin`)));
          },
        };
        const result = await work(session);
        await client.query('commit');
        return result;
      } catch (error) {
        // A failure mid-COPY leaves the protocol mid-stream, where a ROLLBACK would wait forever: closing
        // the connection is what rolls the transaction back, in every state.
        client.connection.stream.destroy();
        throw error;
      } finally {
        await client.end().catch(() => undefined);
      }
    },
  };
}

function pgliteSession(tx: Transaction): CopySession {
  return {
    sql: async <Row>(text: string, params: readonly unknown[] = []) =>
      (await tx.query<Row>(text, [...params])).rows,
    buffered: true,
    async *copyOut(query) {
      const { blob } = await tx.query(`copy (${query}) to '/dev/blob'`);
      // No blob when the query returned no rows.
      if (blob) yield Buffer.from(await blob.arrayBuffer());
    },
    async copyIn(target, rows) {
      let parts: Buffer[] = [];
      let bytes = 0;
      const flush = async () => {
        if (bytes === 0) return;
        await tx.query(`copy ${target} from '/dev/blob'`, [], { blob: new Blob(parts) });
        parts = [];
        bytes = 0;
      };
      for await (const chunk of rows) {
        parts.push(chunk);
        bytes += chunk.length;
        if (bytes >= PGLITE_COPY_IN_BYTES) await flush();
      }
      await flush();
    },
  };
}

/** PGlite's own transaction, which holds every other query of the instance until it ends. */
export function pgliteBulkConnection(pglite: PGlite): BulkConnection {
  return {
    transaction: (work, options = {}) =>
      pglite.transaction(async (tx) => {
        if (options.snapshot) await tx.query('set transaction isolation level repeatable read, read only');
        return work(pgliteSession(tx));
      }),
  };
}
