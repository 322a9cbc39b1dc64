import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../testing/src/index.ts';
import {
  ConfigurationError,
  type Database,
  inRequestScope,
  LockTimeoutError,
  openDatabase,
  platformModule,
  StatementTimeoutError,
  sessionLimitsFromEnv,
} from '../src/index.ts';
import { libraryModule } from './fixtures/library.ts';

let database: TestDatabase;
let db: Database;
beforeAll(async () => {
  database = await createTestDatabase();
  db = await openDatabase({
    modules: [libraryModule],
    target: { kind: 'postgresql', url: database.url, poolMax: 2 },
    sessionLimits: { statementTimeoutMs: 2_000, idleInTransactionTimeoutMs: 4_000, lockTimeoutMs: 100 },
  });
});
afterAll(async () => {
  await db?.close();
  await database?.drop();
});

describe('session limits on PostgreSQL', () => {
  it('every session of the runtime pool runs with the statement and idle-in-transaction timeouts', async () => {
    const settings = await inRequestScope(db.orm, (em) =>
      em.execute<{ statement: string; idle: string; lock: string }[]>(
        "select current_setting('statement_timeout') as statement, current_setting('idle_in_transaction_session_timeout') as idle, current_setting('lock_timeout') as lock",
      ),
    );
    expect(settings).toEqual([{ statement: '2s', idle: '4s', lock: '100ms' }]);
  });

  it('a statement past the limit fails as StatementTimeoutError, and the pool goes on serving', async () => {
    const error = await inRequestScope(db.orm, async (em) => {
      await em.execute("set local statement_timeout = '250ms'");
      await em.execute('select pg_sleep(30)');
    }).catch((reason: unknown) => reason);
    expect(error).toBeInstanceOf(StatementTimeoutError);
    expect(await inRequestScope(db.orm, (em) => em.execute('select 1 as ok'))).toEqual([{ ok: 1 }]);
  });

  it('a lock wait past lock_timeout fails as LockTimeoutError (unavailable, retry after 1 s) and changes nothing', async () => {
    const [author] = await db.orm.em
      .fork()
      .execute<{ id: number }[]>("insert into fixture_library.authors (name) values ('Locked') returning id");
    const holder = new pg.Client({ connectionString: database.url });
    await holder.connect();
    try {
      await holder.query('begin');
      await holder.query('select id from fixture_library.authors where id = $1 for update', [author!.id]);
      const error = await inRequestScope(db.orm, (em) =>
        em.execute("update fixture_library.authors set name = 'Changed' where id = ?", [author!.id]),
      ).catch((reason: unknown) => reason);
      expect(error).toBeInstanceOf(LockTimeoutError);
      expect(error).toMatchObject({ kind: 'unavailable', retryAfterSeconds: 1 });
      expect((error as Error).message).toMatch(/^a row this request needs is locked by another request/);
    } finally {
      await holder.end();
    }
    const [row] = await db.orm.em
      .fork()
      .execute<{ name: string }[]>('select name from fixture_library.authors where id = ?', [author!.id]);
    expect(row).toEqual({ name: 'Locked' });
  });

  it('migration ORMs run without them', async () => {
    const orm = await db.openModuleOrm(platformModule);
    try {
      const [row] = await orm.em
        .fork()
        .execute<{ statement: string }[]>("select current_setting('statement_timeout') as statement");
      expect(row).toEqual({ statement: '0' });
    } finally {
      await orm.close();
    }
  });
});

describe('sessionLimitsFromEnv', () => {
  it('defaults to 10 s per statement, 30 s idle in a transaction and 2 s per lock wait; 0 turns a limit off', () => {
    expect(sessionLimitsFromEnv({})).toEqual({
      statementTimeoutMs: 10_000,
      idleInTransactionTimeoutMs: 30_000,
      lockTimeoutMs: 2_000,
    });
    expect(
      sessionLimitsFromEnv({
        HUDDLE_STATEMENT_TIMEOUT_MS: '0',
        HUDDLE_IDLE_IN_TRANSACTION_TIMEOUT_MS: '500',
        HUDDLE_LOCK_TIMEOUT_MS: '0',
      }),
    ).toEqual({ statementTimeoutMs: 0, idleInTransactionTimeoutMs: 500, lockTimeoutMs: 0 });
  });

  it('refuses a bad value with one line naming the variable', () => {
    expect(() => sessionLimitsFromEnv({ HUDDLE_STATEMENT_TIMEOUT_MS: 'soon' })).toThrow(ConfigurationError);
    expect(() => sessionLimitsFromEnv({ HUDDLE_STATEMENT_TIMEOUT_MS: '-1' })).toThrow(
      /^HUDDLE_STATEMENT_TIMEOUT_MS: /,
    );
  });
});
