import {
  type Database,
  type EntityManager,
  inRequestScope,
  type ModuleActor,
  type ModuleWithActors,
  runAsActor,
} from '@huddle/db';

/**
 * How every module's tests run service calls the way the API does, bound to the module once:
 * `const { asActor, inRequest } = actingIn(pokerModule)`.
 */
export function actingIn<Actor extends ModuleActor>(module: ModuleWithActors<Actor>) {
  return {
    /** One call as `actor`: loaded by the module, in its own transaction, as the module's request role. */
    asActor<T>(
      db: Database,
      actor: Actor,
      work: (em: EntityManager, actor: Actor) => Promise<T>,
    ): Promise<T> {
      return runAsActor(db.orm, module, actor, work);
    },
    /** One call that acts for nobody (a sign-in, a seeding step): its own fork and transaction, as the owner. */
    inRequest<T>(db: Database, work: (em: EntityManager) => Promise<T>): Promise<T> {
      return inRequestScope(db.orm, work);
    },
  };
}
