/**
 * Huddle's typed errors. Services throw them for rule violations; `toHuddleError` turns PostgreSQL
 * errors into them, so every layer above (API, CLI) maps one small set of kinds and nothing else.
 */
export type HuddleErrorKind =
  | 'invalid_input'
  | 'not_found'
  | 'conflict'
  | 'forbidden'
  | 'unauthorized'
  | 'unavailable'
  | 'configuration'
  | 'not_configured';

/** Where in the database a constraint error came from, as PostgreSQL reports it. */
export interface ConstraintInfo {
  /** The input field a rule is about, as the caller named it (e.g. `stories.0.title`). */
  field?: string;
  constraint?: string;
  schema?: string;
  table?: string;
  /** The offending columns: from PostgreSQL's `column` field or parsed from its `Key (a, b)=` detail. */
  columns?: string[];
}

export abstract class HuddleError extends Error {
  abstract readonly kind: HuddleErrorKind;
  readonly constraint: ConstraintInfo;

  constructor(message: string, constraint: ConstraintInfo = {}, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.constraint = constraint;
  }
}

export class InvalidInputError extends HuddleError {
  readonly kind = 'invalid_input';
}
export class NotFoundError extends HuddleError {
  readonly kind = 'not_found';
}

/** The one not-found a service throws: `sessionId: session 7 does not exist`, naming the field sent. */
export function notFound(field: string, what: string, id: number | string): NotFoundError {
  return new NotFoundError(`${field}: ${what} ${id} does not exist`, { field });
}
export class ConflictError extends HuddleError {
  readonly kind = 'conflict';
}
export class ForbiddenError extends HuddleError {
  readonly kind = 'forbidden';
}
export class UnauthorizedError extends HuddleError {
  readonly kind = 'unauthorized';
}
/** Seconds after which a call refused as unavailable is worth retrying (the API's `Retry-After`). */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 1;

/**
 * The database cannot serve the request now (lost or refused connection, no pool connection in time, a lock
 * or statement waited too long): nothing the caller sent was wrong, and the same call may succeed after
 * `retryAfterSeconds`. Unless it is an OutcomeUnknownError, nothing of the request was committed.
 */
export class DatabaseUnavailableError extends HuddleError {
  readonly kind = 'unavailable';
  readonly retryAfterSeconds: number = UNAVAILABLE_RETRY_AFTER_SECONDS;
}
/** PostgreSQL canceled a statement that ran past `statement_timeout`: the request asked for too much work. */
export class StatementTimeoutError extends DatabaseUnavailableError {}
/** A statement waited for a lock longer than `lock_timeout` (another transaction holds the row): rolled back. */
export class LockTimeoutError extends DatabaseUnavailableError {}
/**
 * The connection failed while the transaction was committing: it may have committed or not. A client
 * retries such a write only with the same idempotency key, so that it is applied once.
 */
export class OutcomeUnknownError extends DatabaseUnavailableError {
  readonly outcome = 'unknown';
}
/**
 * The embedded data directory is open in another process (`lockDataDir`): `pid` names it when known, so a
 * caller can find that process (the CLI hands its command to a server holding the directory).
 */
export class DataDirInUseError extends DatabaseUnavailableError {
  readonly dataDir: string;
  readonly pid: number | undefined;

  constructor(dataDir: string, pid: number | undefined, options?: ErrorOptions) {
    super(
      `the embedded database in ${dataDir} is in use by ${pid ? `process ${pid}` : 'another process'} (stop it, or set HUDDLE_DATA_DIR to another directory)`,
      {},
      options,
    );
    this.dataDir = dataDir;
    this.pid = pid;
  }
}
export class ConfigurationError extends HuddleError {
  readonly kind = 'configuration';
}
/**
 * What a call asks for is not offered by this server, as it was started: a setting it needs is missing (the
 * message names it). The server is not broken and the caller sent nothing wrong; its operator can turn it on.
 */
export class NotConfiguredError extends HuddleError {
  readonly kind = 'not_configured';
}

/** The fields node-postgres and PGlite put on a server error (MikroORM copies them onto its exceptions). */
interface PostgresErrorFields {
  code?: string;
  constraint?: string;
  schema?: string;
  table?: string;
  column?: string;
  detail?: string;
  message: string;
}

const SERIALIZATION_FAILURE = '40001';
const DEADLOCK_DETECTED = '40P01';
/** query_canceled: raised for statement_timeout and for a cancel request alike; the message tells which. */
const QUERY_CANCELED = '57014';
/** idle_in_transaction_session_timeout ended the session. */
const IDLE_IN_TRANSACTION_TIMEOUT = '25P03';
const OBJECT_NOT_IN_PREREQUISITE_STATE = '55000';

/** lock_not_available: `lock_timeout` ran out. */
const LOCK_NOT_AVAILABLE = '55P03';

/** Node socket errors that mean the server went away or never answered. */
const CONNECTION_ERROR_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH']);

/**
 * What node-postgres and its pool throw, without a SQLSTATE or a socket code, when a connection is lost, a
 * client broken by a lost connection is used, or no pool connection came free in time (the pool's
 * `connectionTimeoutMillis`). Compared whole, never as patterns.
 */
const DRIVER_UNAVAILABLE_MESSAGES = new Set([
  'Connection terminated unexpectedly',
  'Connection terminated',
  'Connection terminated due to connection timeout',
  'Client has encountered a connection error and is not queryable',
  'Client was closed and is not queryable',
  'timeout exceeded when trying to connect',
  'Cannot use a pool after calling end on the pool',
]);

/** SQLSTATE class 08 (connection exception) and 57P01–57P03 (server shutting down or not accepting). */
function isUnavailableCode(code: string): boolean {
  return (
    code.startsWith('08') ||
    code === '57P01' ||
    code === '57P02' ||
    code === '57P03' ||
    code === IDLE_IN_TRANSACTION_TIMEOUT
  );
}

function postgresFields(error: unknown): PostgresErrorFields | undefined {
  if (!(error instanceof Error)) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? (error as PostgresErrorFields) : undefined;
}

/** Columns named in a detail such as `Key (story_id, user_id)=(1, 2) already exists.` */
function detailColumns(detail: string | undefined): string[] | undefined {
  const match = detail?.match(/^Key \(([^)]*)\)=/);
  return match ? match[1]!.split(',').map((column) => column.trim().replace(/^"|"$/g, '')) : undefined;
}

function describe(info: ConstraintInfo): string {
  const where = [info.schema, info.table].filter(Boolean).join('.');
  return [where && `on ${where}`, info.constraint && `(constraint ${info.constraint})`]
    .filter(Boolean)
    .join(' ');
}

/** A lost, refused or unobtainable connection, by its socket code, its SQLSTATE or its driver's message. */
function isConnectionFailure(error: unknown): boolean {
  for (let current = error; current instanceof Error; current = current.cause) {
    const { code, severity } = current as { code?: unknown; severity?: unknown };
    if (typeof code === 'string' && (CONNECTION_ERROR_CODES.has(code) || isUnavailableCode(code)))
      return true;
    // The server refused the connection itself: "database … is not currently accepting connections"
    // (ALTER DATABASE … ALLOW_CONNECTIONS false, a database being dropped or restored) is 55000 at FATAL.
    if (code === OBJECT_NOT_IN_PREREQUISITE_STATE && severity === 'FATAL') return true;
    if (DRIVER_UNAVAILABLE_MESSAGES.has(current.message)) return true;
  }
  return false;
}

/**
 * True for errors worth retrying the whole transaction for: serialization failures and deadlocks, also
 * when wrapped as the `cause` of another error (as frameworks such as tRPC do).
 */
export function isRetryableTransactionError(error: unknown): boolean {
  for (let current = error; current instanceof Error; current = current.cause) {
    const code = postgresFields(current)?.code;
    if (code === SERIALIZATION_FAILURE || code === DEADLOCK_DETECTED) return true;
  }
  return false;
}

export interface ToHuddleErrorOptions {
  /**
   * The error ended a COMMIT (or whatever ran after the transaction's work succeeded): a lost connection
   * then leaves the outcome unknown (OutcomeUnknownError) rather than known not to have happened.
   */
  committing?: boolean;
}

/**
 * The one place PostgreSQL and driver errors become typed errors. Unique → ConflictError; foreign key →
 * NotFoundError when the referenced row is missing, ConflictError when the row is still referenced; check
 * and not-null → InvalidInputError; insufficient privilege (grants, row-level security) → ForbiddenError; a
 * statement past statement_timeout → StatementTimeoutError, a lock wait past lock_timeout →
 * LockTimeoutError; a lost, refused or unobtainable connection (also the driver's errors that carry no
 * SQLSTATE, such as "Connection terminated unexpectedly" or the pool's "timeout exceeded when trying to
 * connect") → DatabaseUnavailableError, or OutcomeUnknownError when it happened while committing. Anything
 * else (including HuddleErrors) is returned unchanged.
 */
export function toHuddleError(error: unknown, options: ToHuddleErrorOptions = {}): unknown {
  if (error instanceof HuddleError) return error;
  if (isConnectionFailure(error)) {
    const message = (error as Error).message;
    return options.committing
      ? new OutcomeUnknownError(
          `database connection lost while committing, the write may or may not have been applied: retry it with the same idempotency key (${message})`,
          {},
          { cause: error },
        )
      : new DatabaseUnavailableError(
          `database unavailable, nothing was changed: retry shortly (${message})`,
          {},
          { cause: error },
        );
  }
  const pg = postgresFields(error);
  if (!pg) return error;
  if (pg.code === QUERY_CANCELED && /statement timeout/.test(pg.message)) {
    return new StatementTimeoutError(
      `database statement timed out (statement_timeout): ${pg.message}`,
      {},
      { cause: error },
    );
  }
  if (pg.code === LOCK_NOT_AVAILABLE) {
    return new LockTimeoutError(
      `a row this request needs is locked by another request (lock_timeout), nothing was changed: retry shortly (${pg.message})`,
      {},
      { cause: error },
    );
  }
  const columns = pg.column ? [pg.column] : detailColumns(pg.detail);
  const info: ConstraintInfo = {
    ...(pg.constraint && { constraint: pg.constraint }),
    ...(pg.schema && { schema: pg.schema }),
    ...(pg.table && { table: pg.table }),
    ...(columns && { columns }),
  };
  const fields = columns?.join(', ') ?? 'value';
  switch (pg.code) {
    case '23505':
      return new ConflictError(
        `${fields}: must be unique, a row with this value already exists ${describe(info)}`,
        info,
        {
          cause: error,
        },
      );
    // restrict_violation: an ON DELETE RESTRICT key still names the row (PostgreSQL reports it so, and only it).
    case '23001':
      return new ConflictError(`${pg.table ?? 'row'} is still referenced ${describe(info)}`, info, {
        cause: error,
      });
    case '23503':
      return /is still referenced/.test(pg.detail ?? '')
        ? new ConflictError(`${pg.table ?? 'row'} is still referenced ${describe(info)}`, info, {
            cause: error,
          })
        : new NotFoundError(`${fields}: the referenced row does not exist ${describe(info)}`, info, {
            cause: error,
          });
    case '23514':
      return new InvalidInputError(
        `value violates check constraint ${pg.constraint} ${describe(info)}`,
        info,
        {
          cause: error,
        },
      );
    case '23502':
      return new InvalidInputError(`${fields}: is required ${describe(info)}`, info, { cause: error });
    case '22001':
      return new InvalidInputError(`value too long: ${pg.message}`, info, { cause: error });
    case '22P02':
    // datetime_field_overflow: a date PostgreSQL has no room for (year 0, which JavaScript's Date accepts).
    case '22008':
      return new InvalidInputError(`invalid value: ${pg.message}`, info, { cause: error });
    // character_not_in_repertoire (a NUL or an invalid byte in text) and untranslatable_character
    // (`\u0000` in jsonb): text PostgreSQL cannot store.
    case '22021':
    case '22P05':
      return new InvalidInputError(`invalid text: ${pg.message}`, info, { cause: error });
    // insufficient_privilege: the grants or a row-level-security policy refused the request — the database
    // deciding what the actor may do, behind every service check.
    case '42501':
      return new ForbiddenError(`not allowed: ${pg.message}`, info, { cause: error });
    case SERIALIZATION_FAILURE:
    case DEADLOCK_DETECTED:
      return new ConflictError(`concurrent update, retries exhausted: ${pg.message}`, info, { cause: error });
    default:
      return error;
  }
}
