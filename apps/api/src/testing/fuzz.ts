import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { isDeepStrictEqual } from 'node:util';
import { issueSessionToken, issueToken, verifyToken } from '@huddle/composition';
import {
  type Database,
  type FuzzFixtureGeneration,
  inRequestScope,
  loadActor,
  ModuleResources,
} from '@huddle/db';
import type { AnyProcedure, AnyRouter } from '@trpc/server';
import fc from 'fast-check';
import { pino } from 'pino';
import { z } from 'zod';
import { appRouter } from '../router.ts';
import { type ApiServer, startApiServer } from '../server.ts';
import type { FuzzFixtures } from './fixtures.ts';
import { mutatedInputs, rawBodies, validInputs } from './inputs.ts';

export { createFuzzFixtures, type FuzzFixtures } from './fixtures.ts';

/**
 * The fuzz harness: every procedure of the AppRouter — found by walking the router, so a module composed
 * tomorrow is covered with no change here — called over real HTTP with inputs derived from its own zod
 * schema and mutations of them, under valid, missing, malformed and foreign tokens. Used by
 * `apps/api/test/fuzz.test.ts` (bounded, seeded) and `pnpm bench fuzz` (≥ 10,000 cases per backend).
 */

export type ProcedureType = 'query' | 'mutation' | 'subscription';

export interface FuzzProcedure {
  /** e.g. `poker.votes.cast` */
  path: string;
  type: ProcedureType;
  /** The top-level router it belongs to: the module whose token it takes. */
  module: string;
  input: z.ZodType | undefined;
}

/** Every procedure of `router`, with its type and zod input schema, in path order. */
export function routerProcedures(router: AnyRouter = appRouter): FuzzProcedure[] {
  const procedures = router._def.procedures as Record<string, AnyProcedure>;
  return Object.entries(procedures)
    .map(([path, procedure]) => {
      const inputs = (procedure._def as { inputs: unknown[] }).inputs.filter(
        (parser): parser is z.ZodType => parser instanceof z.ZodType,
      );
      const input = inputs.reduce<z.ZodType | undefined>(
        (merged, next) => (merged ? z.intersection(merged, next) : next),
        undefined,
      );
      return { path, type: procedure._def.type as ProcedureType, module: path.split('.', 1)[0]!, input };
    })
    .sort((a, b) => a.path.localeCompare(b.path));
}

type TokenKind = 'valid' | 'none' | 'foreign' | 'malformed' | 'bad-subject';

interface FuzzCase {
  token: TokenKind;
  /** Which token of its kind's pool. */
  tokenPick: number;
  /** A JSON value to send (undefined: no input), or a raw text that may not be JSON at all. */
  input: { json: unknown } | { raw: string };
  /** Send it with the other HTTP method than the procedure's (GET for a mutation, POST for a query). */
  wrongMethod: boolean;
  /** When set, fields get values earlier answers returned under the same name (see SeenValues). */
  reuse: number | null;
  /** When set and the fixtures hold examples of this procedure, one of them is the input (see Examples). */
  example: number | null;
}

function caseArbitrary(procedure: FuzzProcedure): fc.Arbitrary<FuzzCase> {
  return fc.record({
    token: fc.oneof(
      { weight: 10, arbitrary: fc.constant<TokenKind>('valid') },
      { weight: 3, arbitrary: fc.constantFrom<TokenKind>('none', 'foreign', 'malformed', 'bad-subject') },
    ),
    // Mostly the first valid token (the first actor the module loads: in a seeded database, the one who owns
    // the sample rows), so calls get past access checks into the services.
    tokenPick: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.nat() }),
    input: fc.oneof(
      { weight: 5, arbitrary: validInputs(procedure.input).map((json) => ({ json })) },
      { weight: 8, arbitrary: mutatedInputs(procedure.input).map((json) => ({ json })) },
      { weight: 1, arbitrary: rawBodies.map((raw) => ({ raw })) },
    ),
    // Three cases in four name rows that exist (fixtures, earlier answers): ids are too sparse to guess.
    reuse: fc.option(fc.nat(), { freq: 4 }),
    example: fc.oneof({ weight: 2, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.nat() }),
    wrongMethod: fc.oneof(
      { weight: 30, arbitrary: fc.constant(false) },
      { weight: 1, arbitrary: fc.constant(true) },
    ),
  });
}

export interface FuzzOutcome {
  /** HTTP status, or for a subscription the status its error event names (200 when it streamed). */
  status: number;
  code?: string;
  /** The error's message, when the answer carried one. */
  message?: string;
  /** The field the error names (`data.field`), when it names one. */
  field?: string | null;
}

export interface FuzzFailure {
  procedure: string;
  reason: string;
  case: FuzzCase;
}

export interface FuzzReport {
  cases: number;
  /** Cases per outcome, e.g. `400 BAD_REQUEST`, `200`. */
  outcomes: Map<string, number>;
  /** Per procedure: how many cases were accepted (2xx) — a harness that never gets past validation tests little. */
  accepted: Map<string, number>;
  /** Per procedure: how many cases were refused (any other answer). */
  rejected: Map<string, number>;
  /**
   * Per procedure: why calls with a valid token were refused (`404 NOT_FOUND: plan 3 not found`) and how
   * often — what to look at when a procedure never accepts a call.
   */
  refusals: Map<string, Map<string, number>>;
  failures: FuzzFailure[];
}

/** Tokens to send, per kind; `valid` per module, grown with every token a sign-in hands out. */
class TokenPool {
  readonly valid = new Map<string, string[]>();
  readonly others: Record<Exclude<TokenKind, 'valid' | 'none'>, string[]> = {
    foreign: [],
    malformed: [],
    'bad-subject': [],
  };
  private readonly secret: Uint8Array;
  private readonly db: Database;
  /** The subjects each module's valid tokens were issued for, in the order of `valid`'s first entries. */
  private readonly subjects = new Map<string, string[]>();

  constructor(db: Database, secret: Uint8Array) {
    this.db = db;
    this.secret = secret;
  }

  /**
   * Fresh sessions for the subjects' tokens (of `only`, or every module's), keeping the harvested ones after
   * them: calls end sessions (`auth.signOut`, a password change, a deactivation), and a pool of ended sessions
   * reaches no service.
   */
  async renew(only?: string): Promise<void> {
    for (const [module, subjects] of this.subjects) {
      if (only !== undefined && module !== only) continue;
      const fresh: string[] = [];
      for (const subject of subjects)
        fresh.push((await issueSessionToken(this.db, this.secret, { module, subject })).token);
      this.valid.set(module, [...fresh, ...(this.valid.get(module) ?? []).slice(subjects.length)]);
    }
  }

  /**
   * Valid tokens for the first few subjects each module's actor spec accepts and loads (ids 1–8, and the
   * fixtures' subjects: planner's are operator names); the others derived from them.
   */
  static async create(
    db: Database,
    secret: Uint8Array,
    modules: string[],
    subjects: Record<string, string[]>,
  ): Promise<TokenPool> {
    const pool = new TokenPool(db, secret);
    // Tokens the API must refuse before any session is read name a session that does not exist.
    const sessionId = randomUUID();
    for (const name of modules) {
      const spec = db.modules.find((module) => module.name === name)?.actor;
      pool.valid.set(name, []);
      if (!spec) continue;
      for (const subject of [
        ...(subjects[name] ?? []),
        ...Array.from({ length: 8 }, (_, id) => String(id + 1)),
      ]) {
        const loaded = await inRequestScope(db.orm, (em) => loadActor(em, spec, spec.parse(subject))).then(
          () => true,
          () => false,
        );
        if (loaded) pool.subjects.set(name, [...(pool.subjects.get(name) ?? []), subject]);
      }
      for (const subject of ['0', '-1', 'abc', '2147483648', '1 or 1=1', '1e3', ' 1']) {
        pool.others['bad-subject'].push(
          (await issueToken(secret, { module: name, subject, sessionId })).token,
        );
      }
    }
    await pool.renew();
    for (const module of [...modules, 'nomodule']) {
      const other = modules.find((name) => name !== module) ?? 'nomodule';
      pool.others.foreign.push(
        (
          await issueToken(secret, {
            module: other === module ? 'nomodule' : other,
            subject: '1',
            sessionId,
          })
        ).token,
      );
    }
    const sample =
      [...pool.valid.values()].flat()[0] ??
      (await issueToken(secret, { module: 'x', subject: '1', sessionId })).token;
    const forged = (
      await issueToken(new TextEncoder().encode('another-secret-of-thirty-two-chars!'), {
        module: modules[0] ?? 'x',
        subject: '1',
        sessionId,
      })
    ).token;
    pool.others.malformed.push(
      'abc',
      `${sample.slice(0, -3)}AAA`,
      forged,
      sample.split('.').slice(0, 2).join('.'),
      'x'.repeat(8_000),
      'a.b.c',
    );
    return pool;
  }

  header(kind: TokenKind, module: string, pick: number): string | undefined {
    if (kind === 'none') return undefined;
    const tokens = kind === 'valid' ? (this.valid.get(module) ?? []) : this.others[kind];
    if (tokens.length === 0) return undefined;
    return `Bearer ${tokens[pick % tokens.length]}`;
  }

  /** Keeps the tokens a successful call returned (a sign-in's), for the module they are for. */
  harvest(result: unknown): void {
    const tokens = tokensIn(result).filter((token) => token.split('.').length === 3);
    for (const token of tokens) {
      let module: string;
      try {
        module = verifyToken(this.secret, token).module;
      } catch {
        continue;
      }
      const list = this.valid.get(module);
      if (list && list.length < 32) list.push(token);
    }
  }
}

/**
 * Values the API returned, by field name (`sessionId`, `storyId`, `joinCode`, …): a valid id or code is
 * too sparse to guess, so cases reuse what earlier answers showed and get past "not found" into the rules.
 */
class SeenValues {
  private readonly byField: Map<string, unknown[]>;

  /** Starts from `fixtures`: values of rows that exist, by field name (createFuzzFixtures). */
  constructor(fixtures: Record<string, unknown[]> = {}) {
    this.byField = new Map();
    this.addFixtures(fixtures);
  }

  /** Values of rows that exist, by field name, newest last: they become the latest seen. */
  addFixtures(fixtures: Record<string, unknown[]>): void {
    for (const [field, values] of Object.entries(fixtures))
      for (const value of values) this.remember(field, value);
  }

  /** The ids, codes and cursors in an answer, by the name of the field that holds them. */
  add(result: unknown): void {
    if (Array.isArray(result)) for (const item of result) this.add(item);
    if (typeof result !== 'object' || result === null) return;
    for (const [field, value] of Object.entries(result)) {
      if (field === 'token') continue;
      if (typeof value === 'string' || typeof value === 'number') this.remember(field, value);
      else this.add(value);
    }
  }

  /** `value` as the latest of `field` (moved there if seen before), keeping the latest 64. */
  private remember(field: string, value: unknown): void {
    const seen = (this.byField.get(field) ?? []).filter((earlier) => !isDeepStrictEqual(earlier, value));
    seen.push(value);
    this.byField.set(field, seen.slice(-64));
  }

  /**
   * `input` with each field the API has shown a value for replaced by one of them, picked by `pick`: any
   * such field of the input itself, only ids deeper down (a nested `path` or `name` is content, such as an
   * artifact's file path). A `cursor` takes a `nextCursor` a list returned, or is left out (a first page).
   * Only values the field's own schema in `schema` accepts replace it: a `role` or `status` seen in an answer
   * may be no option of this input's enum, a `nextCursor` may be another list's, and a planner `sessionId`
   * (a uuid) is no poker one.
   */
  apply(input: unknown, pick: number, schema: z.ZodType | undefined, nested = false): unknown {
    if (Array.isArray(input)) {
      const items = itemSchema(schema);
      return input.map((item) => this.apply(item, pick, items, true));
    }
    if (typeof input !== 'object' || input === null) return input;
    const fields = Object.entries(input).flatMap(([field, value], position): [string, unknown][] => {
      const own = fieldSchemas(schema, field);
      const fits = (candidate: unknown) =>
        own.length === 0
          ? typeof candidate === typeof value
          : own.some((s) => s.safeParse(candidate).success);
      if (field === 'cursor') {
        const cursors = (this.byField.get('nextCursor') ?? []).filter(fits);
        return cursors.length === 0 ? [] : [[field, cursors[pick % cursors.length]]];
      }
      // A `…Id` field takes any id seen (a session's `id` is what `sessionId` wants), but two times in three
      // only values seen under its own name, when there are some: ids of every kind would drown them. Which
      // time depends on the field's position, so of two ids (a relationship's two ends) at most one mixes
      // them in: the same pick in the same list of ids would name one row twice.
      const isId = field.endsWith('Id');
      const named = nested && !isId ? [] : (this.byField.get(field) ?? []).filter(fits);
      const seen =
        isId && (named.length === 0 || (pick + 2 * position) % 3 === 0)
          ? [...named, ...(this.byField.get('id') ?? []).filter(fits)]
          : named;
      if (seen.length === 0) return [[field, this.apply(value, pick, unionOf(own), true)]];
      // Mostly one of the latest: the row just created or changed is the one whose next step can succeed.
      const recent = pick % 2 === 0 ? Math.min(seen.length, 3) : seen.length;
      return [[field, seen[seen.length - 1 - (Math.floor(pick / 2) % recent)]]];
    });
    return Object.fromEntries(fields);
  }
}

/**
 * Inputs the fixtures know a procedure accepts from the harness's first token, by procedure path (a seed
 * corpus): where fields must agree with each other or with the caller — `stories.reorder` lists exactly its
 * session's stories, `notifications.markRead` names one of the caller's own — values picked field by field
 * almost never do. A third of the cases send one of the latest, with the case's token and method, and the
 * first round of each generation the newest (runFuzz).
 */
class Examples {
  private readonly byPath = new Map<string, unknown[]>();

  add(examples: Record<string, unknown[]>): void {
    for (const [path, inputs] of Object.entries(examples))
      this.byPath.set(path, [...(this.byPath.get(path) ?? []), ...inputs].slice(-16));
  }

  /** One of the latest three examples of `path`; undefined when it has none. */
  pick(path: string, pick: number): unknown {
    const inputs = this.byPath.get(path) ?? [];
    if (inputs.length === 0) return undefined;
    return inputs[inputs.length - 1 - (pick % Math.min(inputs.length, 3))];
  }
}

/** `schema` without the wrappers that leave its shape as it is (optional, default, a pipe's input side, …). */
function unwrapped(schema: z.ZodType | undefined): z.ZodType | undefined {
  let current = schema;
  for (;;) {
    if (
      current instanceof z.ZodOptional ||
      current instanceof z.ZodNullable ||
      current instanceof z.ZodDefault ||
      current instanceof z.ZodPrefault ||
      current instanceof z.ZodReadonly ||
      current instanceof z.ZodCatch ||
      current instanceof z.ZodLazy
    )
      current = current.unwrap() as z.ZodType;
    else if (current instanceof z.ZodPipe) current = current.in as z.ZodType;
    else return current;
  }
}

/** The schemas `field` has in an object `schema` describes: one per alternative of a union that declares it. */
function fieldSchemas(schema: z.ZodType | undefined, field: string): z.ZodType[] {
  const inner = unwrapped(schema);
  if (inner instanceof z.ZodObject) return field in inner.shape ? [inner.shape[field] as z.ZodType] : [];
  if (inner instanceof z.ZodUnion)
    return (inner.options as z.ZodType[]).flatMap((option) => fieldSchemas(option, field));
  return [];
}

/** The schema of an array's items, when `schema` describes an array. */
function itemSchema(schema: z.ZodType | undefined): z.ZodType | undefined {
  const inner = unwrapped(schema);
  return inner instanceof z.ZodArray ? (inner.element as z.ZodType) : undefined;
}

/** One schema for a field's alternatives (none: unknown, any value goes). */
function unionOf(schemas: z.ZodType[]): z.ZodType | undefined {
  return schemas.length <= 1 ? schemas[0] : z.union(schemas);
}

/** String values under a `token` key anywhere in `value`. */
function tokensIn(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(tokensIn);
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, item]) =>
    key === 'token' && typeof item === 'string' ? [item] : tokensIn(item),
  );
}

/**
 * Columns a refused call still writes: a credential is used by a call the service then refuses, so the
 * session's `last_used_at` moves (at most once a minute) whatever the answer.
 */
const USED_WHEN_REFUSED: Record<string, readonly string[]> = { 'huddle.sessions': ['last_used_at'] };

/**
 * One statement computing a SHA-256 per table of every composed module — rows as `row_to_json`, in
 * primary-key order, as the backup hashes them — so "this call changed nothing" is one query to check.
 */
async function checksumQuery(db: Database, schemas: readonly string[]): Promise<string> {
  const tables = await inRequestScope(db.orm, (em) =>
    em.execute<{ qualified: string; key: string | null }[]>(
      `select format('%I.%I', n.nspname, c.relname) as qualified,
              (select string_agg(format('t.%I', a.attname), ', ' order by array_position(i.indkey, a.attnum))
                 from pg_index i join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any(i.indkey)
                where i.indrelid = c.oid and i.indisprimary) as key
         from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = any(string_to_array(?, ',')) and c.relkind in ('r', 'p') and not c.relispartition
          and c.relname <> 'mikro_orm_migrations'
        order by 1`,
      [schemas.join(',')],
    ),
  );
  const columns = tables.map(({ qualified, key }) => {
    const row = (USED_WHEN_REFUSED[qualified] ?? []).reduce(
      (json, column) => `(${json} - '${column}')`,
      'to_jsonb(t)',
    );
    return `(select encode(sha256(convert_to(coalesce(string_agg(${row}::text, E'\\n' order by ${key ?? `${row}::text`}), ''), 'UTF8')), 'hex') from ${qualified} t) as "${qualified}"`;
  });
  return `select ${columns.join(',\n')}`;
}

async function checksums(db: Database, query: string): Promise<Record<string, string>> {
  const [row] = await inRequestScope(db.orm, (em) => em.execute<Record<string, string>[]>(query));
  return row ?? {};
}

/** How long a subscription may take to send its first event (or its error) before the case fails. */
const SUBSCRIPTION_TIMEOUT_MS = 3_000;

async function readFirstEvent(response: Response, signal: AbortSignal): Promise<FuzzOutcome | 'timeout'> {
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = '';
  const timer = setTimeout(() => void reader.cancel(), SUBSCRIPTION_TIMEOUT_MS);
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done || signal.aborted) return 'timeout';
      text += value;
      for (const event of text.split('\n\n').slice(0, -1)) {
        if (event.includes('event: serialized-error')) {
          const data = JSON.parse(event.split('data: ')[1] ?? '{}') as {
            message?: string;
            data?: { httpStatus?: number; code?: string; field?: string | null };
          };
          return {
            status: data.data?.httpStatus ?? 500,
            code: data.data?.code,
            message: data.message,
            field: data.data?.field,
          };
        }
        if (/^data: /m.test(event) && !/^event: (connected|ping)/m.test(event)) return { status: 200 };
      }
    }
  } finally {
    clearTimeout(timer);
    await reader.cancel().catch(() => undefined);
  }
}

async function send(
  url: string,
  procedure: FuzzProcedure,
  input: FuzzCase['input'],
  wrongMethod: boolean,
  authorization: string | undefined,
): Promise<{ outcome: FuzzOutcome | 'timeout'; result?: unknown }> {
  const body = 'raw' in input ? input.raw : input.json === undefined ? undefined : JSON.stringify(input.json);
  const usesGet = (procedure.type !== 'mutation') !== wrongMethod;
  const headers: Record<string, string> = authorization ? { authorization } : {};
  if (procedure.type === 'subscription' && usesGet) {
    headers.accept = 'text/event-stream';
    const controller = new AbortController();
    const response = await fetch(
      `${url}/${procedure.path}${body === undefined ? '' : `?input=${encodeURIComponent(body)}`}`,
      {
        headers,
        signal: controller.signal,
      },
    );
    try {
      if (!response.headers.get('content-type')?.includes('text/event-stream')) {
        const json = (await response.json().catch(() => null)) as {
          error?: { message?: string; data?: { code?: string; field?: string | null } };
        } | null;
        return {
          outcome: {
            status: response.status,
            code: json?.error?.data?.code,
            message: json?.error?.message,
            field: json?.error?.data?.field,
          },
        };
      }
      return { outcome: await readFirstEvent(response, controller.signal) };
    } finally {
      controller.abort();
    }
  }
  const target = usesGet
    ? `${url}/${procedure.path}${body === undefined ? '' : `?input=${encodeURIComponent(body)}`}`
    : `${url}/${procedure.path}`;
  const response = await fetch(
    target,
    usesGet
      ? { headers }
      : { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body },
  );
  const text = await response.text();
  let json: {
    result?: { data?: unknown };
    error?: { message?: string; data?: { code?: string; field?: string | null } };
  } | null = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  return {
    outcome: {
      status: response.status,
      code: json?.error?.data?.code,
      message: json?.error?.message,
      field: json?.error?.data?.field,
    },
    result: json?.result?.data,
  };
}

export interface FuzzServer {
  server: ApiServer;
  /** Log lines at warn or above the server wrote (a bug is logged at error; a client's mistake never is). */
  warnings(): string[];
}

/** An API server over `db` for fuzzing: sign-in limits out of the way (they would turn most sign-ins into 429), logs kept in memory. */
export async function startFuzzServer(
  db: Database,
  secret: Uint8Array,
  fixtures?: Pick<FuzzFixtures, 'moduleResources'>,
): Promise<FuzzServer> {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  const server = await startApiServer({
    db,
    secret,
    // The fixtures' (createFuzzFixtures), so registrations and sign-ins can succeed.
    moduleResources: fixtures?.moduleResources ?? (await ModuleResources.fromEnv(db.modules, {})),
    port: 0,
    host: '127.0.0.1',
    signInLimits: {
      perAddress: 1_000_000,
      perIdentityAndAddress: 1_000_000,
      perIdentity: 1_000_000,
      windowSeconds: 1,
      identityWindowSeconds: 1,
    },
    logger: pino({ level: 'warn' }, sink),
  });
  return { server, warnings: () => lines };
}

export interface FuzzOptions {
  url: string;
  db: Database;
  secret: Uint8Array;
  casesPerProcedure: number;
  seed: number;
  procedures?: FuzzProcedure[];
  /** Values of rows that exist, by input field name (createFuzzFixtures): what reused fields start from. */
  fixtures?: Record<string, unknown[]>;
  /** Inputs known to be accepted, by procedure path (createFuzzFixtures; see Examples). */
  examples?: Record<string, unknown[]>;
  /** Token subjects to try first, by module, besides ids 1–8 (createFuzzFixtures). */
  subjects?: Record<string, string[]>;
  /** Tables a refused call may still change, by procedure path (createFuzzFixtures). */
  usedUpWhenRefused?: Record<string, readonly string[]>;
  /**
   * Creates fresh rows of the kinds calls use up (removals, completions, archivals, unregistering) and answers
   * their values by field name, called every REFRESH_ROUNDS rounds (FuzzFixtures.refresh): in a long run the
   * first fixtures are gone long before the last rounds.
   */
  refresh?(): Promise<FuzzFixtureGeneration>;
  /** Called after each round (one case of every procedure). */
  onRound?(round: number, report: FuzzReport): void;
}

function failureOf(outcome: FuzzOutcome | 'timeout'): string | undefined {
  if (outcome === 'timeout') return 'no answer: the subscription neither streamed nor failed in time';
  if (outcome.code === 'INTERNAL_SERVER_ERROR') return `INTERNAL_SERVER_ERROR (${outcome.status})`;
  if (outcome.status >= 500) return `server error ${outcome.status} ${outcome.code ?? ''}`.trim();
  // Every refusal that names a field says so first (`title: …`), so a reader knows what to change.
  if (outcome.field && !outcome.message?.startsWith(`${outcome.field}: `)) {
    return `the message does not start with its field ${outcome.field}: ${outcome.message}`;
  }
  return undefined;
}

/**
 * Rows a platform call refused may still use up, by procedure path, beside the modules' own
 * (FuzzOptions.usedUpWhenRefused): a refresh token presented a second time ends its session, then is
 * refused (reuse detection).
 */
const USED_UP_WHEN_REFUSED: Record<string, readonly string[]> = { 'auth.refresh': ['huddle.sessions'] };

/** Rounds between two generations of fixtures (FuzzOptions.refresh). */
const REFRESH_ROUNDS = 10;

/** The module whose token a call carries: the path's, or the one a platform (`auth.*`) call's input names. */
function tokenModuleOf(procedure: FuzzProcedure, input: unknown): string {
  const json = typeof input === 'object' && input !== null && 'json' in input ? input.json : undefined;
  return typeof json === 'object' && json !== null && 'module' in json && typeof json.module === 'string'
    ? json.module
    : procedure.module;
}

/**
 * Runs `casesPerProcedure` seeded cases against every procedure, one call at a time: each must answer
 * without a server error; a rejected one must leave every table of its module as it was (checksums before
 * and after); the server must still answer `/health` after every round.
 */
export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const procedures = options.procedures ?? routerProcedures();
  const modules = [
    ...new Set([
      ...procedures.map((procedure) => procedure.module),
      ...options.db.modules.map((m) => m.name),
    ]),
  ];
  const tokens = await TokenPool.create(options.db, options.secret, modules, options.subjects ?? {});
  // A module's calls run as its request role, which may write its own schema only (request-roles.test.ts):
  // a call is checked against its module's tables, a quarter of the work of checking every module's.
  const queries = new Map<string, string>();
  for (const module of options.db.modules)
    queries.set(module.name, await checksumQuery(options.db, [module.name]));
  const checksumsOf = async (module: string): Promise<Record<string, string>> => {
    const query = queries.get(module);
    return query === undefined ? {} : checksums(options.db, query);
  };
  const before = new Map<string, Record<string, string>>();
  const checksumEveryModule = async () => {
    for (const module of queries.keys()) before.set(module, await checksumsOf(module));
  };
  const usedUpWhenRefused = { ...USED_UP_WHEN_REFUSED, ...options.usedUpWhenRefused };
  const seen = new SeenValues(options.fixtures);
  const examples = new Examples();
  examples.add(options.examples ?? {});
  const report: FuzzReport = {
    cases: 0,
    outcomes: new Map(),
    accepted: new Map(),
    rejected: new Map(),
    refusals: new Map(),
    failures: [],
  };
  await checksumEveryModule();
  const casesOf = procedures.map((procedure, index) => {
    report.accepted.set(procedure.path, 0);
    report.rejected.set(procedure.path, 0);
    report.refusals.set(procedure.path, new Map());
    return fc.sample(caseArbitrary(procedure), {
      seed: options.seed + index,
      numRuns: options.casesPerProcedure,
    });
  });
  // Round by round, one case of every procedure each: creations, changes and reads interleave, so later
  // calls meet rows in every state the earlier ones left.
  for (let round = 0; round < options.casesPerProcedure; round++) {
    const freshFixtures = round === 0 || (options.refresh !== undefined && round % REFRESH_ROUNDS === 0);
    if (options.refresh && round > 0 && round % REFRESH_ROUNDS === 0) {
      const generation = await options.refresh();
      seen.addFixtures(generation.values);
      examples.add(generation.examples);
      await checksumEveryModule();
    }
    if (round > 0) await tokens.renew();
    // The first round of each generation sends every procedure that has examples its newest one, with the
    // first valid token and the right method, before any other case of the round uses their rows up: an
    // example that stops reaching its procedure shows in every run, not by the luck of the draw, and other
    // procedures' cases (another module composed, another seed) cannot change whether it does.
    const roundCases = procedures.map((procedure, index) => {
      const sampled = casesOf[index]![round]!;
      const exampleFirst = freshFixtures && examples.pick(procedure.path, 0) !== undefined;
      const fuzzCase: FuzzCase = exampleFirst
        ? { ...sampled, token: 'valid', example: 0, wrongMethod: false }
        : sampled;
      return { procedure, fuzzCase, exampleFirst };
    });
    roundCases.sort((a, b) => Number(b.exampleFirst) - Number(a.exampleFirst));
    for (const { procedure, fuzzCase } of roundCases) {
      report.cases++;
      const example = fuzzCase.example === null ? undefined : examples.pick(procedure.path, fuzzCase.example);
      // An example is the first token's: a valid token then is that one.
      const tokenPick = example === undefined ? fuzzCase.tokenPick : 0;
      const fail = (reason: string) =>
        report.failures.push({ procedure: procedure.path, reason, case: fuzzCase });
      let sent: Awaited<ReturnType<typeof send>>;
      let tokenModule = procedure.module;
      try {
        const input =
          example !== undefined
            ? { json: example }
            : fuzzCase.reuse !== null && 'json' in fuzzCase.input
              ? { json: seen.apply(fuzzCase.input.json, fuzzCase.reuse, procedure.input) }
              : fuzzCase.input;
        tokenModule = tokenModuleOf(procedure, input);
        const authorization = tokens.header(fuzzCase.token, tokenModule, tokenPick);
        sent = await send(options.url, procedure, input, fuzzCase.wrongMethod, authorization);
      } catch (error) {
        fail(`request failed: ${String((error as Error).cause ?? error)}`);
        continue;
      }
      const { outcome } = sent;
      // A valid token refused: an earlier call ended its session (or its user); the next calls get fresh ones.
      if (fuzzCase.token === 'valid' && outcome !== 'timeout' && outcome.status === 401)
        await tokens.renew(tokenModule);
      const label =
        outcome === 'timeout' ? 'timeout' : `${outcome.status}${outcome.code ? ` ${outcome.code}` : ''}`;
      report.outcomes.set(label, (report.outcomes.get(label) ?? 0) + 1);
      const failure = failureOf(outcome);
      if (failure) fail(failure);
      const after = await checksumsOf(procedure.module);
      const previous: Record<string, string> = before.get(procedure.module) ?? {};
      if (outcome !== 'timeout' && outcome.status < 300) {
        report.accepted.set(procedure.path, report.accepted.get(procedure.path)! + 1);
        tokens.harvest(sent.result);
        seen.add(sent.result);
      } else {
        report.rejected.set(procedure.path, report.rejected.get(procedure.path)! + 1);
        if (fuzzCase.token === 'valid') {
          const reasons = report.refusals.get(procedure.path)!;
          const reason = outcome === 'timeout' ? label : `${label}: ${outcome.message ?? ''}`.slice(0, 200);
          reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
        }
        const changed = Object.keys(after).filter(
          (table) => after[table] !== previous[table] && !usedUpWhenRefused[procedure.path]?.includes(table),
        );
        if (changed.length > 0) fail(`rejected (${label}) but changed ${changed.join(', ')}`);
      }
      before.set(procedure.module, after);
    }
    const health = await fetch(`${options.url}/health`).then(
      (response) => response.status,
      (error: unknown) => String(error),
    );
    if (health !== 200) {
      report.failures.push({
        procedure: 'health',
        reason: `/health answered ${health} after round ${round}`,
        case: casesOf[0]![round]!,
      });
    }
    options.onRound?.(round, report);
  }
  return report;
}
