import { type BearerClaims, issueActorToken } from '@huddle/composition';
import {
  type ActorTransactions,
  type AnonymousTransactions,
  type DomainModule,
  type EntityManager,
  type EventOf,
  inRequestScope,
  type ModuleActor,
  type ModuleWithActors,
  type Operation,
  type Operations,
  openSession,
  runAnonymously,
  runAsActor,
} from '@huddle/db';
import type { TRPCMutationProcedure, TRPCQueryProcedure, TRPCSubscriptionProcedure } from '@trpc/server';
import { z } from 'zod';
import { withinBulkheads } from './bulkhead.ts';
import { eventStream, type SubscribedMessage } from './event-stream.ts';
import {
  type ApiContext,
  type ApiErrorShape,
  actorProcedure,
  authedProcedure,
  type ProcedureMeta,
  signInProcedure,
} from './trpc.ts';

/**
 * The API's procedures, derived from the modules' declared operations (`DomainModule.operations`): one
 * procedure per operation, at the same path under the module's name. Nothing here knows a module: adding one
 * to the composed list (`@huddle/composition`) is what serves it.
 */

/*
 * These types are written so that TypeScript resolves them where they are used: the typed client's declarations
 * are bundled from the router's inferred type (packages/client), which must spell every procedure's input and
 * output out rather than name a server package's schema or operation types. Schemas are read through their
 * Standard Schema types (as tRPC's own `.input()` does), and each mapped type goes through `infer` so that it
 * is printed as the object it is.
 */

/** What tRPC infers as the input of a procedure declared without one: `void` (a call passes nothing). */
type NoInput = ReturnType<() => void>;
type SchemaInput<Schema> = Schema extends z.ZodType
  ? NonNullable<Schema['~standard']['types']>['input']
  : NoInput;
type SchemaOutput<Schema extends z.ZodType> = NonNullable<Schema['~standard']['types']>['output'];

/**
 * What a signed-in caller is answered: the user, a short-lived access token and when it expires, and the
 * session's refresh token (`auth.refresh`; shown once).
 */
type SignInAnswer<User extends z.ZodType> = {
  user: SchemaOutput<User>;
  token: string;
  expiresAt: string;
  refreshToken: string;
  sessionId: string;
};

/** The procedure an operation becomes: what the typed client infers for it. */
export type ProcedureOf<Op> = Op extends {
  kind: 'query';
  input: infer Input;
  output: infer Output extends z.ZodType;
}
  ? TRPCQueryProcedure<{
      input: SchemaInput<Input>;
      output: SchemaOutput<Output>;
      meta: ProcedureMeta;
      errorShape: ApiErrorShape;
    }>
  : Op extends {
        kind: 'mutation' | 'stepped' | 'public';
        input: infer Input;
        output: infer Output extends z.ZodType;
      }
    ? TRPCMutationProcedure<{
        input: SchemaInput<Input>;
        output: SchemaOutput<Output>;
        meta: ProcedureMeta;
        errorShape: ApiErrorShape;
      }>
    : Op extends { kind: 'signIn'; input: infer Input; user: infer User extends z.ZodType }
      ? TRPCMutationProcedure<{
          input: SchemaInput<Input>;
          output: SignInAnswer<User>;
          meta: ProcedureMeta;
          errorShape: ApiErrorShape;
        }>
      : Op extends { kind: 'subscription'; input: infer Input }
        ? TRPCSubscriptionProcedure<{
            input: SchemaInput<Input>;
            output: AsyncIterable<EventOf<Op> | SubscribedMessage>;
            meta: ProcedureMeta;
            errorShape: ApiErrorShape;
          }>
        : never;

/** A module's operations as procedures, group by group. */
export type ProceduresOf<Ops> = Ops extends infer Group
  ? {
      [Name in keyof Group]: Group[Name] extends { kind: string }
        ? ProcedureOf<Group[Name]>
        : ProceduresOf<Group[Name]>;
    }
  : never;

/** A module the API serves: it has users and declares operations. */
export type ServedModule = ModuleWithActors<ModuleActor> & { operations: Operations };

/** The composed modules' procedures, by module name. */
export type ModuleRouters<Modules extends readonly ServedModule[]> = Modules extends infer Composed extends
  readonly ServedModule[]
  ? { [Module in Composed[number] as Module['name']]: ProceduresOf<Module['operations']> }
  : never;

/** Transactions for nobody yet, within the module's and the caller's address's bulkheads. */
function anonymousTransactions(ctx: ApiContext, module: DomainModule): AnonymousTransactions {
  const bulkheads = <T>(work: () => Promise<T>) =>
    withinBulkheads(ctx.bulkheads, module.name, `address:${ctx.clientAddress}`, work);
  const transactions = <T>(work: (em: EntityManager) => Promise<T>) =>
    bulkheads(() => runAnonymously(ctx.db.orm, module, work));
  return Object.assign(transactions, {
    asOwner: <T>(work: (em: EntityManager) => Promise<T>) =>
      bulkheads(() => inRequestScope(ctx.db.orm, work)),
  });
}

/**
 * Short transactions for the acting actor, each loading it afresh and checking its credential, within the
 * same bulkheads as a request.
 */
function actorTransactions<Actor extends ModuleActor>(
  ctx: ApiContext,
  module: ModuleWithActors<Actor>,
  actor: Actor,
  credential: BearerClaims,
): ActorTransactions<Actor> {
  const subject = `${module.name}:${module.actor.subject(actor)}`;
  return (work) =>
    withinBulkheads(ctx.bulkheads, module.name, subject, () =>
      runAsActor(ctx.db.orm, module, actor, work, { session: credential.session }),
    );
}

/** Each notice read by `read` in a request transaction of the subscriber's, in the order they arrived. */
async function* readEach<Actor extends ModuleActor, Notice>(
  ctx: ApiContext,
  module: ModuleWithActors<Actor>,
  actor: Actor,
  credential: BearerClaims,
  notices: AsyncGenerator<Notice | SubscribedMessage>,
  read: (em: EntityManager, actor: Actor, notice: Notice) => Promise<unknown>,
): AsyncGenerator<unknown> {
  for await (const notice of notices) {
    if (isSubscribedMessage(notice)) {
      yield notice;
      continue;
    }
    const event = await runAsActor(ctx.db.orm, module, actor, (em, loaded) => read(em, loaded, notice), {
      session: credential.session,
    });
    if (event !== undefined) yield event;
  }
}

function isSubscribedMessage(value: unknown): value is SubscribedMessage {
  return typeof value === 'object' && value !== null && 'type' in value && value.type === 'subscribed';
}

interface ResolverOptions {
  ctx: ApiContext;
  input: unknown;
  signal?: AbortSignal | undefined;
}

/** One operation as a tRPC procedure. */
function procedureOf(module: ServedModule, operation: Operation) {
  const resources = (ctx: ApiContext) => ctx.moduleResources.of(module);
  switch (operation.kind) {
    case 'query':
    case 'mutation': {
      const run = ({ ctx, input }: ResolverOptions & { ctx: { em: EntityManager; actor: ModuleActor } }) =>
        operation.run(ctx.em, ctx.actor, input, resources(ctx));
      const procedure =
        operation.input === undefined
          ? actorProcedure(module).output(operation.output)
          : actorProcedure(module).input(operation.input).output(operation.output);
      return operation.kind === 'query' ? procedure.query(run) : procedure.mutation(run);
    }
    case 'stepped': {
      const counted = authedProcedure(module).use(async ({ ctx, next }) => {
        if (operation.attemptKey)
          await ctx.signIns.attempt(ctx.clientAddress, operation.attemptKey(ctx.actor));
        return next();
      });
      const run = ({
        ctx,
        input,
      }: ResolverOptions & { ctx: { actor: ModuleActor; credential: BearerClaims } }) =>
        operation.run(actorTransactions(ctx, module, ctx.actor, ctx.credential), input, resources(ctx));
      return (
        operation.input === undefined
          ? counted.output(operation.output)
          : counted.input(operation.input).output(operation.output)
      ).mutation(run);
    }
    case 'public': {
      const run = ({ ctx, input }: ResolverOptions) =>
        operation.run(anonymousTransactions(ctx, module), input, resources(ctx));
      return (
        operation.input === undefined
          ? signInProcedure.output(operation.output)
          : signInProcedure.input(operation.input).output(operation.output)
      ).mutation(run);
    }
    case 'signIn': {
      const answer = z.object({
        user: operation.user,
        token: z.string(),
        expiresAt: z.iso.datetime(),
        refreshToken: z.string(),
        sessionId: z.uuid(),
      });
      const run = async ({ ctx, input }: ResolverOptions) => {
        // A valid token of this module proves who signs in again; anything else is a newcomer.
        const caller = ctx.token?.module === module.name ? module.actor.parse(ctx.token.subject) : null;
        const signedIn = await operation.run(anonymousTransactions(ctx, module), input, {
          caller,
          resources: resources(ctx),
        });
        const session = await anonymousTransactions(ctx, module).asOwner((em) =>
          openSession(em, module, module.actor.subject(signedIn.actor), {
            lifetimeMs: ctx.sessionPolicy.sessionMs,
            refresh: true,
            clientAddress: ctx.clientAddress,
            userAgent: ctx.userAgent,
          }),
        );
        const accessMs = Math.min(ctx.sessionPolicy.accessTokenMs, session.expiresAt.getTime() - Date.now());
        return {
          user: signedIn.user,
          ...(await issueActorToken(ctx.secret, module.actor, signedIn.actor, session.id, accessMs)),
          refreshToken: session.refreshToken!,
          sessionId: session.id,
        };
      };
      return (
        operation.input === undefined
          ? signInProcedure.output(answer)
          : signInProcedure.input(operation.input).output(answer)
      ).mutation(run);
    }
    case 'subscription': {
      const run = async ({
        ctx,
        input,
        signal,
      }: ResolverOptions & {
        ctx: { actor: ModuleActor; credential: BearerClaims; streamOwner: string };
      }) => {
        const { credential } = ctx;
        // Checked before streaming, inside the procedure's error mapping: refused like a query would be.
        const { actor, session } = await runAsActor(
          ctx.db.orm,
          module,
          ctx.actor,
          async (em, loaded, live) => {
            await operation.authorize?.(em, loaded, input);
            return { actor: loaded, session: live };
          },
          { session: credential.session },
        );
        // The stream lasts as long as the token it was opened with, and no longer than its session or key.
        const ends = [credential.expiresAt, session?.expiresAt?.getTime()].filter((end) => end !== undefined);
        const notices = eventStream(
          ctx,
          {
            module: credential.module,
            subject: credential.subject,
            sessionId: credential.session.id,
            endsAt: ends.length > 0 ? Math.min(...ends) : undefined,
          },
          operation.channel,
          signal,
          (payload) => {
            const notice = operation.notice.safeParse(payload);
            return notice.success && operation.accepts(notice.data, actor, input) ? notice.data : undefined;
          },
        );
        return operation.read ? readEach(ctx, module, actor, credential, notices, operation.read) : notices;
      };
      return operation.input === undefined
        ? authedProcedure(module).subscription(run)
        : authedProcedure(module).input(operation.input).subscription(run);
    }
  }
}

/** An operation, not a group of them: operations have a kind (a group's entries are objects). */
function isOperation(entry: Operation | Operations): entry is Operation {
  return typeof entry.kind === 'string';
}

function proceduresOf(module: ServedModule, operations: Operations): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(operations).map(([name, entry]) => [
      name,
      isOperation(entry) ? procedureOf(module, entry) : proceduresOf(module, entry),
    ]),
  );
}

/** Every composed module's procedures under its name, typed as the operations declare them. */
export function moduleRouters<const Modules extends readonly ServedModule[]>(
  modules: Modules,
): ModuleRouters<Modules> {
  // The walk builds each procedure from its operation; the operations' own types say what each one is.
  return Object.fromEntries(
    modules.map((module) => [module.name, proceduresOf(module, module.operations)]),
  ) as ModuleRouters<Modules>;
}
