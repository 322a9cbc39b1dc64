import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../../testing/src/index.ts';
import { cosineDistance, InvalidInputError, inRequestScope } from '../src/index.ts';
import { Author, Book, libraryModule } from './fixtures/library.ts';

const database = useTestDatabase([libraryModule]);

describe('pgvector column type', () => {
  it('round-trips number[] and orders by cosine distance', async () => {
    await inRequestScope(database.db.orm, async (em) => {
      const author = em.create(Author, { name: 'V' });
      em.create(Book, { author, title: 'east', pages: 1, embedding: [1, 0, 0] });
      em.create(Book, { author, title: 'north', pages: 1, embedding: [0, 1, 0] });
      em.create(Book, { author, title: 'north-east', pages: 1, embedding: [1, 1, 0] });
    });
    const em = database.db.orm.em.fork();
    const nearest = await em.find(
      Book,
      { embedding: { $ne: null } },
      { orderBy: { [cosineDistance('embedding', [0.9, 0.1, 0])]: 'asc' } },
    );
    expect(nearest.map((book) => book.title)).toEqual(['east', 'north-east', 'north']);
    expect(nearest[0]!.embedding).toEqual([1, 0, 0]);
  });

  it('refuses a vector of the wrong dimension before it reaches the database', async () => {
    await expect(
      inRequestScope(database.db.orm, async (em) => {
        const author = em.create(Author, { name: 'W' });
        em.create(Book, { author, title: 'flat', pages: 1, embedding: [1, 0] });
      }),
    ).rejects.toThrow(InvalidInputError);
  });

  it('has a cosine HNSW index the planner can use', async () => {
    const em = database.db.orm.em.fork();
    const plan = await em.transactional(async (tx) => {
      await tx.execute('set local enable_seqscan = off');
      return tx.execute<{ 'QUERY PLAN': string }[]>(
        "explain select id from fixture_library.books order by embedding <=> '[1,0,0]' limit 1",
      );
    });
    expect(plan.map((row) => row['QUERY PLAN']).join('\n')).toContain('books_embedding_hnsw');
  });
});
