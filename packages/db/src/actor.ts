import type { EntityManager } from '@mikro-orm/sql';
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
   * Confirms in the database that the actor may act (it exists, is active) and returns it completed from
   * there (e.g. its current role); an UnauthorizedError when it may not. Runs when a token is issued and at
   * the start of every request, in the request's transaction, before the switch to `application_user`.
   */
  load(em: EntityManager, actor: Actor): Promise<Actor>;
  /** The `set_config` values this module's row-level-security policies read for `actor`, if any. */
  settings?(actor: Actor): Record<string, string>;
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
