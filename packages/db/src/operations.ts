import type { EntityManager } from '@mikro-orm/sql';
import type { z } from 'zod';
import type { ModuleActor } from './actor.ts';
import type { HuddleOrm } from './database.ts';
import { parseInput } from './input.ts';
import type { ModuleWithActors } from './module.ts';
import { runAsActor } from './request.ts';

/**
 * A module's operations, declared once, next to its services (`src/operations.ts` in every domain package):
 * for each, its kind, its input and output schemas and the service it runs. The API derives its routers from
 * this tree (one procedure per operation, same path), the fuzz harness and the OpenAPI document walk those
 * routers, and an app that embeds a package calls an operation with `callOperation`. The edge (the API's
 * `.input()`, or `callOperation`) parses the input once; services receive it parsed and typed.
 *
 * `Resources` is what the module needs from outside that a request cannot carry (GitHub's OAuth settings,
 * the planner's repository roots, the decisions embedder): its `DomainModule.resources` reads it once when
 * modules are composed, and every operation of the module receives it.
 */

/** An input schema; an operation without one takes no input (`void` for the typed client). */
export type InputSchema = z.ZodType;
/** What a service may return for `Output`: the schema's input (the edge's `.output()` parses it). */
export type Answer<Output extends z.ZodType> = z.input<Output>;
/** The parsed input a service receives: nothing for an operation declared without an input schema. */
export type ParsedInput<Input extends InputSchema | undefined> = Input extends z.ZodType
  ? z.output<Input>
  : undefined;

/** A transaction for the acting actor, loaded afresh each time (a user deactivated meanwhile is refused). */
export type ActorTransactions<Actor extends ModuleActor> = <T>(work: ActorWork<Actor, T>) => Promise<T>;

/**
 * What one of those transactions runs. Typed through a method, so its `actor` compares bivariantly like the
 * `actor` of every operation's `run`: a stepped operation of a module whose actor is, say, `DecisionsActor`
 * is then an `Operation` of the composed list (the module's actor spec is what guarantees its actor).
 */
type ActorWork<Actor extends ModuleActor, T> = { work(em: EntityManager, actor: Actor): Promise<T> }['work'];

/**
 * Short transactions for nobody in particular, one per call of `work`: a service that does slow work
 * (extraction, embedding, a network call) between its reads and its writes takes this rather than an
 * EntityManager, so no connection, transaction or row lock is held while that work runs.
 */
export type Transactions = <T>(work: (em: EntityManager) => Promise<T>) => Promise<T>;

/** Transactions for nobody yet: as the module's request role, or as the owner (`asOwner`). */
export interface AnonymousTransactions extends Transactions {
  /** As the owner role, for state no request may touch (e.g. scrum's pending sign-in flows). */
  asOwner: Transactions;
}

/** A query or mutation that acts for the caller inside one request transaction (`runAsActor`). */
export interface ActorOperation<
  Kind extends 'query' | 'mutation',
  Actor extends ModuleActor,
  Resources,
  Input extends InputSchema | undefined,
  Output extends z.ZodType,
> {
  kind: Kind;
  input: Input;
  output: Output;
  run(
    em: EntityManager,
    actor: Actor,
    input: ParsedInput<Input>,
    resources: Resources,
  ): Promise<Answer<Output>>;
}

/**
 * A mutation whose slow work (hashing, extraction, embedding) runs between short transactions of its own, so
 * none is open while it runs. `attemptKey`, when set, counts each call like a sign-in attempt under that key
 * (a password check), so it is rate-limited like one.
 */
export interface SteppedOperation<
  Actor extends ModuleActor,
  Resources,
  Input extends InputSchema | undefined,
  Output extends z.ZodType,
> {
  kind: 'stepped';
  input: Input;
  output: Output;
  attemptKey?(actor: Actor): string;
  run(
    transactions: ActorTransactions<Actor>,
    input: ParsedInput<Input>,
    resources: Resources,
  ): Promise<Answer<Output>>;
}

/** What a sign-in found: the user it answers with, and the actor its token is issued for. */
export interface SignedIn<User, Actor extends ModuleActor> {
  user: User;
  actor: Actor;
}

/**
 * Acts for nobody yet: counted like a sign-in attempt per client address and per the input's `email`.
 * `signIn` answers `{ user, token, expiresAt }` (the API issues the token for the returned actor; `caller` is
 * the actor of a valid token of this module the call carried, if any); `public` answers its output as is.
 */
export interface SignInOperation<
  Actor extends ModuleActor,
  Resources,
  Input extends InputSchema | undefined,
  User extends z.ZodType,
> {
  kind: 'signIn';
  input: Input;
  /** The signed-in user's shape; the answer is `{ user, token, expiresAt }`. */
  user: User;
  run(
    transactions: AnonymousTransactions,
    input: ParsedInput<Input>,
    context: { caller: Actor | null; resources: Resources },
  ): Promise<SignedIn<Answer<User>, Actor>>;
}

export interface PublicOperation<Resources, Input extends InputSchema | undefined, Output extends z.ZodType> {
  kind: 'public';
  input: Input;
  output: Output;
  run(
    transactions: AnonymousTransactions,
    input: ParsedInput<Input>,
    resources: Resources,
  ): Promise<Answer<Output>>;
}

/**
 * Live events over Server-Sent Events, fed by LISTEN/NOTIFY on `channel` (from every API process). Before
 * the stream starts, `authorize` runs as the caller (a session they cannot see is refused like a query).
 * Each notice that `notice` parses and `accepts` keeps for this caller is delivered: as it is, or, with
 * `read`, as what `read` makes of it in a request transaction of the caller's (row-level security decides;
 * nothing means the caller may not see it).
 */
export interface SubscriptionOperation<
  Actor extends ModuleActor,
  Input extends InputSchema | undefined,
  Notice extends z.ZodType,
  Event,
> {
  kind: 'subscription';
  input: Input;
  channel: string;
  notice: Notice;
  authorize?(em: EntityManager, actor: Actor, input: ParsedInput<Input>): Promise<unknown>;
  accepts(notice: z.output<Notice>, actor: Actor, input: ParsedInput<Input>): boolean;
  /** Absent: the notice itself is the event. */
  read?(em: EntityManager, actor: Actor, notice: z.output<Notice>): Promise<Event | undefined>;
}

/** Any operation of a module whose actor is `Actor` and whose resources are `Resources`. */
export type Operation<Actor extends ModuleActor = ModuleActor, Resources = unknown> =
  | ActorOperation<'query' | 'mutation', Actor, Resources, InputSchema | undefined, z.ZodType>
  | SteppedOperation<Actor, Resources, InputSchema | undefined, z.ZodType>
  | SignInOperation<Actor, Resources, InputSchema | undefined, z.ZodType>
  | PublicOperation<Resources, InputSchema | undefined, z.ZodType>
  | SubscriptionOperation<Actor, InputSchema | undefined, z.ZodType, unknown>;

/**
 * A module's operations: operations and groups of them, by name (the procedure path). Each operation keeps
 * its module's actor and resources types; services' parameters are checked where the operation is built.
 */
export interface Operations {
  readonly [name: string]: Operation | Operations;
}

/** The events a subscription delivers (before the stream's first `subscribed` message). */
export type EventOf<Op> =
  Op extends SubscriptionOperation<ModuleActor, InputSchema | undefined, z.ZodType, infer Event>
    ? Event
    : never;

/**
 * The operation builders of a module whose actor is `Actor` and whose resources are `Resources`: each fixes
 * an operation's kind and lets TypeScript infer its schemas, so `run` receives the input schema's output. An
 * operation declared without `input` takes none.
 */
export function operationsFor<Actor extends ModuleActor, Resources = undefined>() {
  return {
    query<Output extends z.ZodType, Input extends InputSchema | undefined = undefined>(spec: {
      input?: Input;
      output: Output;
      run: ActorOperation<'query', Actor, Resources, Input, Output>['run'];
    }): ActorOperation<'query', Actor, Resources, Input, Output> {
      return { kind: 'query', input: spec.input as Input, output: spec.output, run: spec.run };
    },
    mutation<Output extends z.ZodType, Input extends InputSchema | undefined = undefined>(spec: {
      input?: Input;
      output: Output;
      run: ActorOperation<'mutation', Actor, Resources, Input, Output>['run'];
    }): ActorOperation<'mutation', Actor, Resources, Input, Output> {
      return { kind: 'mutation', input: spec.input as Input, output: spec.output, run: spec.run };
    },
    stepped<Output extends z.ZodType, Input extends InputSchema | undefined = undefined>(spec: {
      input?: Input;
      output: Output;
      attemptKey?: (actor: Actor) => string;
      run: SteppedOperation<Actor, Resources, Input, Output>['run'];
    }): SteppedOperation<Actor, Resources, Input, Output> {
      return { kind: 'stepped', ...spec, input: spec.input as Input };
    },
    signIn<User extends z.ZodType, Input extends InputSchema | undefined = undefined>(spec: {
      input?: Input;
      user: User;
      run: SignInOperation<Actor, Resources, Input, User>['run'];
    }): SignInOperation<Actor, Resources, Input, User> {
      return { kind: 'signIn', input: spec.input as Input, user: spec.user, run: spec.run };
    },
    public<Output extends z.ZodType, Input extends InputSchema | undefined = undefined>(spec: {
      input?: Input;
      output: Output;
      run: PublicOperation<Resources, Input, Output>['run'];
    }): PublicOperation<Resources, Input, Output> {
      return { kind: 'public', input: spec.input as Input, output: spec.output, run: spec.run };
    },
    subscription<
      Notice extends z.ZodType,
      Event = z.output<Notice>,
      Input extends InputSchema | undefined = undefined,
    >(spec: {
      input?: Input;
      channel: string;
      notice: Notice;
      authorize?: SubscriptionOperation<Actor, Input, Notice, Event>['authorize'];
      accepts: SubscriptionOperation<Actor, Input, Notice, Event>['accepts'];
      read?: SubscriptionOperation<Actor, Input, Notice, Event>['read'];
    }): SubscriptionOperation<Actor, Input, Notice, Event> {
      return { kind: 'subscription', ...spec, input: spec.input as Input };
    },
  };
}

/**
 * Runs a query or mutation of `module` for `actor` as the API would, for an app that embeds the package (and
 * for tests): the input parsed at this edge (an InvalidInputError naming the field), the service in one
 * request transaction as the actor (`runAsActor`), the answer parsed by the output schema.
 */
export async function callOperation<
  Actor extends ModuleActor,
  Resources,
  Input extends InputSchema | undefined,
  Output extends z.ZodType,
>(
  orm: HuddleOrm,
  module: ModuleWithActors<Actor, Resources>,
  operation: ActorOperation<'query' | 'mutation', Actor, Resources, Input, Output>,
  actor: Actor,
  ...[input, resources]: CallArguments<Input, Resources>
): Promise<z.output<Output>> {
  const parsed = (
    operation.input === undefined ? undefined : parseInput(operation.input, input)
  ) as ParsedInput<Input>;
  const answer = await runAsActor(orm, module, actor, (em, confirmed) =>
    operation.run(em, confirmed, parsed, resources as Resources),
  );
  return operation.output.parse(answer);
}

/** `callOperation`'s input (none for an operation without one) and the module's resources when it has any. */
type CallArguments<Input, Resources> = [
  input: Input extends z.ZodType ? z.input<Input> : undefined,
  ...resources: undefined extends Resources ? [resources?: Resources] : [resources: Resources],
];
