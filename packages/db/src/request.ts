import type { EntityManager } from '@mikro-orm/sql';
import type { ActorLoad, ActorRow, ActorSpec, ModuleActor } from './actor.ts';
import { quoteIdentifier } from './catalog/introspect.ts';
import type { HuddleOrm } from './database.ts';
import { isRetryableTransactionError, toHuddleError, UnauthorizedError } from './errors.ts';
import type { DomainModule, ModuleWithActors } from './module.ts';
import { type ReadOnlyRequest, readOnlyTransaction } from './replicas.ts';

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
 * escapes is mapped to a typed HuddleError (a connection lost during the COMMIT: OutcomeUnknownError). Never await another EntityManager inside `work`: on PGlite that
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
    // Set once the work and its flush succeeded: what fails after that is the COMMIT, whose outcome a lost
    // connection leaves unknown.
    let committing = false;
    try {
      return await (options.readOnly
        ? readOnlyTransaction(orm, em, work, options.readOnly)
        : em.transactional(async (tx) => {
            const result = await work(tx);
            await tx.flush();
            committing = true;
            return result;
          }));
    } catch (error) {
      if (attempt < retries && isRetryableTransactionError(error)) {
        await new Promise((resolve) => setTimeout(resolve, 5 * 2 ** attempt * (0.5 + Math.random())));
        continue;
      }
      throw toHuddleError(error, { committing });
    }
  }
}

/** Switches the rest of the transaction to `role` (`set_config('role', …, true)` is `SET LOCAL ROLE`). */
async function switchToRole(em: EntityManager, role: string): Promise<void> {
  await em.execute(`select set_config('role', ?, true)`, [role], 'run');
}

/**
 * The actor its module confirms from `row`. No row always refuses, whatever the module's `confirm` says:
 * without a row nothing was switched, and a request must never go on as the connecting role.
 */
function confirmActor<Actor extends ModuleActor>(
  spec: ActorSpec<Actor>,
  load: ActorLoad<Actor>,
  actor: Actor,
  row: ActorRow | undefined,
): Actor {
  const confirmed = load.confirm(actor, row);
  if (!row) throw new UnauthorizedError(`subject: "${spec.subject(actor)}" does not exist`);
  return confirmed;
}

/**
 * Confirms in the database that `actor` may act and returns it completed (its module's `load`), as the
 * connecting role and without switching: for issuing a token, and for tools that check a subject.
 */
export async function loadActor<Actor extends ModuleActor>(
  em: EntityManager,
  spec: ActorSpec<Actor>,
  actor: Actor,
): Promise<Actor> {
  const load = spec.load;
  if (!load) return actor;
  const [row] = await em.execute<ActorRow[]>(load.sql, [...load.params(actor)]);
  return confirmActor(spec, load, actor, row);
}

/**
 * Reads the actor's row and switches the rest of the transaction to the module's request role with the
 * row's row-level-security settings, in one statement: the `set_config` calls run once, for the row, so no
 * row (no such actor) switches nothing and is refused, and the transaction rolls back. It is the
 * transaction's first statement, so it travels with the BEGIN (`PooledClient`).
 */
async function switchToActor<Actor extends ModuleActor>(
  em: EntityManager,
  module: ModuleWithActors<Actor>,
  actor: Actor,
): Promise<Actor> {
  const spec = module.actor;
  const load = spec.load;
  if (!load) {
    await switchToRole(em, module.requestRole);
    return actor;
  }
  const settings = Object.entries(load.settings ?? {});
  const switches = [
    `set_config('role', ?, true)`,
    ...settings.map(([, column]) => `set_config(?, actor_row.${quoteIdentifier(column)}::text, true)`),
  ];
  const [row] = await em.execute<ActorRow[]>(
    `select actor_row.*, ${switches.join(', ')} from (${load.sql}) actor_row`,
    [module.requestRole, ...settings.map(([name]) => name), ...load.params(actor)],
  );
  return confirmActor(spec, load, actor, row);
}

/**
 * Runs `work` for `actor` of `module` with least privilege: one EntityManager fork and transaction whose
 * first statement reads the actor's row (`ActorSpec.load`: it must still exist and be allowed to act) and
 * switches to the module's request role (`DomainModule.requestRole`, granted that module's tables only)
 * with the module's `set_config` values, so the database's grants and row-level-security policies, not
 * only the services, decide what the request may see and do. This is what the API, subscriptions, the CLI
 * when it acts for a user, and the test helpers use.
 */
export function runAsActor<Actor extends ModuleActor, T>(
  orm: HuddleOrm,
  module: ModuleWithActors<Actor>,
  actor: Actor,
  work: (em: EntityManager, actor: Actor) => Promise<T>,
  options: RequestScopeOptions = {},
): Promise<T> {
  return inRequestScope(orm, async (em) => work(em, await switchToActor(em, module, actor)), options);
}

/**
 * Runs a request of `module` that acts for nobody yet (signing in, joining) with the same least privilege:
 * its own transaction as the module's request role, with no actor settings.
 */
export function runAnonymously<T>(
  orm: HuddleOrm,
  module: DomainModule,
  work: (em: EntityManager) => Promise<T>,
  options: RequestScopeOptions = {},
): Promise<T> {
  return inRequestScope(
    orm,
    async (em) => {
      await switchToRole(em, module.requestRole);
      return work(em);
    },
    options,
  );
}
