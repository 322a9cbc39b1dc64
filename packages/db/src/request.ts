import type { EntityManager } from '@mikro-orm/sql';
import type { ActorLoad, ActorRow, ActorSpec, ModuleActor } from './actor.ts';
import { quoteIdentifier } from './catalog/introspect.ts';
import type { HuddleOrm } from './database.ts';
import { isRetryableTransactionError, toHuddleError, UnauthorizedError } from './errors.ts';
import type { DomainModule, ModuleWithActors } from './module.ts';
import { type ReadOnlyRequest, readOnlyTransaction } from './replicas.ts';
import { type LiveSession, type SessionCredential, sessionEndedError } from './sessions.ts';

export interface RequestScopeOptions {
  /** How many times a transaction failing with a serialization failure or deadlock is retried. */
  retries?: number;
  /** The work only reads: a READ ONLY transaction, on a read replica when one has the caller's writes (replicas.ts). */
  readOnly?: ReadOnlyRequest;
}

/** `runAsActor`'s options: also the credential the request carries, checked in its first statement. */
export interface ActorScopeOptions extends RequestScopeOptions {
  /**
   * The session or service key the caller's token names (sessions.ts): it must be live — not revoked, not
   * expired — or the request is refused. Absent for callers that are their own authority (the CLI acting
   * for a user, an embedding app, tests).
   */
  session?: SessionCredential | undefined;
}

/** What a request's work receives besides the actor: the live credential it runs under, if it named one. */
export type RequestWork<Actor extends ModuleActor, T> = (
  em: EntityManager,
  actor: Actor,
  session: LiveSession | undefined,
) => Promise<T>;

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
 * The credential's row joined to the actor's: whether it is live, when it ends, and whether its `last_used_at`
 * is over a minute old. The module, subject and read-only flag must be the row's too, so a service key's
 * claims cannot be edited; a session's access token carries no secret (`secret_hash` is null), a key's must
 * hash to the row's.
 */
const SESSION_JOIN = `left join lateral (
    select s.revoked_at is null and (s.expires_at is null or s.expires_at > current_timestamp) as huddle_session_live,
      s.expires_at as huddle_session_expires_at,
      s.last_used_at < current_timestamp - interval '1 minute' as huddle_session_touch_due
    from huddle.sessions s
    where s.id = ?::uuid and s.module = ? and s.subject = ? and s.secret_hash is not distinct from ?
      and s.read_only = ?
  ) huddle_session on true`;

interface SessionColumns {
  huddle_session_live: boolean | null;
  huddle_session_expires_at: Date | string | null;
  huddle_session_touch_due: boolean | null;
}

/** What the first statement found: the actor confirmed, and its live credential (when one was named). */
interface SwitchedActor<Actor extends ModuleActor> {
  actor: Actor;
  session: LiveSession | undefined;
  touchDue: boolean;
}

/**
 * Reads the actor's row (and the credential's, when the request names one) and switches the rest of the
 * transaction to the module's request role with the row's row-level-security settings, in one statement:
 * the `set_config` calls run once, for the row, so no row (no such actor) switches nothing and is refused,
 * and the transaction rolls back; a credential that is not live is refused too, which rolls the switch back
 * with it. It is the transaction's first statement, so it travels with the BEGIN (`PooledClient`).
 */
async function switchToActor<Actor extends ModuleActor>(
  em: EntityManager,
  module: ModuleWithActors<Actor>,
  actor: Actor,
  session: SessionCredential | undefined,
): Promise<SwitchedActor<Actor>> {
  const spec = module.actor;
  const load = spec.load;
  if (!load && !session) {
    await switchToRole(em, module.requestRole);
    return { actor, session: undefined, touchDue: false };
  }
  const settings = Object.entries(load?.settings ?? {});
  const switches = [
    `set_config('role', ?, true)`,
    ...settings.map(([, column]) => `set_config(?, actor_row.${quoteIdentifier(column)}::text, true)`),
  ];
  const [row] = await em.execute<(ActorRow & Partial<SessionColumns>)[]>(
    `select actor_row.*, ${session ? 'huddle_session.*, ' : ''}${switches.join(', ')}
     from (${load?.sql ?? 'select'}) actor_row ${session ? SESSION_JOIN : ''}`,
    [
      module.requestRole,
      ...settings.map(([name]) => name),
      ...(load?.params(actor) ?? []),
      ...(session
        ? [
            session.id,
            module.name,
            spec.subject(actor),
            session.secretHash ?? null,
            session.readOnly ?? false,
          ]
        : []),
    ],
  );
  const confirmed = load ? confirmActor(spec, load, actor, row) : actor;
  if (!session) return { actor: confirmed, session: undefined, touchDue: false };
  if (!row?.huddle_session_live) throw sessionEndedError();
  const expiresAt = row.huddle_session_expires_at;
  return {
    actor: confirmed,
    session: {
      id: session.id,
      expiresAt: expiresAt === null || expiresAt === undefined ? null : new Date(expiresAt),
    },
    touchDue: row.huddle_session_touch_due === true,
  };
}

/**
 * Records that a credential was used: at most once a minute per credential (its first request after a
 * minute, told by the first statement), in a statement of its own after the request's transaction — a
 * query's transaction is read-only and may run on a replica, and no request waits on another's row lock for
 * it. A failure loses one timestamp and never the request it follows.
 */
async function touchSession(orm: HuddleOrm, id: string): Promise<void> {
  await inRequestScope(orm, (em) =>
    em.execute(
      `update huddle.sessions set last_used_at = current_timestamp
       where id = ? and last_used_at < current_timestamp - interval '1 minute'`,
      [id],
      'run',
    ),
  ).catch(() => undefined);
}

/**
 * Runs `work` for `actor` of `module` with least privilege: one EntityManager fork and transaction whose
 * first statement reads the actor's row (`ActorSpec.load`: it must still exist and be allowed to act) and
 * switches to the module's request role (`DomainModule.requestRole`, granted that module's tables only)
 * with the module's `set_config` values, so the database's grants and row-level-security policies, not
 * only the services, decide what the request may see and do. With `session`, that statement also requires the
 * caller's credential to be live (no extra round trip). This is what the API, subscriptions, the CLI when it
 * acts for a user, and the test helpers use.
 */
export async function runAsActor<Actor extends ModuleActor, T>(
  orm: HuddleOrm,
  module: ModuleWithActors<Actor>,
  actor: Actor,
  work: RequestWork<Actor, T>,
  options: ActorScopeOptions = {},
): Promise<T> {
  const { session, ...scope } = options;
  let touchDue = false;
  const result = await inRequestScope(
    orm,
    async (em) => {
      const switched = await switchToActor(em, module, actor, session);
      touchDue = switched.touchDue;
      return work(em, switched.actor, switched.session);
    },
    scope,
  );
  if (touchDue && session) await touchSession(orm, session.id);
  return result;
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
