import type { EntityManager } from '@mikro-orm/sql';
import type { ModuleJob } from './module.ts';

/**
 * Idempotent mutations (the IETF draft "The Idempotency-Key HTTP Header Field"): the first successful
 * result of a mutation sent with a key is stored in `huddle.idempotency_keys` in the mutation's own
 * transaction, so the two commit together or not at all, and a retry with the key gets that result back
 * instead of running the mutation again. A failed mutation stores nothing: it changed nothing either, so a
 * retry runs it again.
 */

/** One mutation sent with a key, identified before its transaction opens (hashing is no work for a connection). */
export interface IdempotentCall {
  /** The actor's module and token subject: a key belongs to its actor, another actor's same key is another key. */
  module: string;
  subject: string;
  key: string;
  /** The procedure's path, e.g. `scrum.chat.sendChannel`. */
  procedure: string;
  /** A hash of the call's input; a retry must send the same input. */
  inputHash: string;
}

/**
 * What a key says about a call: `new` — run the mutation, then `recordIdempotentResult`; `replay` — the
 * mutation ran, here is its result; `reused` — the key went with another procedure or input; `in_progress`
 * — another request with the key is running right now.
 */
export type IdempotencyClaim =
  | { status: 'new' }
  | { status: 'replay'; data: unknown }
  | { status: 'reused'; procedure: string; sameProcedure: boolean }
  | { status: 'in_progress' };

/**
 * How the result is stored: `{ data }`, without `data` when the mutation returned nothing. The column is
 * `json`, not `jsonb`, which keeps the text as written, so a replay answers with the first answer's bytes.
 */
interface StoredResult {
  data?: unknown;
}

/** The transaction-scoped advisory lock a request holds on its actor's key while it runs. */
const lockName = (call: IdempotentCall) => `huddle.idempotency:${call.module}:${call.subject}:${call.key}`;

/**
 * Claims `call`'s key in the request's transaction (`em`), before the mutation runs: one statement takes the
 * key's transaction-scoped advisory lock without waiting and reads the key's unexpired result. Two requests
 * with one key never both run the mutation: the second finds the lock held (`in_progress`) or, once the
 * first committed, its result. One that committed between this statement's snapshot and its lock is caught
 * when the result is recorded (`recordIdempotentResult`).
 */
export async function claimIdempotencyKey(
  em: EntityManager,
  call: IdempotentCall,
): Promise<IdempotencyClaim> {
  const [row] = await em.execute<
    { locked: boolean; procedure: string | null; input_hash: string | null; result: StoredResult | null }[]
  >(
    `select pg_try_advisory_xact_lock(hashtextextended(?, 0)) as locked, k.procedure, k.input_hash, k.result
     from (select 1) as one
     left join huddle.idempotency_keys k
       on k.module = ? and k.subject = ? and k.key = ? and k.expires_at > current_timestamp`,
    [lockName(call), call.module, call.subject, call.key],
  );
  if (row!.result) {
    if (row!.procedure === call.procedure && row!.input_hash === call.inputHash) {
      return { status: 'replay', data: row!.result.data };
    }
    return {
      status: 'reused',
      procedure: row!.procedure!,
      sameProcedure: row!.procedure === call.procedure,
    };
  }
  return row!.locked ? { status: 'new' } : { status: 'in_progress' };
}

/**
 * Stores the mutation's result `data` for `call`'s key in the same transaction, kept for `windowSeconds`.
 * An expired row of the key is replaced. False when a live row is already there — another request with the
 * key committed first (see `claimIdempotencyKey`): the caller must roll back rather than answer twice.
 */
export async function recordIdempotentResult(
  em: EntityManager,
  call: IdempotentCall,
  data: unknown,
  windowSeconds: number,
): Promise<boolean> {
  const stored: StoredResult = { data };
  const written = await em.execute<unknown[]>(
    `insert into huddle.idempotency_keys (module, subject, key, procedure, input_hash, result, expires_at)
     values (?, ?, ?, ?, ?, ?::json, current_timestamp + make_interval(secs => ?))
     on conflict (module, subject, key) do update
       set procedure = excluded.procedure, input_hash = excluded.input_hash, result = excluded.result,
           created_at = excluded.created_at, expires_at = excluded.expires_at
       where idempotency_keys.expires_at <= current_timestamp
     returning 1`,
    [
      call.module,
      call.subject,
      call.key,
      call.procedure,
      call.inputHash,
      JSON.stringify(stored),
      windowSeconds,
    ],
  );
  return written.length === 1;
}

/** Deletes the stored results whose keys have expired (`huddle jobs run huddle.expire-idempotency-keys`). */
export const expireIdempotencyKeysJob: ModuleJob = {
  name: 'expire-idempotency-keys',
  description: 'Delete the stored results of idempotency keys past their expiry',
  schedule: '7 * * * *',
  async run(em, { now }) {
    const deleted = await em.execute<{ affectedRows: number }>(
      'delete from huddle.idempotency_keys where expires_at <= ?',
      [now],
      'run',
    );
    return {
      rows: deleted.affectedRows,
      summary: `${deleted.affectedRows} expired idempotency keys deleted`,
    };
  },
};
