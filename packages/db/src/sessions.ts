import { createHash, randomBytes } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/sql';
import { z } from 'zod';
import { isoTimestampSql, keysetTimestampSql } from './entity.ts';
import { ConfigurationError, ForbiddenError, NotFoundError, UnauthorizedError } from './errors.ts';
import { publish } from './events.ts';
import type { DomainModule, ModuleJob } from './module.ts';

/**
 * Sessions and service keys (`huddle.sessions`): every credential a request can carry names one row, which
 * the request's first statement checks (`runAsActor`'s `session` option), so ending a row ends every token of
 * it at once. A sign-in opens a `session` (short-lived access tokens, a rotating refresh token); an operator's
 * `huddle token issue` opens one without a refresh token; a `key` is a program's long-lived secret. Secrets
 * are random 256-bit values and only their SHA-256 is stored (a fast hash suffices for secrets nobody can
 * guess; passwords are another matter).
 */

/** Who a credential acts for: the module and the token subject its actor spec renders. */
export interface SessionSubject {
  module: string;
  subject: string;
}

/**
 * What a request carries of its credential: its row's id and, for a service key, the SHA-256 of its secret
 * and whether it claims to be read-only (the row must agree).
 */
export interface SessionCredential {
  id: string;
  secretHash?: string | undefined;
  readOnly?: boolean | undefined;
}

/** What the request's first statement found of a live credential: when it ends (null: a key that never expires). */
export interface LiveSession {
  id: string;
  expiresAt: Date | null;
}

/** Why credentials ended, recorded on the row (`revoked_reason`) and sent to open subscriptions. */
export type RevocationReason =
  | 'signed_out'
  | 'revoked'
  | 'revoked_by_admin'
  | 'refresh_token_reused'
  | 'password_changed'
  | 'user_deleted'
  | 'user_deactivated'
  | 'password_reset'
  | 'operator_disabled';

/** The channel revocation notices travel on; every API process's open subscriptions listen to it. */
export const SESSION_REVOCATIONS_CHANNEL = 'huddle_session_revocations';

/** A revocation notice: one credential (`session`), or every credential of the subject (no `session`). */
export const sessionRevocationSchema = z.object({
  module: z.string(),
  subject: z.string(),
  session: z.string().optional(),
  reason: z.string(),
});
export type SessionRevocation = z.output<typeof sessionRevocationSchema>;

/** The prefix of a service key (`hk_…`), so a scanner or a log reviewer can tell one from a token. */
export const SERVICE_KEY_PREFIX = 'hk_';

export const sha256 = (text: string) => createHash('sha256').update(text).digest('base64url');
const newSecret = () => randomBytes(32).toString('base64url');
const uuidSchema = z.uuid();

/** Session lifetimes: how long an access token lives, and how long a session lives without a refresh. */
export interface SessionPolicy {
  accessTokenMs: number;
  sessionMs: number;
}

const policySchema = z.object({
  HUDDLE_ACCESS_TOKEN_MINUTES: z.coerce.number().int().min(1).max(1440).default(10),
  HUDDLE_SESSION_DAYS: z.coerce.number().int().min(1).max(365).default(30),
});

/**
 * `HUDDLE_ACCESS_TOKEN_MINUTES` (default 10) and `HUDDLE_SESSION_DAYS` (default 30: a session not refreshed
 * for that long ends; every refresh extends it).
 */
export function sessionPolicyFromEnv(env: NodeJS.ProcessEnv = process.env): SessionPolicy {
  const parsed = policySchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigurationError(`${issue.path.join('.')}: ${issue.message}`);
  }
  return {
    accessTokenMs: parsed.data.HUDDLE_ACCESS_TOKEN_MINUTES * 60_000,
    sessionMs: parsed.data.HUDDLE_SESSION_DAYS * 86_400_000,
  };
}

/** Where a session was opened from, kept on its row so its owner recognises it in a list. */
export interface SessionOrigin {
  clientAddress?: string | undefined;
  userAgent?: string | undefined;
}

/** A session just opened: its id, when it ends, and its refresh token when it has one (shown once). */
export interface OpenedSession {
  id: string;
  expiresAt: Date;
  refreshToken?: string;
}

const refreshTokenOf = (id: string, secret: string) => `${id}.${secret}`;

/**
 * Opens a session for `subject` of `module`, ending after `lifetimeMs`, as the owner (a sign-in acts for
 * nobody yet). With `refresh` it gets a refresh token; without, it lasts as long as the token issued for it
 * (`huddle token issue`).
 */
export async function openSession(
  em: EntityManager,
  module: Pick<DomainModule, 'name' | 'requestRole'>,
  subject: string,
  options: SessionOrigin & { lifetimeMs: number; refresh: boolean },
): Promise<OpenedSession> {
  const secret = options.refresh ? newSecret() : undefined;
  const [row] = await em.execute<{ id: string; expires_at: Date }[]>(
    `insert into huddle.sessions (kind, module, subject, request_role, refresh_hash, expires_at, client_address, user_agent)
     values ('session', ?, ?, ?, ?, current_timestamp + make_interval(secs => ?), ?, ?)
     returning id, expires_at`,
    [
      module.name,
      subject,
      module.requestRole,
      secret === undefined ? null : sha256(secret),
      options.lifetimeMs / 1000,
      options.clientAddress?.slice(0, 100) ?? null,
      options.userAgent?.slice(0, 500) ?? null,
    ],
  );
  return {
    id: row!.id,
    expiresAt: new Date(row!.expires_at),
    ...(secret !== undefined && { refreshToken: refreshTokenOf(row!.id, secret) }),
  };
}

/**
 * A refresh: `refreshed` — who the session acts for, its new refresh token (the old one is spent) and its new
 * end; `reused` — the token had been rotated out, and the session is now revoked (commit, then refuse).
 */
export type RefreshOutcome =
  | ({ status: 'refreshed'; id: string; refreshToken: string; expiresAt: Date } & SessionSubject)
  | { status: 'reused' };

const REFRESH_REFUSED = "refreshToken: is not a live session's refresh token; sign in again";

/**
 * Spends a refresh token and hands out its successor (rotation), extending the session by `lifetimeMs`, as
 * the owner. A token that names a live session but is not its current one was rotated out already — used a
 * second time, by its owner or by a thief, whichever came second — and revokes the whole session (OAuth 2.0
 * Security BCP, refresh token reuse detection): both parties must sign in again, and the thief's tokens die
 * with it. The caller commits that revocation and then refuses (`refreshTokenReusedError`). Anything else is
 * UnauthorizedError naming `refreshToken`.
 */
export async function refreshSession(
  em: EntityManager,
  refreshToken: string,
  options: SessionOrigin & { lifetimeMs: number },
): Promise<RefreshOutcome> {
  const dot = refreshToken.indexOf('.');
  const id = refreshToken.slice(0, dot);
  const secret = refreshToken.slice(dot + 1);
  if (dot < 0 || !uuidSchema.safeParse(id).success || secret.length === 0) {
    throw new UnauthorizedError(REFRESH_REFUSED, { field: 'refreshToken' });
  }
  const next = newSecret();
  const [row] = await em.execute<{ module: string; subject: string; expires_at: Date; current: boolean }[]>(
    `with found as (
       select id, refresh_hash = ? as current from huddle.sessions
       where id = ? and kind = 'session' and refresh_hash is not null and revoked_at is null
         and expires_at > current_timestamp
       for update)
     update huddle.sessions s
     set refresh_hash = case when found.current then ? else s.refresh_hash end,
         last_used_at = case when found.current then current_timestamp else s.last_used_at end,
         expires_at = case when found.current then current_timestamp + make_interval(secs => ?) else s.expires_at end,
         client_address = case when found.current then coalesce(?, s.client_address) else s.client_address end,
         revoked_at = case when found.current then null else current_timestamp end,
         revoked_reason = case when found.current then null else 'refresh_token_reused' end
     from found where s.id = found.id
     returning s.module, s.subject, s.expires_at, found.current`,
    [
      sha256(secret),
      id,
      sha256(next),
      options.lifetimeMs / 1000,
      options.clientAddress?.slice(0, 100) ?? null,
    ],
  );
  if (!row) throw new UnauthorizedError(REFRESH_REFUSED, { field: 'refreshToken' });
  if (!row.current) {
    await publishRevocation(em, {
      module: row.module,
      subject: row.subject,
      session: id,
      reason: 'refresh_token_reused',
    });
    return { status: 'reused' };
  }
  return {
    status: 'refreshed',
    id,
    module: row.module,
    subject: row.subject,
    refreshToken: refreshTokenOf(id, next),
    expiresAt: new Date(row.expires_at),
  };
}

/** The refusal of a refresh token used a second time, once the session it revoked has committed. */
export function refreshTokenReusedError(): UnauthorizedError {
  return new UnauthorizedError(
    'refreshToken: was already used, so its session was ended in case it was stolen; sign in again',
    { field: 'refreshToken' },
  );
}

function publishRevocation(em: EntityManager, notice: SessionRevocation): Promise<void> {
  return publish(em, SESSION_REVOCATIONS_CHANNEL, notice);
}

/**
 * Ends every session and service key of `subject` in `module`, recording `reason`, and tells every API
 * process's open subscriptions of theirs to end. Runs in the caller's transaction, so it takes effect exactly
 * when the change that caused it commits (a password change, a deactivation, a deletion, a role change):
 * domain services call it with their request's EntityManager — a module's request role may revoke its own
 * module's credentials only (row-level security on `huddle.sessions`). Returns how many it ended. A user
 * restored or reactivated later signs in afresh: nothing revives a revoked credential.
 */
export async function revokeSessions(
  em: EntityManager,
  who: SessionSubject,
  reason: RevocationReason,
): Promise<number> {
  const revoked = await em.execute<{ affectedRows: number }>(
    `update huddle.sessions set revoked_at = current_timestamp, revoked_reason = ?
     where module = ? and subject = ? and revoked_at is null`,
    [reason, who.module, who.subject],
    'run',
  );
  await publishRevocation(em, { module: who.module, subject: who.subject, reason });
  return revoked.affectedRows;
}

/**
 * Ends one credential of `owner` (a session or a key; `kind` says which the caller means). False when
 * `owner` has no such live credential.
 */
export async function revokeSession(
  em: EntityManager,
  owner: SessionSubject,
  id: string,
  reason: RevocationReason,
  kind: 'session' | 'key' = 'session',
): Promise<boolean> {
  const rows = await em.execute<unknown[]>(
    `update huddle.sessions set revoked_at = current_timestamp, revoked_reason = ?
     where id = ? and kind = ? and module = ? and subject = ? and revoked_at is null returning id`,
    [reason, id, kind, owner.module, owner.subject],
  );
  if (rows.length === 0) return false;
  await publishRevocation(em, { ...owner, session: id, reason });
  return true;
}

/** A page's rows carry their keyset position (`keysetTimestampSql` of `created_at`, and the id). */
type Keyed<Row> = Row & { cursorAt: string };

/** A session as its owner sees it (`auth.sessions.list`). */
export interface SessionSummary {
  id: string;
  createdAt: string;
  lastUsedAt: string;
  expiresAt: string | null;
  clientAddress: string | null;
  userAgent: string | null;
  current: boolean;
}

/** A service key as an admin sees it (`auth.keys.list`): never its secret. */
export interface ServiceKeySummary {
  id: string;
  name: string;
  subject: string;
  readOnly: boolean;
  createdAt: string;
  lastUsedAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
}

/**
 * `owner`'s live sessions, newest first, `limit + 1` of them from `cursor` (the last one's `[cursorAt, id]`:
 * `toPage` makes the page); `current` marks the one the caller uses.
 */
export function listSessions(
  em: EntityManager,
  owner: SessionSubject,
  page: { limit: number; cursor?: readonly [string, string] | undefined; currentId?: string | undefined },
): Promise<Keyed<SessionSummary>[]> {
  return em.execute<Keyed<SessionSummary>[]>(
    `select id, ${keysetTimestampSql('created_at')} as "cursorAt", ${isoTimestampSql('created_at')} as "createdAt", ${isoTimestampSql('last_used_at')} as "lastUsedAt",
       ${isoTimestampSql('expires_at')} as "expiresAt", client_address as "clientAddress",
       user_agent as "userAgent", id = ?::uuid as current
     from huddle.sessions
     where kind = 'session' and module = ? and subject = ? and revoked_at is null
       and expires_at > current_timestamp
       ${page.cursor ? 'and (created_at, id) < (?::timestamptz, ?::uuid)' : ''}
     order by created_at desc, id desc limit ?`,
    [page.currentId ?? null, owner.module, owner.subject, ...(page.cursor ?? []), page.limit + 1],
  );
}

/** A service key just created: the secret is in `key`, shown once and never stored. */
export interface CreatedServiceKey {
  id: string;
  key: string;
  expiresAt: Date | null;
}

/**
 * Creates a service key acting as `subject` of `module` (a program's credential): `readOnly` keys may only
 * query and subscribe. The key carries what the API needs to parse before its first statement (module,
 * subject, access) and the row's id; the first statement checks all of them against the row and the
 * secret's hash, so a key edited by hand is refused.
 */
export async function createServiceKey(
  em: EntityManager,
  module: Pick<DomainModule, 'name' | 'requestRole'>,
  subject: string,
  options: { name: string; readOnly: boolean; expiresAt?: Date | undefined; createdBy: string },
): Promise<CreatedServiceKey> {
  const secret = newSecret();
  const [row] = await em.execute<{ id: string; expires_at: Date | null }[]>(
    `insert into huddle.sessions (kind, module, subject, request_role, name, read_only, secret_hash, expires_at, created_by)
     values ('key', ?, ?, ?, ?, ?, ?, ?, ?) returning id, expires_at`,
    [
      module.name,
      subject,
      module.requestRole,
      options.name,
      options.readOnly,
      sha256(secret),
      options.expiresAt ?? null,
      options.createdBy,
    ],
  );
  const key = formatServiceKey(
    { module: module.name, subject, readOnly: options.readOnly, id: row!.id },
    secret,
  );
  return { id: row!.id, key, expiresAt: row!.expires_at ? new Date(row!.expires_at) : null };
}

/** What a service key says of itself (checked against its row by the request's first statement). */
export interface ServiceKeyClaims extends SessionSubject {
  id: string;
  readOnly: boolean;
  secretHash: string;
}

function formatServiceKey(
  claims: SessionSubject & { id: string; readOnly: boolean },
  secret: string,
): string {
  const subject = Buffer.from(claims.subject).toString('base64url');
  return `${SERVICE_KEY_PREFIX}${claims.module}.${subject}.${claims.readOnly ? 'r' : 'w'}.${claims.id}.${secret}`;
}

/** The claims of a bearer credential that starts with `hk_`; malformed is UnauthorizedError. */
export function parseServiceKey(key: string): ServiceKeyClaims {
  const parts = key.slice(SERVICE_KEY_PREFIX.length).split('.');
  const [module, subject, access, id, secret] = parts;
  if (
    parts.length !== 5 ||
    !module ||
    !subject ||
    (access !== 'r' && access !== 'w') ||
    !uuidSchema.safeParse(id).success ||
    !secret
  ) {
    throw new UnauthorizedError('authorization: service key is invalid');
  }
  return {
    module,
    subject: Buffer.from(subject, 'base64url').toString(),
    readOnly: access === 'r',
    id: id!,
    secretHash: sha256(secret),
  };
}

/** `module`'s service keys, newest first, revoked ones included (they show when they ended), as `listSessions`. */
export function listServiceKeys(
  em: EntityManager,
  module: string,
  page: { limit: number; cursor?: readonly [string, string] | undefined },
): Promise<Keyed<ServiceKeySummary>[]> {
  return em.execute<Keyed<ServiceKeySummary>[]>(
    `select id, ${keysetTimestampSql('created_at')} as "cursorAt", name, subject, read_only as "readOnly", ${isoTimestampSql('created_at')} as "createdAt",
       ${isoTimestampSql('last_used_at')} as "lastUsedAt", ${isoTimestampSql('expires_at')} as "expiresAt",
       ${isoTimestampSql('revoked_at')} as "revokedAt"
     from huddle.sessions where kind = 'key' and module = ?
       ${page.cursor ? 'and (created_at, id) < (?::timestamptz, ?::uuid)' : ''}
     order by created_at desc, id desc limit ?`,
    [module, ...(page.cursor ?? []), page.limit + 1],
  );
}

/** Ends a service key of `module` by id; NotFoundError naming `id` when it has no such live key. */
export async function revokeServiceKey(em: EntityManager, module: string, id: string): Promise<void> {
  const [row] = await em.execute<SessionSubject[]>(
    `update huddle.sessions set revoked_at = current_timestamp, revoked_reason = 'revoked'
     where id = ? and kind = 'key' and module = ? and revoked_at is null returning module, subject`,
    [id, module],
  );
  if (!row) throw new NotFoundError(`id: module ${module} has no live service key ${id}`, { field: 'id' });
  await publishRevocation(em, { module: row.module, subject: row.subject, session: id, reason: 'revoked' });
}

/** The refusal of a request whose credential's row is revoked or past its end. */
export function sessionEndedError(): UnauthorizedError {
  return new UnauthorizedError(
    'authorization: the session has ended (signed out, revoked or expired); sign in again',
  );
}

/** The refusal of a write with a read-only service key. */
export function readOnlyKeyError(): ForbiddenError {
  return new ForbiddenError('authorization: this service key is read-only; it may only query and subscribe');
}

/** Deletes sessions and keys that ended more than 30 days ago (`huddle jobs run huddle.delete-ended-sessions`). */
export const deleteEndedSessionsJob: ModuleJob = {
  name: 'delete-ended-sessions',
  description: 'Delete sessions and service keys that ended more than 30 days ago',
  schedule: '17 3 * * *',
  async run(em, { now }) {
    const deleted = await em.execute<{ affectedRows: number }>(
      `delete from huddle.sessions
       where coalesce(revoked_at, expires_at) < ?::timestamptz - interval '30 days'`,
      [now],
      'run',
    );
    return { rows: deleted.affectedRows, summary: `${deleted.affectedRows} ended sessions deleted` };
  },
};
