import type { EntityManager } from '@mikro-orm/sql';
import type { ModuleActor } from './actor.ts';
import type { HuddleOrm } from './database.ts';
import { isRetryableTransactionError, toHuddleError } from './errors.ts';
import type { ModuleWithActors } from './module.ts';
import { type ReadOnlyRequest, readOnlyTransaction } from './replicas.ts';
import { APPLICATION_ROLE } from './roles.ts';

export interface RequestScopeOptions {
  /** How many times a transaction failing with a serialization failure or deadlock is retried. */
  retries?: number;
  /** The work only reads: a READ ONLY transaction, on a read replica when one has the caller's writes (replicas.ts). */
  readOnly?: ReadOnlyRequest;
}

const DEFAULT_RETRIES = 5;

/**
 * Runs `work` in its own EntityManager fork and transaction, as the connecting (owner) role: the unit of
 * one operator command (migrations, seeding, jobs). Requests made for a user go through `runAsActor`.
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
    try {
      return await (options.readOnly
        ? readOnlyTransaction(orm, em, work, options.readOnly)
        : em.transactional((tx) => work(tx)));
    } catch (error) {
      if (attempt < retries && isRetryableTransactionError(error)) {
        await new Promise((resolve) => setTimeout(resolve, 5 * 2 ** attempt * (0.5 + Math.random())));
        continue;
      }
      throw toHuddleError(error);
    }
  }
}

/**
 * Switches the rest of the transaction to `application_user` with `settings` for row-level security, in one
 * statement: `set_config('role', …, true)` is `SET LOCAL ROLE`.
 */
async function switchToApplicationRole(em: EntityManager, settings: Record<string, string>): Promise<void> {
  const entries = Object.entries({ role: APPLICATION_ROLE, ...settings });
  await em.execute(`select ${entries.map(() => 'set_config(?, ?, true)').join(', ')}`, entries.flat(), 'run');
}

/**
 * Runs `work` for `actor` of `module` with least privilege: one EntityManager fork and transaction in which
 * the module loads the actor (`ActorSpec.load`: it must still exist and be allowed to act), then the
 * transaction switches to `application_user` with the module's `set_config` values, so the database's
 * grants and row-level-security policies, not only the services, decide what the request may see and do.
 * This is what the API, subscriptions, the CLI when it acts for a user, and the test helpers use.
 */
export function runAsActor<Actor extends ModuleActor, T>(
  orm: HuddleOrm,
  module: ModuleWithActors<Actor>,
  actor: Actor,
  work: (em: EntityManager, actor: Actor) => Promise<T>,
  options: RequestScopeOptions = {},
): Promise<T> {
  const spec = module.actor;
  return inRequestScope(
    orm,
    async (em) => {
      const loaded = await spec.load(em, actor);
      await switchToApplicationRole(em, spec.settings?.(loaded) ?? {});
      return work(em, loaded);
    },
    options,
  );
}

/**
 * Runs a request that acts for nobody yet (signing in, joining) with the same least privilege: its own
 * transaction as `application_user`, with no actor settings.
 */
export function runAnonymously<T>(
  orm: HuddleOrm,
  work: (em: EntityManager) => Promise<T>,
  options: RequestScopeOptions = {},
): Promise<T> {
  return inRequestScope(
    orm,
    async (em) => {
      await switchToApplicationRole(em, {});
      return work(em);
    },
    options,
  );
}
