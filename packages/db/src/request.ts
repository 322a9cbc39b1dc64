import type { EntityManager } from '@mikro-orm/sql';
import type { HuddleOrm } from './database.ts';
import { isRetryableTransactionError, toHuddleError } from './errors.ts';

export interface RequestScopeOptions {
  /** `SET LOCAL ROLE` for the transaction, so row-level-security policies apply to it. */
  role?: string;
  /** `set_config(name, value, true)` for the transaction, read by policies through `current_setting(name)`. */
  settings?: Record<string, string>;
  /** How many times a transaction failing with a serialization failure or deadlock is retried. */
  retries?: number;
}

const DEFAULT_RETRIES = 5;

/**
 * Runs `work` in its own EntityManager fork and transaction: the unit of one API request or CLI command.
 * Serialization failures and deadlocks retry the whole transaction (bounded); every database error that
 * escapes is mapped to a typed HuddleError. Never await another EntityManager inside `work`: on PGlite that
 * deadlocks, and on PostgreSQL it escapes the transaction.
 */
export async function inRequestScope<T>(
  orm: HuddleOrm,
  work: (em: EntityManager) => Promise<T>,
  options: RequestScopeOptions = {},
): Promise<T> {
  const retries = options.retries ?? DEFAULT_RETRIES;
  for (let attempt = 0; ; attempt++) {
    const em = orm.em.fork({ clear: true });
    if (options.role || options.settings) {
      em.setSessionContext({
        ...(options.role && { role: options.role }),
        ...(options.settings && { variables: options.settings }),
      });
    }
    try {
      return await em.transactional((tx) => work(tx));
    } catch (error) {
      if (attempt < retries && isRetryableTransactionError(error)) {
        await new Promise((resolve) => setTimeout(resolve, 5 * 2 ** attempt * (0.5 + Math.random())));
        continue;
      }
      throw toHuddleError(error);
    }
  }
}
