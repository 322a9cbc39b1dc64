import { laterWalPosition, WAL_POSITION_HEADER, walPositionValue } from '@huddle/client/read-position';
import { type BearerClaims, verifyBearer } from '@huddle/composition';
import {
  claimIdempotencyKey,
  type Database,
  DatabaseUnavailableError,
  type DomainModule,
  type EntityManager,
  HuddleError,
  type HuddleErrorKind,
  InvalidInputError,
  type ModuleActor,
  type ModuleResources,
  type ModuleWithActors,
  OutcomeUnknownError,
  primaryWalPosition,
  type RequestScopeOptions,
  readOnlyKeyError,
  recordIdempotentResult,
  runAsActor,
  type SessionPolicy,
  toHuddleError,
  UnauthorizedError,
} from '@huddle/db';
import { initTRPC, TRPCError } from '@trpc/server';
import type { TRPC_ERROR_CODE_KEY } from '@trpc/server/rpc';
// tRPC has no public way for a middleware to answer without calling `next()` (trpc/trpc#4066); a replayed
// idempotent mutation must, so it builds the result its resolver would have.
import { middlewareMarker } from '@trpc/server/unstable-core-do-not-import';
import type { Logger } from 'pino';
import { ZodError } from 'zod';
import { type Bulkheads, withinBulkheads } from './bulkhead.ts';
import {
  IdempotencyKeyInProgressError,
  IdempotencyKeyReusedError,
  type IdempotencyRequest,
  idempotentCall,
  refusedKey,
} from './idempotency.ts';
import { isOpsToken } from './operator.ts';
import { type SignInLimiter, SignInRateLimitedError } from './sign-in-limits.ts';
import { type OpenStreams, TooManyStreamsError } from './stream-limits.ts';

/** What the server gives every request, fixed when it starts. */
export interface ApiResources {
  db: Database;
  secret: Uint8Array;
  /** What each module's operations need from outside a request, read once at start (`ModuleResources`). */
  moduleResources: ModuleResources;
  /** The operators' bearer token (`HUDDLE_OPS_TOKEN`, read once at start); absent, nobody is an operator. */
  opsToken?: string;
  /** How long access tokens and idle sessions live (sessionPolicyFromEnv, read once at start). */
  sessionPolicy: SessionPolicy;
}

/** Who a request is: the server's resources, and the caller's token if it sent a valid one. */
export interface AuthContext extends ApiResources {
  /** The bearer credential's claims: an access token's or a service key's (checked against its row later). */
  token: BearerClaims | null;
  /** Set when the bearer token was present but invalid or expired; reported by procedures that need one. */
  authError: UnauthorizedError | null;
  /** The bearer token is the operators' (`opsToken`): `/health` shows them its details. */
  operator: boolean;
}

/** What every procedure sees: the caller, plus the request's logger (its lines carry the request id). */
export interface ApiContext extends AuthContext {
  log: Logger;
  /** The TCP peer's address: what sign-in limits count per address, and a new session records. */
  clientAddress: string;
  /** The request's User-Agent, which a new session records. */
  userAgent: string | undefined;
  signIns: SignInLimiter;
  /** The event streams open in this process, per actor (stream-limits.ts). */
  streams: OpenStreams;
  /**
   * Read-your-writes with read replicas (read-position.ts): `after`, the write position the caller's queries
   * must see (its `x-huddle-lsn` header, not yet checked); `written`, the primary's position after this
   * request's mutations, sent back in the same header.
   */
  readPosition: { after: string | undefined; written: string | undefined };
  /** The request's `Idempotency-Key`, which a mutation acting for an actor honours (idempotency.ts). */
  idempotency: IdempotencyRequest;
  /** Per-module and per-actor limits on the pool's connections (none on the embedded database). */
  bulkheads: Bulkheads | undefined;
  /** The server is shutting down: it finishes what it has, and says so to health checks. */
  draining: boolean;
  /** What a procedure sets on the HTTP response of a call made alone (the health route's 503). */
  response: { status?: number };
}

export async function createContext(
  { db, secret, moduleResources, opsToken, sessionPolicy }: ApiResources,
  authorization: string | undefined,
): Promise<AuthContext> {
  const resources = { db, secret, moduleResources, opsToken, sessionPolicy };
  const token = authorization?.match(/^Bearer\s+(\S+)$/i)?.[1];
  if (!token) return { ...resources, token: null, authError: null, operator: false };
  try {
    return { ...resources, token: verifyBearer(secret, token), authError: null, operator: false };
  } catch (error) {
    // The operators' token is no signed token: compared only when verifying failed, off the hot path.
    if (isOpsToken(opsToken, token)) return { ...resources, token: null, authError: null, operator: true };
    return { ...resources, token: null, authError: error as UnauthorizedError, operator: false };
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
  not_configured: 'PRECONDITION_FAILED',
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
  if (cause instanceof SignInRateLimitedError || cause instanceof TooManyStreamsError)
    return new TRPCError({ code: 'TOO_MANY_REQUESTS', message: cause.message, cause });
  if (cause instanceof IdempotencyKeyInProgressError)
    return new TRPCError({ code: 'CONFLICT', message: cause.message, cause });
  if (cause instanceof IdempotencyKeyReusedError)
    return new TRPCError({ code: 'UNPROCESSABLE_CONTENT', message: cause.message, cause });
  if (error instanceof TRPCError) return error;
  return new TRPCError({ code: 'INTERNAL_SERVER_ERROR', message: 'internal error', cause: error });
}

/**
 * Seconds after which a refused call is worth retrying, from the cause toTRPCError kept: a rate-limited
 * sign-in, an idempotency key whose first request still runs, or the database unavailable (every 503). The
 * response carries it as `retry-after` and as `data.retryAfter`.
 */
export function retryAfterSeconds(cause: unknown): number | undefined {
  if (
    cause instanceof SignInRateLimitedError ||
    cause instanceof IdempotencyKeyInProgressError ||
    cause instanceof DatabaseUnavailableError
  )
    return cause.retryAfterSeconds;
  return undefined;
}

/** What a procedure declares about itself where it is built; `/openapi.json` describes it (openapi.ts). */
export interface ProcedureMeta {
  /** The module whose bearer token the procedure requires; absent when it needs none (sign-ins, health). */
  tokenModule?: string;
}

const builder = initTRPC.context<ApiContext>().meta<ProcedureMeta>();
const t = builder.create({
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
    return {
      ...shape,
      data: {
        ...shape.data,
        stack: undefined,
        field: field ?? null,
        constraint: constraint ?? null,
        /** Seconds until a rate-limited or unavailable call is worth retrying (also the `retry-after` header). */
        retryAfter: retryAfterSeconds(cause) ?? null,
        /**
         * `'unknown'` when the connection was lost while the write was committing: it may have been applied,
         * so a retry must carry the same idempotency key. Null otherwise (a 503 without it changed nothing).
         */
        outcome: cause instanceof OutcomeUnknownError ? cause.outcome : null,
      },
    };
  },
});

export const router = t.router;
/** The error shape every procedure's failures have (`errorFormatter` above). */
export type ApiErrorShape = typeof t._config.$types.errorShape;

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
 * A sign-in: a procedure that hands out an identity (poker's join, decisions' password sign-in). Every
 * attempt counts against the caller's address and, when the input names one, its identity (the `email`,
 * lower-cased), in the store all API processes share (sign-in-limits.ts); over a limit it is
 * TOO_MANY_REQUESTS with `retryAfter`, before any other work. A sign-in that succeeds makes the address one
 * of the identity's usual addresses, which strangers' attempts elsewhere never lock out.
 */
export const signInProcedure = publicProcedure.use(async ({ ctx, getRawInput, next }) => {
  const input = await getRawInput();
  const email =
    typeof input === 'object' && input !== null && 'email' in input && typeof input.email === 'string'
      ? input.email.trim().toLowerCase()
      : undefined;
  await ctx.signIns.attempt(ctx.clientAddress, email);
  const result = await next();
  if (result.ok && email !== undefined) {
    // The sign-in has succeeded: failing to remember the address costs only its exemption.
    await ctx.signIns.succeeded(ctx.clientAddress, email).catch((error: unknown) => {
      ctx.log.warn({ err: error }, 'could not remember a usual sign-in address');
    });
  }
  return result;
});

/**
 * The caller's token, which must be one for `module`; a caller without one is told how to get one. A
 * read-only service key may only query and subscribe (`type`).
 */
export function requireToken(
  ctx: ApiContext,
  module: Pick<ModuleWithActors<ModuleActor>, 'name' | 'signInHint'>,
  type: 'query' | 'mutation' | 'subscription',
): BearerClaims {
  const howToGetOne = module.signInHint ? `; ${module.signInHint}` : '';
  if (!ctx.token) {
    throw (
      ctx.authError ??
      new UnauthorizedError(
        `authorization: a bearer token for module ${module.name} is required${howToGetOne}`,
      )
    );
  }
  if (ctx.token.module !== module.name) {
    throw new UnauthorizedError(
      `authorization: token is for module ${ctx.token.module}, not ${module.name}${howToGetOne}`,
    );
  }
  if (ctx.token.readOnly && type === 'mutation') throw readOnlyKeyError();
  return ctx.token;
}

/** The procedures that require `module`'s token say so in their meta, which `/openapi.json` reads. */
function tokenProcedure(module: DomainModule) {
  return publicProcedure.meta({ tokenModule: module.name });
}

/**
 * Requires a token for `module` and hands its actor and credential on, without a transaction: for
 * subscriptions and stepped mutations, whose transactions check the credential each (`runAsActor`'s
 * `session`). `streamOwner` is whom the event streams the procedure opens count against (`eventStream`).
 */
export function authedProcedure<Actor extends ModuleActor>(module: ModuleWithActors<Actor>) {
  return tokenProcedure(module).use(({ ctx, type, next }) => {
    const token = requireToken(ctx, module, type);
    return next({
      ctx: {
        actor: module.actor.parse(token.subject),
        credential: token,
        streamOwner: `${token.module}:${token.subject}`,
      },
    });
  });
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
 * (`runAsActor`): the module loads the actor, the transaction runs as the module's request role with its
 * row-level-security settings, and the caller's session or key must be live (checked in that same first
 * statement), commits when the procedure succeeds and rolls back when it throws. Queries
 * run read-only, on a read replica when one has the caller's writes (`queryScope`). The transaction waits
 * for its place in the actor's and the module's bulkheads first (bulkhead.ts), so one stalled caller or
 * module cannot take every pool connection. A mutation sent with an `Idempotency-Key` claims the key first
 * and stores its result in the same transaction, so the result is kept exactly when the mutation commits; a
 * retry with the key gets the stored result without running it.
 */
export function actorProcedure<Actor extends ModuleActor>(module: ModuleWithActors<Actor>) {
  return tokenProcedure(module).use(async ({ ctx, type, path, getRawInput, next }) => {
    const token = requireToken(ctx, module, type);
    const actor = module.actor.parse(token.subject);
    const call =
      type === 'mutation' ? await idempotentCall(ctx.idempotency, token, path, getRawInput) : undefined;
    const scope = { ...(type === 'query' ? queryScope(ctx) : {}), session: token.session };
    return withinBulkheads(ctx.bulkheads, module.name, `${module.name}:${token.subject}`, () =>
      runAsActor(
        ctx.db.orm,
        module,
        actor,
        async (em: EntityManager, confirmed: Actor) => {
          if (call) {
            const claim = await claimIdempotencyKey(em, call);
            if (claim.status === 'replay')
              return { ok: true as const, data: claim.data, marker: middlewareMarker };
            if (claim.status !== 'new') throw refusedKey(claim);
          }
          const result = await next({ ctx: { em, actor: confirmed } });
          // Throwing rolls the transaction back and lets a serialization failure retry the whole request.
          if (!result.ok) throw result.error;
          if (call && !(await recordIdempotentResult(em, call, result.data, ctx.idempotency.windowSeconds))) {
            throw new IdempotencyKeyInProgressError();
          }
          return result;
        },
        scope,
      ),
    );
  });
}
