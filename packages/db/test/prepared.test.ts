import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../../testing/src/index.ts';
import { executePrepared, inRequestScope, preparedStatement } from '../src/index.ts';
import { PooledClient } from '../src/prepared.ts';
import { libraryModule } from './fixtures/library.ts';

const database = useTestDatabase([libraryModule]);

const authorNamed = preparedStatement<{ id: number; name: string }>(
  'fixture_library.author_named',
  'select id, name from fixture_library.authors where name = $1',
);
const addAuthor = preparedStatement<{ id: number }>(
  'fixture_library.add_author',
  'insert into fixture_library.authors (name) values ($1) returning id',
);

/** The names of the statements prepared on the request's connection. */
const preparedHere = async (em: Parameters<Parameters<typeof inRequestScope>[1]>[0]) =>
  (await em.execute<{ name: string }[]>('select name from pg_prepared_statements order by name')).map(
    (row) => row.name,
  );

/**
 * A statement's `statement_timestamp()` is when its message arrived and `transaction_timestamp()` when the
 * transaction's BEGIN did: equal only when the statement came in the BEGIN's message.
 */
const cameWithBegin = 'select statement_timestamp() = transaction_timestamp() as "withBegin"';

describe('prepared statements and BEGIN on the request path (PooledClient)', () => {
  it('runs a declared statement prepared under its name, and its rows come back typed', async () => {
    const rows = await inRequestScope(database.db.orm, async (em) => {
      const [{ id }] = (await executePrepared(em, addAuthor, ['Ursula'])) as [{ id: number }];
      const found = await executePrepared(em, authorNamed, ['Ursula']);
      return { id, found, prepared: await preparedHere(em) };
    });
    expect(rows.found).toEqual([{ id: rows.id, name: 'Ursula' }]);
    expect(rows.prepared).toEqual(
      expect.arrayContaining(['fixture_library.add_author', 'fixture_library.author_named']),
    );
  });

  it('sends the BEGIN with the first statement, and later statements on their own', async () => {
    const [first, second] = await inRequestScope(database.db.orm, async (em) => [
      (await em.execute<{ withBegin: boolean }[]>(cameWithBegin))[0]!.withBegin,
      (await em.execute<{ withBegin: boolean }[]>(cameWithBegin))[0]!.withBegin,
    ]);
    expect({ first, second }).toEqual({ first: true, second: false });
  });

  it('a transaction whose first statement is prepared still runs it inside the transaction', async () => {
    const refused = inRequestScope(database.db.orm, async (em) => {
      await executePrepared(em, addAuthor, ['Rolled Back']);
      throw new Error('the request fails after its first statement');
    });
    await expect(refused).rejects.toThrow('the request fails after its first statement');
    const found = await inRequestScope(database.db.orm, (em) =>
      executePrepared(em, authorNamed, ['Rolled Back']),
    );
    expect(found).toEqual([]);
  });

  it('a first statement that fails rolls the transaction back and leaves the connection usable', async () => {
    await expect(inRequestScope(database.db.orm, (em) => em.execute('select 1 / 0'))).rejects.toThrow(
      /division by zero/,
    );
    // Every pooled connection still begins cleanly: one request per connection at once.
    const answers = await Promise.all(
      Array.from({ length: 10 }, () =>
        inRequestScope(
          database.db.orm,
          async (em) => (await em.execute<{ withBegin: boolean }[]>(cameWithBegin))[0]!,
        ),
      ),
    );
    expect(answers).toEqual(Array.from({ length: 10 }, () => ({ withBegin: true })));
  });

  it('keeps every result of a first statement that is several, and opens no transaction with a stream', async () => {
    const client = new PooledClient({ connectionString: database.url });
    await client.connect();
    try {
      await client.query('begin');
      const results = (await client.query('select 1 as n; select 2 as n')) as unknown as pg.QueryResult[];
      expect(results.map((result) => result.rows)).toEqual([[{ n: 1 }], [{ n: 2 }]]);
      await client.query('commit');
      await client.query('begin');
      expect(() => client.query('select 1', () => undefined)).toThrow(/not a stream/);
    } finally {
      await client.end();
    }
  });

  it('refuses a name declared again for other SQL, and a name PostgreSQL cannot hold', () => {
    expect(() => preparedStatement('fixture_library.author_named', 'select 1')).toThrow(/declared twice/);
    expect(() => preparedStatement('x'.repeat(64), 'select 1')).toThrow(/at most 63/);
    expect(preparedStatement('fixture_library.author_named', authorNamed.sql)).toEqual(authorNamed);
  });
});
