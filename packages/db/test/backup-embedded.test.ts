import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../testing/src/index.ts';
import {
  type Database,
  type DatabaseTarget,
  migrateUp,
  openDatabase,
  renderSchemaDocs,
  restoreBackup,
  seed,
  writeBackup,
} from '../src/index.ts';
import { ledgerModule } from './fixtures/ledger.ts';
import { libraryModule } from './fixtures/library.ts';
import { reviewsModule } from './fixtures/reviews.ts';

const modules = [libraryModule, reviewsModule, ledgerModule];
let dir: string;
let server: TestDatabase;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'huddle-embedded-backup-'));
  server = await createTestDatabase({ migrated: false });
});
afterAll(async () => {
  await server?.drop();
  await rm(dir, { recursive: true, force: true });
});

async function withDatabase<T>(target: DatabaseTarget, work: (db: Database) => Promise<T>): Promise<T> {
  const db = await openDatabase({ modules, target });
  try {
    await migrateUp(db);
    return await work(db);
  } finally {
    await db.close();
  }
}

const embedded = (name: string): DatabaseTarget => ({ kind: 'pglite', dataDir: path.join(dir, name) });
const onServer = (): DatabaseTarget => ({ kind: 'postgresql', url: server.url, poolMax: 2 });
const tablesOf = (manifest: { tables: { name: string; rows: number; sha256: string }[] }) =>
  manifest.tables.map(({ name, rows, sha256 }) => ({ name, rows, sha256 }));

describe('backup and restore between the embedded database and a PostgreSQL server', () => {
  // PGlite's initdb and three databases: 17–27 s under the full `pnpm test` on 2 cores.
  it('PGlite → PostgreSQL → PGlite keeps every row, checksum and query result', async () => {
    const fromEmbedded = path.join(dir, 'embedded.huddle');
    const nearest = `select title from fixture_library.books order by embedding <=> '[1,0.2,0]' limit 3`;
    // Migrated and still empty, a copy of the source is the target on the way back: one initdb, not two.
    await withDatabase(embedded('source'), async () => undefined);
    await cp(path.join(dir, 'source'), path.join(dir, 'back'), { recursive: true });
    const {
      manifest: original,
      titles,
      docs,
    } = await withDatabase(embedded('source'), async (db) => {
      await seed(db, 'minimal');
      await seed(db, 'realistic', { module: 'fixture_ledger', seed: 3 });
      await db.orm.em.fork().execute(
        `insert into fixture_library.books (author_id, title, pages, embedding)
         select 1, 'b' || g, g, format('[%s,%s,0]', cos(g), sin(g))::vector from generate_series(1, 50) g`,
      );
      return {
        manifest: await writeBackup(db, fromEmbedded),
        titles: await db.orm.em.fork().execute(nearest),
        docs: await renderSchemaDocs(db),
      };
    });
    expect(original.source.engine).toBe('pglite');

    const fromServer = path.join(dir, 'server.huddle');
    const onServerManifest = await withDatabase(onServer(), async (db) => {
      await restoreBackup(db, fromEmbedded);
      expect(await db.orm.em.fork().execute(nearest)).toEqual(titles);
      // The same catalog renders the same docs on both engines, so `schema docs --check` agrees.
      expect(await renderSchemaDocs(db)).toEqual(docs);
      return writeBackup(db, fromServer);
    });
    expect(onServerManifest.source.engine).toBe('postgresql');
    expect(tablesOf(onServerManifest)).toEqual(tablesOf(original));

    const back = await withDatabase(embedded('back'), async (db) => {
      await restoreBackup(db, fromServer);
      expect(await db.orm.em.fork().execute(nearest)).toEqual(titles);
      return writeBackup(db, path.join(dir, 'back.huddle'));
    });
    expect(tablesOf(back)).toEqual(tablesOf(original));
  }, 90_000);
});
