import type { Options } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/sql';
import type { HuddleOrm } from './database.ts';
import type { DatabaseTarget } from './env.ts';
import { DatabaseUnavailableError, toHuddleError } from './errors.ts';

/**
 * Read replicas (`DATABASE_REPLICA_URLS`): PostgreSQL streaming replicas of the primary that serve read-only
 * requests. MikroORM holds their pools (`replicas`), but never picks one by itself (`preferReadReplicas:
 * false`): its own choice would send reads outside a transaction — migrations' bookkeeping, jobs, the
 * CLI — to a replica that may be behind. Only `inRequestScope` with `readOnly` routes to one.
 *
 * Read-your-writes: a caller that wrote passes the primary's WAL position after its write
 * (`primaryWalPosition`) as `after`; a replica serves its read only once it has replayed that far, else the
 * primary does. Nothing waits for a replica to catch up.
 */
export interface ReadOnlyRequest {
  /**
   * A WAL position (an LSN such as `16/B374D848`, validated by the caller) the read must see: the caller's
   * last write. Unset: any replica will do, however far behind.
   */
  after?: string;
}

/** MikroORM options giving the runtime ORM its replica pools (same pool size and session settings as the primary's). */
export function replicaOptions(target: DatabaseTarget): Partial<Options> {
  if (target.kind !== 'postgresql' || !target.replicaUrls?.length) return {};
  return {
    replicas: target.replicaUrls.map((url, index) => ({ name: `replica-${index + 1}`, clientUrl: url })),
    preferReadReplicas: false,
  };
}

function hasReplicas(orm: HuddleOrm): boolean {
  return (orm.config.get('replicas')?.length ?? 0) > 0;
}

/**
 * The primary's WAL insert position now, as text (`16/B374D848`): at or past the commit record of every
 * transaction committed before the call, whether or not its WAL has been flushed yet (asynchronous commit).
 * Without replicas there is nothing to compare it with: `undefined`, and no query.
 */
export async function primaryWalPosition(orm: HuddleOrm): Promise<string | undefined> {
  if (!hasReplicas(orm)) return undefined;
  const [row] = await orm.em
    .getConnection('write')
    .execute<{ lsn: string }[]>('select pg_current_wal_insert_lsn()::text as lsn');
  return row!.lsn;
}

const BEHIND = Symbol('replica behind');

/**
 * Runs `work` in a READ ONLY transaction on `em`: on a random replica when the database has some and that
 * replica has replayed `request.after`; otherwise — no replicas, a replica behind, a replica that cannot
 * begin a transaction (down, restarting) — on the primary. A read-only transaction refuses writes and row
 * locks on the primary too, so a procedure that writes fails the same way with or without replicas.
 *
 * MikroORM always begins `em.transactional` on the primary, so the replica's transaction is begun on its
 * connection and handed to `em` as its transaction context: every query of `work`, the flush and nested
 * transactions (savepoints) then run in it.
 */
export async function readOnlyTransaction<T>(
  orm: HuddleOrm,
  em: EntityManager,
  work: (em: EntityManager) => Promise<T>,
  request: ReadOnlyRequest,
): Promise<T> {
  const onPrimary = () => em.transactional((tx) => work(tx), { readOnly: true });
  if (!hasReplicas(orm)) return onPrimary();
  const replica = orm.em.getConnection('read');
  let begun = false;
  let outcome: { value: T } | typeof BEHIND;
  try {
    outcome = await replica.transactional(
      async (trx) => {
        begun = true;
        if (request.after !== undefined) {
          // NULL when the server is not replaying WAL (not a streaming replica): never caught up.
          const [row] = await replica.execute<{ caught_up: boolean | null }[]>(
            'select pg_last_wal_replay_lsn() >= ?::pg_lsn as caught_up',
            [request.after],
            'all',
            trx,
          );
          if (row?.caught_up !== true) return BEHIND;
        }
        em.setTransactionContext(trx);
        try {
          const value = await work(em);
          await em.flush();
          return { value };
        } finally {
          em.resetTransactionContext();
        }
      },
      { readOnly: true },
    );
  } catch (error) {
    if (!begun && toHuddleError(error) instanceof DatabaseUnavailableError) return onPrimary();
    throw error;
  }
  return outcome === BEHIND ? onPrimary() : outcome.value;
}
