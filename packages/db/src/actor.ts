import { UnauthorizedError } from './errors.ts';
import { MAX_SERIAL_ID } from './zod.ts';

/**
 * Who acts in a module. Every module's actor names its module, so one module's actor does not type-check
 * as another module's (a poker actor cannot be handed to a scrum service).
 */
export interface ModuleActor<Module extends string = string> {
  readonly module: Module;
}

/**
 * How a module turns the subject of a token into its typed actor, once, at the edge (API middleware,
 * subscriptions, `huddle token issue`, test helpers); services then take that actor and never parse ids.
 */
export interface ActorSpec<Actor extends ModuleActor> {
  /**
   * The actor a token subject names, checked without the database: a malformed or out-of-range subject is
   * an UnauthorizedError (never a 500 from the database later).
   */
  parse(subject: string): Actor;
  /** The token subject for `actor`: the inverse of `parse`. */
  subject(actor: Actor): string;
  /**
   * How the database confirms that the actor may act, when a token is issued and at the start of every
   * request. Absent when the token's signature is the whole check (then the request has no settings).
   */
  load?: ActorLoad<Actor>;
  /**
   * Whether the actor (as `load` completed it) administers the module: may end other users' sessions and
   * manage the module's service keys (the API's `auth.*`). Absent: nobody does over the API; the CLI does.
   */
  isAdmin?(actor: Actor): boolean;
}

/** One row read for the actor: column name → value. */
export type ActorRow = Readonly<Record<string, unknown>>;

/**
 * The actor's row, read at the start of every request in the same statement that switches the transaction
 * to the module's request role (`runAsActor`): one round trip, so a deactivated user or changed role counts at
 * once and costs no extra statement.
 */
export interface ActorLoad<Actor extends ModuleActor> {
  /**
   * A `select` with `?` placeholders (`params`) that returns one row for the actor, or none when it does not
   * exist.
   */
  sql: string;
  params(actor: Actor): readonly unknown[];
  /**
   * The actor completed from its row (e.g. its current role), or an UnauthorizedError when there is no row
   * or the row says it may not act (deactivated). Its message names the module's subject; a missing row is
   * refused by `runAsActor` and `loadActor` even when `confirm` lets it through.
   */
  confirm(actor: Actor, row: ActorRow | undefined): Actor;
  /**
   * The `set_config` values the module's row-level-security policies read: setting name → a column of the
   * row (e.g. `{ 'app.user_id': 'id' }`), set in that same statement.
   */
  settings?: Readonly<Record<string, string>>;
}

/**
 * A token subject that names a row of a serial-keyed users table (`module`'s): digits, no leading zero,
 * within `integer`. Anything else is an UnauthorizedError here, never an `integer out of range` later.
 */
export function parseSerialSubject(module: string, subject: string): number {
  const id = Number(subject);
  if (!/^[1-9][0-9]{0,9}$/.test(subject) || id > MAX_SERIAL_ID) {
    throw new UnauthorizedError(`subject: "${subject.slice(0, 40)}" is not a ${module} user id`);
  }
  return id;
}
