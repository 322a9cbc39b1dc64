import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../testing/src/index.ts';
import {
  ConfigurationError,
  type Database,
  inRequestScope,
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
    sessionLimits: { statementTimeoutMs: 250, idleInTransactionTimeoutMs: 4_000 },
  });
});
afterAll(async () => {
  await db?.close();
  await database?.drop();
});

describe('session limits on PostgreSQL', () => {
  it('every session of the runtime pool runs with the statement and idle-in-transaction timeouts', async () => {
    const settings = await inRequestScope(db.orm, (em) =>
      em.execute<{ statement: string; idle: string }[]>(
        "select current_setting('statement_timeout') as statement, current_setting('idle_in_transaction_session_timeout') as idle",
      ),
    );
    expect(settings).toEqual([{ statement: '250ms', idle: '4s' }]);
  });

  it('a statement past the limit fails as StatementTimeoutError, and the pool goes on serving', async () => {
    const error = await inRequestScope(db.orm, (em) => em.execute('select pg_sleep(30)')).catch(
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(StatementTimeoutError);
    expect(await inRequestScope(db.orm, (em) => em.execute('select 1 as ok'))).toEqual([{ ok: 1 }]);
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
  it('defaults to 10 s per statement and 30 s idle in a transaction; 0 turns a limit off', () => {
    expect(sessionLimitsFromEnv({})).toEqual({
      statementTimeoutMs: 10_000,
      idleInTransactionTimeoutMs: 30_000,
    });
    expect(
      sessionLimitsFromEnv({
        HUDDLE_STATEMENT_TIMEOUT_MS: '0',
        HUDDLE_IDLE_IN_TRANSACTION_TIMEOUT_MS: '500',
      }),
    ).toEqual({ statementTimeoutMs: 0, idleInTransactionTimeoutMs: 500 });
  });

  it('refuses a bad value with one line naming the variable', () => {
    expect(() => sessionLimitsFromEnv({ HUDDLE_STATEMENT_TIMEOUT_MS: 'soon' })).toThrow(ConfigurationError);
    expect(() => sessionLimitsFromEnv({ HUDDLE_STATEMENT_TIMEOUT_MS: '-1' })).toThrow(
      /^HUDDLE_STATEMENT_TIMEOUT_MS: /,
    );
  });
});
