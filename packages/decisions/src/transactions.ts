import type { EntityManager } from '@huddle/db';

/**
 * A transaction for nobody in particular (the webhook, the API's `inRequestScope`): the webhook's service does
 * slow work (extraction, embedding) between its reads and its writes, so it takes this rather than an
 * EntityManager; each call runs `work` in a short transaction of its own, so no pool connection,
 * transaction or row lock is held while the slow work runs. Operations get theirs from `@huddle/db`
 * (`ActorTransactions`).
 */
export type InTransaction = <T>(work: (em: EntityManager) => Promise<T>) => Promise<T>;
