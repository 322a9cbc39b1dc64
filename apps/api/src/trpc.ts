import { laterWalPosition, WAL_POSITION_HEADER, walPositionValue } from '@huddle/client/read-position';
import { type TokenClaims, verifyToken } from '@huddle/composition';
import {
  type Database,
  type EntityManager,
  HuddleError,
  type HuddleErrorKind,
  InvalidInputError,
  type ModuleActor,
  type ModuleWithActors,
  primaryWalPosition,
  type RequestScopeOptions,
  runAnonymously,
  runAsActor,
  toHuddleError,
  UnauthorizedError,
} from '@huddle/db';
import type { RepositoryAccess } from '@huddle/planner';
import type { GitHubOAuthConfig } from '@huddle/scrum';
import { initTRPC, TRPCError } from '@trpc/server';
import type { TRPC_ERROR_CODE_KEY } from '@trpc/server/rpc';
import type { Logger } from 'pino';
import { ZodError } from 'zod';
import { type SignInLimiter, SignInRateLimitedError } from './sign-in-limits.ts';

/** What the server gives every request, fixed when it starts. */
export interface ApiResources {
  db: Database;
  secret: Uint8Array;
  /** Where planner may read git repositories (`HUDDLE_PLANNER_ROOTS`, read once at start). */
  plannerAccess: RepositoryAccess;
  /** Scrum's sign-in with GitHub (`GITHUB_*`, read once at start); absent when it is not configured. */
  githubOAuth?: GitHubOAuthConfig;
}

/** Who a request is: the server's resources, and the caller's token if it sent a valid one. */
export interface AuthContext extends ApiResources {
  token: TokenClaims | null;
  /** Set when the bearer token was present but invalid or expired; reported by procedures that need one. */
  authError: UnauthorizedError | null;
}

/** What every procedure sees: the caller, plus the request's logger (its lines carry the request id). */
export interface ApiContext extends AuthContext {
  log: Logger;
  /** The TCP peer's address: what sign-in limits count per address. */
  clientAddress: string;
  signIns: SignInLimiter;
  /**
   * Read-your-writes with read replicas (read-position.ts): `after`, the write position the caller's queries
   * must see (its `x-huddle-lsn` header, not yet checked); `written`, the primary's position after this
   * request's mutations, sent back in the same header.
   */
  readPosition: { after: string | undefined; written: string | undefined };
}

export async function createContext(
  { db, secret, plannerAccess, githubOAuth }: ApiResources,
  authorization: string | undefined,
): Promise<AuthContext> {
  const resources = { db, secret, plannerAccess, githubOAuth };
  const token = authorization?.match(/^Bearer\s+(\S+)$/i)?.[1];
  if (!token) return { ...resources, token: null, authError: null };
  try {
    return { ...resources, token: verifyToken(secret, token), authError: null };
  } catch (error) {
    return { ...resources, token: null, authError: error as UnauthorizedError };
  }
}

const CODE_BY_KIND: Record<HuddleErrorKind, TRPC_ERROR_CODE_KEY> = {
  invalid_input: 'BAD_REQUEST',
  not_found: 'NOT_FOUND',
  conflict: 'CONFLICT',
  forbidden: 'FORBIDDEN',
  unauthorized: 'UNAUTHORIZED',
  unavailable: 'SERVICE_UNAVAILABLE',
  configuration: 'INTERNAL_SERVER_ERROR',
};

/** A field-naming message for a zod failure: `title: Too big: expected string to have <=500 characters`. */
function zodMessage(error: ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid input';
  return `${issue.path.map(String).join('.') || 'input'}: ${issue.message}`;
}

/** The one mapping from what a procedure threw to a tRPC error; a client's mistake never becomes a 500. */
export function toTRPCError(error: unknown): TRPCError {
  const cause = error instanceof TRPCError && error.cause ? error.cause : error;
  if (cause instanceof ZodError)
    return new TRPCError({ code: 'BAD_REQUEST', message: zodMessage(cause), cause });
  const mapped = toHuddleError(cause);
  if (mapped instanceof HuddleError) {
    return new TRPCError({ code: CODE_BY_KIND[mapped.kind], message: mapped.message, cause: mapped });
  }
  if (cause instanceof SignInRateLimitedError)
    return new TRPCError({ code: 'TOO_MANY_REQUESTS', message: cause.message, cause });
  if (error instanceof TRPCError) return error;
  return new TRPCError({ code: 'INTERNAL_SERVER_ERROR', message: 'internal error', cause: error });
}

const t = initTRPC.context<ApiContext>().create({
  sse: { ping: { enabled: true, intervalMs: 15_000 }, client: { reconnectAfterInactivityMs: 30_000 } },
  // Messages are already field-first (toTRPCError); the formatter adds the field and constraint as data.
  errorFormatter({ shape, error }) {
    const cause = error.cause;
    const field =
      cause instanceof HuddleError
        ? (cause.constraint.field ?? cause.constraint.columns?.join(','))
        : cause instanceof ZodError
          ? cause.issues[0]?.path.map(String).join('.')
          : undefined;
    const constraint = cause instanceof HuddleError ? cause.constraint.constraint : undefined;
    const retryAfter = cause instanceof SignInRateLimitedError ? cause.retryAfterSeconds : undefined;
    return {
      ...shape,
      data: {
        ...shape.data,
        stack: undefined,
        field: field ?? null,
        constraint: constraint ?? null,
        /** Seconds until a rate-limited call is worth retrying (also the `retry-after` header). */
        retryAfter: retryAfter ?? null,
      },
    };
  },
});

export const router = t.router;

/**
 * Every procedure's one middleware of its own (each layer costs a hot path a copy of the context):
 * - anything thrown below becomes the right tRPC error (input validation included);
 * - with read replicas, a mutation that succeeded records the primary's WAL position after its commit, for
 *   the response's `x-huddle-lsn`; without replicas `primaryWalPosition` is no query. The write has
 *   committed, so a failure to read the position loses only the caller's read-your-writes for it, never
 *   the write's result.
 */
export const publicProcedure = t.procedure.use(async ({ ctx, type, next }) => {
  const result = await next();
  if (!result.ok) throw toTRPCError(result.error);
  if (type !== 'mutation') return result;
  try {
    const position = await primaryWalPosition(ctx.db.orm);
    if (position) ctx.readPosition.written = laterWalPosition(ctx.readPosition.written, position);
  } catch (error) {
    ctx.log.warn({ err: error }, 'could not read the WAL position after a mutation');
  }
  return result;
});

/**
 * A sign-in: a procedure that hands out an identity (poker's join today; password and OAuth sign-ins
 * next). Every attempt counts against the caller's address and, when the input names one, its identity
 * (the `email`, lower-cased), in the store all API processes share (sign-in-limits.ts); over a limit it is
 * TOO_MANY_REQUESTS with `retryAfter`, before any other work.
 */
export const signInProcedure = publicProcedure.use(async ({ ctx, getRawInput, next }) => {
  const input = await getRawInput();
  const email =
    typeof input === 'object' && input !== null && 'email' in input && typeof input.email === 'string'
      ? input.email.trim().toLowerCase()
      : undefined;
  await ctx.signIns.attempt(ctx.clientAddress, email);
  return next();
});

/** The caller's actor in `module`, parsed from its token once, here at the edge. */
function requireActor<Actor extends ModuleActor>(ctx: ApiContext, module: ModuleWithActors<Actor>): Actor {
  if (!ctx.token) throw ctx.authError ?? new UnauthorizedError('authorization: a bearer token is required');
  if (ctx.token.module !== module.name) {
    throw new UnauthorizedError(`authorization: token is for module ${ctx.token.module}, not ${module.name}`);
  }
  return module.actor.parse(ctx.token.subject);
}

/** Requires a token for `module` and hands its actor on, without a transaction: for subscriptions. */
export function authedProcedure<Actor extends ModuleActor>(module: ModuleWithActors<Actor>) {
  return publicProcedure.use(({ ctx, next }) => next({ ctx: { actor: requireActor(ctx, module) } }));
}

/**
 * A query only reads: a READ ONLY transaction, on a read replica that has replayed the caller's last write
 * position (its `x-huddle-lsn` header), else on the primary (`readOnlyTransaction` in @huddle/db).
 */
function queryScope(ctx: ApiContext): RequestScopeOptions {
  const after = ctx.readPosition.after;
  if (after !== undefined && walPositionValue(after) === undefined) {
    throw new InvalidInputError(`${WAL_POSITION_HEADER}: must be a WAL position such as 16/B374D848`, {
      field: WAL_POSITION_HEADER,
    });
  }
  return { readOnly: { after } };
}

/**
 * A procedure acting for the token's actor of `module`, in one request scope with least privilege
 * (`runAsActor`): the module loads the actor, the transaction runs as `application_user` with the module's
 * row-level-security settings, commits when the procedure succeeds and rolls back when it throws. Queries
 * run read-only, on a read replica when one has the caller's writes (`queryScope`).
 */
export function actorProcedure<Actor extends ModuleActor>(module: ModuleWithActors<Actor>) {
  return publicProcedure.use(({ ctx, type, next }) =>
    runAsActor(
      ctx.db.orm,
      module,
      requireActor(ctx, module),
      async (em: EntityManager, actor: Actor) => {
        const result = await next({ ctx: { em, actor } });
        // Throwing rolls the transaction back and lets a serialization failure retry the whole request.
        if (!result.ok) throw result.error;
        return result;
      },
      type === 'query' ? queryScope(ctx) : {},
    ),
  );
}

/**
 * For procedures that act for nobody yet (signing in): one transaction as `application_user`
 * (`runAnonymously`), committed when the procedure succeeds.
 */
export const anonymousTransaction = t.middleware(({ ctx, next }) =>
  runAnonymously(ctx.db.orm, async (em: EntityManager) => {
    const result = await next({ ctx: { em } });
    if (!result.ok) throw result.error;
    return result;
  }),
);
