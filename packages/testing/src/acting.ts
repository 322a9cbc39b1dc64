import {
  type ActorOperation,
  callOperation,
  type Database,
  type EntityManager,
  type InputSchema,
  inRequestScope,
  type ModuleActor,
  type ModuleWithActors,
  type ParsedInput,
  parseInput,
  runAsActor,
  type SteppedOperation,
} from '@huddle/db';
import type { z } from 'zod';

/** An operation's input as a caller gives it: none for an operation declared without an input schema. */
type CallInput<Input extends InputSchema | undefined> = Input extends z.ZodType ? z.input<Input> : undefined;

/**
 * How every module's tests run service calls the way the API does, bound to the module once, with one
 * argument order (database, actor, then what to run):
 * `export const { asActor, inRequest, call, callStepped } = actingIn(scrumModule, { github: null })`.
 * `defaultResources` is what `call` and `callStepped` give the operations when a test gives none; a module
 * without resources needs none.
 */
export function actingIn<Actor extends ModuleActor, Resources = undefined>(
  // Resources is read from `module.resources` alone: a module's jobs and commands may be typed more loosely.
  module: ModuleWithActors<Actor, NoInfer<Resources>> & {
    resources?(env: NodeJS.ProcessEnv): Resources | Promise<Resources>;
  },
  ...[defaultResources]: undefined extends Resources
    ? [defaultResources?: NoInfer<Resources>]
    : [defaultResources: NoInfer<Resources>]
) {
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
    /**
     * A query or mutation called as `actor` through the edge an app calls (`callOperation`): the input parsed
     * there (defaults filled in, refusals naming the field), the service in one request transaction as
     * `actor`, its answer parsed by the output schema.
     */
    call<Input extends InputSchema | undefined, Output extends z.ZodType>(
      db: Database,
      actor: Actor,
      operation: ActorOperation<'query' | 'mutation', Actor, Resources, Input, Output>,
      input: CallInput<Input>,
      resources = defaultResources as Resources,
    ): Promise<z.output<Output>> {
      return callOperation<Actor, Resources, Input, Output>(
        db.orm,
        module,
        operation,
        actor,
        input,
        resources,
      );
    },
    /**
     * A stepped operation (slow work between short transactions) called as the API does: the input parsed at
     * the edge, each step in a transaction of its own as `actor`, loaded afresh, the answer parsed.
     */
    async callStepped<Input extends InputSchema | undefined, Output extends z.ZodType>(
      db: Database,
      actor: Actor,
      operation: SteppedOperation<Actor, Resources, Input, Output>,
      input: CallInput<Input>,
      resources = defaultResources as Resources,
    ): Promise<z.output<Output>> {
      const parsed = (
        operation.input === undefined ? undefined : parseInput(operation.input, input)
      ) as ParsedInput<Input>;
      const transactions = <T>(work: (em: EntityManager, actor: Actor) => Promise<T>) =>
        runAsActor(db.orm, module, actor, work);
      return operation.output.parse(await operation.run(transactions, parsed, resources));
    },
  };
}
