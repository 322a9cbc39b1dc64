import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cosineDistance,
  inRequestScope,
  migrateUp,
  migrationCheck,
  migrationStatus,
  openDatabase,
  platformModule,
  publish,
} from '../src/index.ts';
import { saveTemplate, templateDirectory } from '../src/template.ts';
import { expectIdempotentCalls } from './fixtures/idempotency.ts';
import { Author, Book, libraryModule } from './fixtures/library.ts';
import { reviewsModule } from './fixtures/reviews.ts';

let dataDir: string;
const modules = [libraryModule, reviewsModule];

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'huddle-pglite-'));
});
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

describe('embedded PGlite', () => {
  // PGlite's initdb: 23–28 s under the full `pnpm test` on 2 cores.
  it('applies the same migrations, with no drift, and keeps data across a reopen', async () => {
    const db = await openDatabase({ modules, target: { kind: 'pglite', dataDir } });
    try {
      const applied = await migrateUp(db);
      expect(applied.map((result) => result.applied.length)).toEqual([4, 1, 2]);
      expect((await migrationCheck(db)).map((module) => [module.module, module.drift])).toEqual([
        ['huddle', []],
        ['fixture_library', []],
        ['fixture_reviews', []],
      ]);
      await inRequestScope(db.orm, async (em) => {
        const author = em.create(Author, { name: 'Embedded', email: 'e@example.com' });
        em.create(Book, { author, title: 'close', pages: 3, embedding: [1, 0, 0] });
        em.create(Book, { author, title: 'far', pages: 3, embedding: [-1, 0, 0] });
      });
    } finally {
      await db.close();
    }

    const reopened = await openDatabase({ modules, target: { kind: 'pglite', dataDir } });
    try {
      expect((await migrateUp(reopened)).every((result) => result.applied.length === 0)).toBe(true);
      const books = await reopened.orm.em
        .fork()
        .find(Book, {}, { orderBy: { [cosineDistance('embedding', [1, 0.1, 0])]: 'asc' } });
      expect(books.map((book) => [book.title, book.embedding])).toEqual([
        ['close', [1, 0, 0]],
        ['far', [-1, 0, 0]],
      ]);
    } finally {
      await reopened.close();
    }
  }, 90_000);

  it('opens a new data directory as a copy of the migrated template its migration list names', async () => {
    const cache = await mkdtemp(path.join(tmpdir(), 'huddle-template-cache-'));
    const saved = process.env.XDG_CACHE_HOME;
    process.env.XDG_CACHE_HOME = cache;
    try {
      const template = await templateDirectory([platformModule, ...modules]);
      expect(path.dirname(template)).toBe(path.join(cache, 'huddle'));
      // Another migration list is another template: a new migration never reuses one built without it.
      expect(await templateDirectory([platformModule, libraryModule])).not.toBe(template);
      // The migrated directory of the test above, as a template: without the lock or the secret of its own.
      await saveTemplate(dataDir, template);
      expect((await readdir(template)).filter((name) => name.startsWith('huddle'))).toEqual([]);
      const db = await openDatabase({
        modules,
        target: { kind: 'pglite', dataDir: path.join(cache, 'copy') },
        create: 'migrated',
      });
      try {
        expect((await migrationStatus(db)).flatMap((module) => module.pending)).toEqual([]);
        const titles = await db.orm.em.fork().find(Book, {}, { orderBy: { title: 'asc' } });
        expect(titles.map((book) => book.title)).toEqual(['close', 'far']);
      } finally {
        await db.close();
      }
    } finally {
      if (saved === undefined) delete process.env.XDG_CACHE_HOME;
      else process.env.XDG_CACHE_HOME = saved;
      await rm(cache, { recursive: true, force: true });
    }
  });

  it('stores, replays and expires idempotency keys as on PostgreSQL', async () => {
    const db = await openDatabase({ modules, target: { kind: 'pglite', dataDir } });
    try {
      await expectIdempotentCalls(db);
    } finally {
      await db.close();
    }
  });

  it('delivers NOTIFY to listeners after commit', async () => {
    const db = await openDatabase({ modules, target: { kind: 'pglite', dataDir } });
    try {
      const received: unknown[] = [];
      const unlisten = await db.events.listen('fixture_events', (payload) => received.push(payload));
      await inRequestScope(db.orm, (em) => publish(em, 'fixture_events', { n: 1 }));
      await expect.poll(() => received).toEqual([{ n: 1 }]);
      await unlisten();
    } finally {
      await db.close();
    }
  });
});
