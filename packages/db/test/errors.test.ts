import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import { z } from 'zod';
import { useTestDatabase, withClient } from '../../testing/src/index.ts';
import {
  ConflictError,
  DatabaseUnavailableError,
  HuddleError,
  InvalidInputError,
  inRequestScope,
  NotFoundError,
  OutcomeUnknownError,
  parseInput,
  StatementTimeoutError,
  toHuddleError,
} from '../src/index.ts';
import { text } from '../src/zod.ts';
import { Author, Book, libraryModule } from './fixtures/library.ts';

const database = useTestDatabase([libraryModule]);

async function failure(work: () => Promise<unknown>): Promise<HuddleError> {
  try {
    await work();
  } catch (error) {
    if (error instanceof HuddleError) return error;
    throw error;
  }
  throw new Error('expected the operation to fail');
}

function failureOf(work: () => unknown): HuddleError {
  try {
    work();
  } catch (error) {
    if (error instanceof HuddleError) return error;
    throw error;
  }
  throw new Error('expected the operation to fail');
}

async function authorCount(): Promise<number> {
  return database.db.orm.em.fork().count(Author);
}

describe('database errors become typed errors naming the constraint', () => {
  it('unique violation → ConflictError with constraint, table and column', async () => {
    await inRequestScope(database.db.orm, async (em) => {
      em.create(Author, { name: 'A', email: 'dup@example.com' });
    });
    const error = await failure(() =>
      inRequestScope(database.db.orm, async (em) => {
        em.create(Author, { name: 'B', email: 'dup@example.com' });
      }),
    );
    expect(error).toBeInstanceOf(ConflictError);
    expect(error.constraint).toMatchObject({
      constraint: 'authors_email_unique',
      schema: 'fixture_library',
      table: 'authors',
      columns: ['email'],
    });
    expect(error.message).toMatch(/^email: must be unique/);
    expect(error.message).toContain('authors_email_unique');
  });

  it('foreign key to a missing row → NotFoundError', async () => {
    const error = await failure(() =>
      inRequestScope(database.db.orm, (em) =>
        em.execute('insert into fixture_library.books (author_id, title, pages) values (?, ?, ?)', [
          999_999,
          'x',
          1,
        ]),
      ),
    );
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error.constraint).toMatchObject({ constraint: 'books_author_id_foreign', columns: ['author_id'] });
  });

  it('deleting a row that is still referenced → ConflictError', async () => {
    // books → authors cascades, so make a restricting reference just for this test.
    const [author] = await inRequestScope(database.db.orm, async (em) => {
      const created = em.create(Author, { name: 'Referenced' });
      await em.flush();
      await em.execute(
        'create table fixture_library.loans (id serial primary key, author_id int not null references fixture_library.authors (id))',
      );
      await em.execute('insert into fixture_library.loans (author_id) values (?)', [created.id]);
      return [created];
    });
    const error = await failure(() =>
      inRequestScope(database.db.orm, (em) =>
        em.execute('delete from fixture_library.authors where id = ?', [author!.id]),
      ),
    );
    expect(error).toBeInstanceOf(ConflictError);
    expect(error.constraint).toMatchObject({ constraint: 'loans_author_id_fkey', table: 'loans' });
    expect(error.message).toMatch(/still referenced/);
    await inRequestScope(database.db.orm, (em) => em.execute('drop table fixture_library.loans'));
  });

  // Before: PostgreSQL 17 (the embedded engine) reports an ON DELETE RESTRICT key with its own code, 23001,
  // which fell through to a server error (found by pnpm bench fuzz on PGlite).
  it('a restrict violation (23001) → ConflictError, as a foreign key still referencing the row is', () => {
    const error = Object.assign(
      new Error('update or delete on table "decks" violates RESTRICT setting of foreign key constraint'),
      { code: '23001', table: 'sessions', schema: 'poker', constraint: 'sessions_deck_id_foreign' },
    );
    const mapped = toHuddleError(error);
    expect(mapped).toBeInstanceOf(ConflictError);
    expect((mapped as ConflictError).message).toMatch(/still referenced/);
  });

  it('check violation → InvalidInputError naming the check', async () => {
    const error = await failure(() =>
      inRequestScope(database.db.orm, async (em) => {
        const author = em.create(Author, { name: 'C' });
        em.create(Book, { author, title: 'Empty', pages: 0 });
      }),
    );
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.constraint).toMatchObject({ constraint: 'books_pages_check', table: 'books' });
  });

  it('not-null violation → InvalidInputError naming the column', async () => {
    const error = await failure(() =>
      inRequestScope(database.db.orm, (em) =>
        em.execute('insert into fixture_library.authors (name) values (null)'),
      ),
    );
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.constraint).toMatchObject({ table: 'authors', columns: ['name'] });
    expect(error.message).toMatch(/^name: is required/);
  });

  it('a date PostgreSQL cannot hold (year 0) → InvalidInputError, not a server error', async () => {
    const error = await failure(() =>
      inRequestScope(database.db.orm, (em) => em.execute(`select '0000-02-29T22:54:38.000Z'::timestamptz`)),
    );
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.message).toMatch(/^invalid value: date\/time field value out of range/);
  });

  it('text PostgreSQL cannot store (NUL in text or in jsonb) → InvalidInputError', async () => {
    const inText = await failure(() =>
      inRequestScope(database.db.orm, (em) => em.execute("select convert_from('\\x00'::bytea, 'UTF8')")),
    );
    expect(inText).toBeInstanceOf(InvalidInputError);
    expect(inText.message).toMatch(/^invalid text: /);
    const inJson = await failure(() =>
      inRequestScope(database.db.orm, async (em) => {
        const author = em.create(Author, { name: 'J' });
        em.create(Book, { author, title: 'Nul', pages: 1, metadata: { tags: ['a\u0000b'] } });
      }),
    );
    expect(inJson).toBeInstanceOf(InvalidInputError);
  });

  it('a statement past statement_timeout → StatementTimeoutError, and the scope rolls back', async () => {
    const before = await authorCount();
    const error = await failure(() =>
      inRequestScope(database.db.orm, async (em) => {
        em.create(Author, { name: 'Slow' });
        await em.flush();
        await em.execute("set local statement_timeout = '20ms'");
        await em.execute('select pg_sleep(5)');
      }),
    );
    expect(error).toBeInstanceOf(StatementTimeoutError);
    expect(error.kind).toBe('unavailable');
    expect(error.message).toMatch(/^database statement timed out \(statement_timeout\): /);
    expect(await authorCount()).toBe(before);
  });

  it('a failed request scope changes nothing', async () => {
    const before = await authorCount();
    await failure(() =>
      inRequestScope(database.db.orm, async (em) => {
        em.create(Author, { name: 'Written then rolled back' });
        await em.flush();
        await em.execute('insert into fixture_library.authors (name) values (null)');
      }),
    );
    expect(await authorCount()).toBe(before);
  });

  it('a connection the server terminates → DatabaseUnavailableError', async () => {
    const error = await failure(() =>
      inRequestScope(database.db.orm, (em) => em.execute('select pg_terminate_backend(pg_backend_pid())')),
    );
    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    expect(error).not.toBeInstanceOf(OutcomeUnknownError);
    expect(error.message).toMatch(/^database unavailable, nothing was changed: retry shortly /);
    // The pool replaces the broken connection: the next request works.
    expect(await inRequestScope(database.db.orm, (em) => em.execute('select 1 as ok'))).toEqual([{ ok: 1 }]);
  });

  it('a database that refuses connections (55000 at FATAL) → DatabaseUnavailableError; 55000 in a statement is not', async () => {
    const name = new URL(database.url).pathname.slice(1);
    const serverUrl = inject('huddle').serverUrl;
    await withClient(serverUrl, (client) => client.query(`alter database "${name}" allow_connections false`));
    try {
      const client = new pg.Client({ connectionString: database.url });
      const refused = await client.connect().then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(refused).toMatchObject({ code: '55000', severity: 'FATAL' });
      expect(toHuddleError(refused)).toBeInstanceOf(DatabaseUnavailableError);
    } finally {
      await withClient(serverUrl, (client) =>
        client.query(`alter database "${name}" allow_connections true`),
      );
    }
    const inStatement = Object.assign(new Error('cannot lock'), { code: '55000', severity: 'ERROR' });
    expect(toHuddleError(inStatement)).not.toBeInstanceOf(DatabaseUnavailableError);
  });

  it('driver errors without a SQLSTATE (lost connection, broken client, pool wait) → DatabaseUnavailableError, also as a cause', () => {
    for (const message of [
      'Connection terminated unexpectedly',
      'Client has encountered a connection error and is not queryable',
      'timeout exceeded when trying to connect',
      'Connection terminated due to connection timeout',
    ]) {
      for (const error of [new Error(message), new Error('wrapped', { cause: new Error(message) })]) {
        const mapped = toHuddleError(error);
        expect(mapped, message).toBeInstanceOf(DatabaseUnavailableError);
        expect(mapped).toMatchObject({ kind: 'unavailable', retryAfterSeconds: 1 });
      }
    }
    // A message that merely mentions a connection is someone else's error.
    const other = new Error('Connection terminated unexpectedly, said the user');
    expect(toHuddleError(other)).toBe(other);
  });

  it('a connection lost during COMMIT → OutcomeUnknownError: the write may be stored', async () => {
    // A deferred constraint trigger runs at COMMIT: this one ends its own session there.
    await database.db.orm.em.fork().execute(`
      create table fixture_library.commit_killer (id int);
      create function fixture_library.end_session() returns trigger language plpgsql as
        $$ begin perform pg_terminate_backend(pg_backend_pid()); return null; end $$;
      create constraint trigger end_session_at_commit after insert on fixture_library.commit_killer
        deferrable initially deferred for each row execute function fixture_library.end_session();`);
    const error = await failure(() =>
      inRequestScope(database.db.orm, (em) =>
        em.execute('insert into fixture_library.commit_killer values (1)'),
      ),
    );
    expect(error).toBeInstanceOf(OutcomeUnknownError);
    expect(error).toMatchObject({ kind: 'unavailable', outcome: 'unknown', retryAfterSeconds: 1 });
    expect(error.message).toMatch(/^database connection lost while committing/);
  });

  it('serialization failures are retried, a bounded number of times', async () => {
    let attempts = 0;
    const result = await inRequestScope(database.db.orm, async (em) => {
      attempts++;
      if (attempts < 3) await em.execute(`do $$ begin raise exception using errcode = '40001'; end $$`);
      return 'done';
    });
    expect([result, attempts]).toEqual(['done', 3]);

    attempts = 0;
    const error = await failure(() =>
      inRequestScope(
        database.db.orm,
        async (em) => {
          attempts++;
          await em.execute(`do $$ begin raise exception using errcode = '40001'; end $$`);
        },
        { retries: 2 },
      ),
    );
    expect(error).toBeInstanceOf(ConflictError);
    expect(attempts).toBe(3);
  });
});

describe('parseInput', () => {
  it('names the field and the rule', () => {
    const schema = z.object({ story: z.object({ title: z.string().max(5) }) });
    expect(() => parseInput(schema, { story: { title: 'too long' } })).toThrow(
      /^story\.title: Too big: expected string to have <=5 characters$/,
    );
    expect(parseInput(schema, { story: { title: 'ok' } })).toEqual({ story: { title: 'ok' } });
  });

  it('text() refuses a lone surrogate and a NUL, naming the field; a surrogate pair is text', () => {
    const schema = z.object({ name: text().trim().min(1) });
    for (const name of ['é\udeea', '\ud83d', 'a\u0000b']) {
      const error = failureOf(() => parseInput(schema, { name }));
      expect(error).toBeInstanceOf(InvalidInputError);
      expect(error.message).toBe('name: must be well-formed text without NUL characters');
      expect(error.constraint.field).toBe('name');
    }
    expect(parseInput(schema, { name: ' 😀 é ' })).toEqual({ name: '😀 é' });
  });
});
