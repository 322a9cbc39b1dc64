import { issueToken } from '@huddle/composition';
import {
  createServiceKey,
  type DomainModule,
  type EntityManager,
  ForbiddenError,
  InvalidInputError,
  inRequestScope,
  listServiceKeys,
  listSessions,
  loadActor,
  type ModuleActor,
  type ModuleWithActors,
  NotFoundError,
  refreshSession,
  refreshTokenReusedError,
  revokeServiceKey,
  revokeSession,
  revokeSessions,
  runAsActor,
  type SessionCredential,
  UnauthorizedError,
} from '@huddle/db';
import { cursorTimestamp, isoTimestamp, keysetCursor, pageLimit, pageOf, text, toPage } from '@huddle/db/zod';
import { z } from 'zod';
import { withinBulkheads } from '../bulkhead.ts';
import { type ApiContext, publicProcedure, requireToken, router } from '../trpc.ts';

/**
 * The platform's `auth.*` procedures: sessions and service keys for every composed module alike (rows of
 * `huddle.sessions`, `@huddle/db`'s sessions.ts). Nothing here names a module: each call names the module
 * whose token it carries (`module`), and the module's actor spec says who administers it (`isAdmin`).
 */

const moduleName = text().min(1).max(63).describe('module');
const pageCursor = keysetCursor(z.tuple([cursorTimestamp(), z.uuid()])).optional();

const tokensSchema = z.object({
  token: z.string(),
  expiresAt: isoTimestamp(),
  refreshToken: z.string(),
  sessionId: z.uuid(),
});

const sessionSchema = z.object({
  id: z.uuid(),
  createdAt: isoTimestamp(),
  lastUsedAt: isoTimestamp(),
  expiresAt: isoTimestamp().nullable(),
  clientAddress: z.string().nullable(),
  userAgent: z.string().nullable(),
  current: z.boolean(),
});

const keySchema = z.object({
  id: z.uuid(),
  name: z.string(),
  subject: z.string(),
  readOnly: z.boolean(),
  createdAt: isoTimestamp(),
  lastUsedAt: isoTimestamp(),
  expiresAt: isoTimestamp().nullable(),
  revokedAt: isoTimestamp().nullable(),
});

type ServedActorModule = ModuleWithActors<ModuleActor>;

/** Who calls: the module its token is for, its actor as the first statement confirmed it, and its credential. */
interface Caller {
  module: ServedActorModule;
  actor: ModuleActor;
  subject: string;
  sessionId: string;
}

/**
 * The caller of an `auth.*` call for `module`: its token must be for that module, and its actor and session
 * live — confirmed in one `runAsActor` statement, like any request. With `admin`, the module's actor spec
 * must say the actor administers the module.
 */
async function callerOf(
  ctx: ApiContext,
  modules: readonly DomainModule[],
  name: string,
  type: 'query' | 'mutation',
  admin: boolean,
): Promise<Caller> {
  const module = modules.find((candidate) => candidate.name === name);
  if (!module?.actor) {
    throw new NotFoundError(`module: no module "${name.slice(0, 63)}" with users is served here`, {
      field: 'module',
    });
  }
  const served = module as ServedActorModule;
  const token = requireToken(ctx, served, type);
  const parsed = served.actor.parse(token.subject);
  const actor = await withinBulkheads(ctx.bulkheads, served.name, `${served.name}:${token.subject}`, () =>
    runConfirming(ctx, served, parsed, token.session),
  );
  if (admin && !served.actor.isAdmin?.(actor)) {
    throw new ForbiddenError(`module: only an admin of ${served.name} may manage others' sessions and keys`, {
      field: 'module',
    });
  }
  return { module: served, actor, subject: token.subject, sessionId: token.session.id };
}

/** The actor as the request's first statement confirms it, with its session or key live. */
function runConfirming(
  ctx: ApiContext,
  module: ServedActorModule,
  actor: ModuleActor,
  session: SessionCredential,
): Promise<ModuleActor> {
  return runAsActor(ctx.db.orm, module, actor, async (_em, confirmed) => confirmed, { session });
}

/** `subject` as the module's actor spec renders it; one the module would refuse is bad input naming the field. */
function subjectOf(module: ServedActorModule, subject: string): string {
  try {
    return module.actor.subject(module.actor.parse(subject));
  } catch (error) {
    if (!(error instanceof UnauthorizedError)) throw error;
    throw new InvalidInputError(`subject: is not a ${module.name} user`, { field: 'subject' });
  }
}

/** A listed row without its keyset position, which only the page's cursor carries. */
function withoutPosition<Row extends { cursorAt: string }>({ cursorAt, ...row }: Row): Omit<Row, 'cursorAt'> {
  return row;
}

/** The caller's work on `huddle.sessions`, as the owner (requests may only end their own module's rows). */
function asOwner<T>(ctx: ApiContext, caller: Caller, work: (em: EntityManager) => Promise<T>): Promise<T> {
  return withinBulkheads(ctx.bulkheads, caller.module.name, `${caller.module.name}:${caller.subject}`, () =>
    inRequestScope(ctx.db.orm, work),
  );
}

/** The `auth` router over the composed `modules`. */
export function authRouter(modules: readonly DomainModule[]) {
  return router({
    /**
     * A new access token and refresh token for a refresh token (which is then spent). A refresh token used a
     * second time ends its session. Needs no bearer token: the expired one is what it replaces.
     */
    refresh: publicProcedure
      .input(z.object({ refreshToken: text().min(1).max(200) }))
      .output(tokensSchema)
      .mutation(async ({ ctx, input }) => {
        const refreshed = await withinBulkheads(ctx.bulkheads, 'huddle', `address:${ctx.clientAddress}`, () =>
          inRequestScope(ctx.db.orm, async (em) => {
            const outcome = await refreshSession(em, input.refreshToken, {
              lifetimeMs: ctx.sessionPolicy.sessionMs,
              clientAddress: ctx.clientAddress,
            });
            if (outcome.status === 'reused') return outcome;
            // The user must still be allowed to act (a deleted or deactivated user's refresh rolls back).
            const spec = modules.find((module) => module.name === outcome.module)?.actor;
            if (!spec) {
              throw new UnauthorizedError(`refreshToken: module ${outcome.module} is not served here`, {
                field: 'refreshToken',
              });
            }
            await loadActor(em, spec, spec.parse(outcome.subject));
            return outcome;
          }),
        );
        if (refreshed.status === 'reused') throw refreshTokenReusedError();
        const accessMs = Math.min(
          ctx.sessionPolicy.accessTokenMs,
          refreshed.expiresAt.getTime() - Date.now(),
        );
        const issued = await issueToken(
          ctx.secret,
          { module: refreshed.module, subject: refreshed.subject, sessionId: refreshed.id },
          accessMs,
        );
        return { ...issued, refreshToken: refreshed.refreshToken, sessionId: refreshed.id };
      }),

    /** Ends the session of the token this call carries; its refresh token and access tokens stop working. */
    signOut: publicProcedure
      .input(z.object({ module: moduleName }))
      .output(z.object({ signedOut: z.boolean() }))
      .mutation(async ({ ctx, input }) => {
        const caller = await callerOf(ctx, modules, input.module, 'mutation', false);
        const signedOut = await asOwner(ctx, caller, (em) =>
          revokeSession(
            em,
            { module: caller.module.name, subject: caller.subject },
            caller.sessionId,
            'signed_out',
          ),
        );
        return { signedOut };
      }),

    sessions: router({
      /** The caller's live sessions in `module`, newest first, a page at a time. */
      list: publicProcedure
        .input(z.object({ module: moduleName, limit: pageLimit(20), cursor: pageCursor }))
        .output(pageOf(sessionSchema))
        .query(async ({ ctx, input }) => {
          const caller = await callerOf(ctx, modules, input.module, 'query', false);
          const rows = await asOwner(ctx, caller, (em) =>
            listSessions(
              em,
              { module: caller.module.name, subject: caller.subject },
              {
                limit: input.limit,
                cursor: input.cursor,
                currentId: caller.sessionId,
              },
            ),
          );
          return toPage(rows, input.limit, withoutPosition, (session) => [session.cursorAt, session.id]);
        }),

      /** Ends one of the caller's own sessions (another device's). */
      revoke: publicProcedure
        .input(z.object({ module: moduleName, sessionId: z.uuid() }))
        .output(z.object({ revoked: z.literal(true) }))
        .mutation(async ({ ctx, input }) => {
          const caller = await callerOf(ctx, modules, input.module, 'mutation', false);
          const revoked = await asOwner(ctx, caller, (em) =>
            revokeSession(
              em,
              { module: caller.module.name, subject: caller.subject },
              input.sessionId,
              'revoked',
            ),
          );
          if (!revoked) {
            throw new NotFoundError(`sessionId: you have no live session ${input.sessionId}`, {
              field: 'sessionId',
            });
          }
          return { revoked: true as const };
        }),

      /** Ends every session and service key of another user of `module` (the module's admins). */
      revokeUser: publicProcedure
        .input(z.object({ module: moduleName, subject: text().min(1).max(63) }))
        .output(z.object({ revoked: z.number().int() }))
        .mutation(async ({ ctx, input }) => {
          const caller = await callerOf(ctx, modules, input.module, 'mutation', true);
          const subject = subjectOf(caller.module, input.subject);
          const revoked = await asOwner(ctx, caller, (em) =>
            revokeSessions(em, { module: caller.module.name, subject }, 'revoked_by_admin'),
          );
          return { revoked };
        }),
    }),

    keys: router({
      /**
       * A service key for a program, acting as the calling admin: read-only (queries and subscriptions) or
       * with the admin's rights, optionally expiring. The secret is in the answer's `key`, shown once.
       */
      create: publicProcedure
        .input(
          z.object({
            module: moduleName,
            name: text().trim().min(1).max(100),
            access: z.enum(['read', 'write']),
            expiresAt: z.iso
              .datetime()
              .refine((value) => Date.parse(value) > Date.now(), { error: 'must be in the future' })
              .optional(),
          }),
        )
        .output(z.object({ id: z.uuid(), key: z.string(), expiresAt: isoTimestamp().nullable() }))
        .mutation(async ({ ctx, input }) => {
          const caller = await callerOf(ctx, modules, input.module, 'mutation', true);
          const created = await asOwner(ctx, caller, (em) =>
            createServiceKey(em, caller.module, caller.subject, {
              name: input.name,
              readOnly: input.access === 'read',
              expiresAt: input.expiresAt === undefined ? undefined : new Date(input.expiresAt),
              createdBy: caller.subject,
            }),
          );
          return { ...created, expiresAt: created.expiresAt?.toISOString() ?? null };
        }),

      /** The module's service keys, newest first, with their last use; never their secrets. */
      list: publicProcedure
        .input(z.object({ module: moduleName, limit: pageLimit(20), cursor: pageCursor }))
        .output(pageOf(keySchema))
        .query(async ({ ctx, input }) => {
          const caller = await callerOf(ctx, modules, input.module, 'query', true);
          const rows = await asOwner(ctx, caller, (em) =>
            listServiceKeys(em, caller.module.name, { limit: input.limit, cursor: input.cursor }),
          );
          return toPage(rows, input.limit, withoutPosition, (key) => [key.cursorAt, key.id]);
        }),

      /** Ends a service key of the module. */
      revoke: publicProcedure
        .input(z.object({ module: moduleName, id: z.uuid() }))
        .output(z.object({ revoked: z.literal(true) }))
        .mutation(async ({ ctx, input }) => {
          const caller = await callerOf(ctx, modules, input.module, 'mutation', true);
          await asOwner(ctx, caller, (em) => revokeServiceKey(em, caller.module.name, input.id));
          return { revoked: true as const };
        }),
    }),
  });
}
