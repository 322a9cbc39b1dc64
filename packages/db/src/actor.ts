import type { EntityManager } from '@mikro-orm/sql';

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
