import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BackupManifest,
  type Database,
  migrateDown,
  migrateUp,
  restoreBackup,
  seed,
  verifyBackup,
  writeBackup,
} from '../src/index.ts';
import { useMigratedDatabases } from './databases.ts';
import { ledgerModule } from './fixtures/ledger.ts';
import { libraryModule } from './fixtures/library.ts';
import { reviewsModule } from './fixtures/reviews.ts';

const modules = [libraryModule, reviewsModule, ledgerModule];
const openMigrated = useMigratedDatabases();
const migratedDatabase = () => openMigrated(modules);
let dir: string;

/** Per table: rows and checksum, as a fresh backup of `db` reports them. */
async function contents(
  db: Database,
): Promise<Pick<BackupManifest['tables'][number], 'name' | 'rows' | 'sha256'>[]> {
  const file = path.join(dir, `contents-${Math.random()}.huddle`);
  const manifest = await writeBackup(db, file);
  await rm(file);
  return manifest.tables.map(({ name, rows, sha256 }) => ({ name, rows, sha256 }));
}

async function query<Row>(db: Database, sql: string): Promise<Row[]> {
  return db.orm.em.fork().execute<Row[]>(sql);
}

let source: Database;
let file: string;
let sourceManifest: BackupManifest;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'huddle-backup-'));
  source = await migratedDatabase();
  await seed(source, 'minimal');
  await seed(source, 'realistic', { module: 'fixture_ledger', scale: 2, seed: 7 });
  await source.orm.em.fork().execute(
    `insert into fixture_library.books (author_id, title, pages, metadata, embedding)
     select 1, 'Book ' || g, g, jsonb_build_object('tags', jsonb_build_array('t' || (g % 3)), 'n', g), format('[%s,%s,0.5]', sin(g), cos(g))::vector
     from generate_series(1, 300) g;
     insert into fixture_reviews.reviews (book_id, stars, body) select 1 + g % 300, 1 + g % 5, case when g % 2 = 0 then 'good' end from generate_series(1, 500) g;`,
  );
  file = path.join(dir, 'source.huddle');
  sourceManifest = await writeBackup(source, file);
});

afterAll(() => rm(dir, { recursive: true, force: true }));

describe('backup', () => {
  it('records modules with their migrations, and every table in foreign-key order with rows and checksum', () => {
    expect(sourceManifest.modules.map((module) => [module.name, module.migrations.length])).toEqual([
      ['huddle', 2],
      ['fixture_library', 1],
      ['fixture_reviews', 2],
      ['fixture_ledger', 1],
    ]);
    expect(sourceManifest.tables.map((table) => `${table.schema}.${table.name}:${table.rows}`)).toEqual([
      'fixture_ledger.currencies:5',
      'fixture_ledger.accounts:40',
      'fixture_ledger.entries:400',
      'fixture_library.authors:1',
      'fixture_library.books:301',
      'fixture_reviews.reviews:500',
      'huddle.job_runs:0',
    ]);
    expect(sourceManifest.tables.every((table) => /^[0-9a-f]{64}$/.test(table.sha256))).toBe(true);
  });

  it('is one gzip stream of lines, the manifest last, bookkeeping tables left out', async () => {
    const lines = gunzipSync(await readFile(file))
      .toString('utf8')
      .trimEnd()
      .split('\n');
    expect(lines[0]).toBe('@huddle-backup 1');
    expect(lines.at(-1)).toMatch(/^@manifest \{/);
    expect(lines.filter((line) => line.includes('mikro_orm_migrations'))).toEqual([]);
  });

  it('--module backs up only that module', async () => {
    const manifest = await writeBackup(source, path.join(dir, 'reviews.huddle'), {
      modules: ['fixture_reviews'],
    });
    expect(manifest.modules.map((module) => module.name)).toEqual(['fixture_reviews']);
    expect(manifest.tables.map((table) => table.name)).toEqual(['reviews']);
    await expect(writeBackup(source, path.join(dir, 'x.huddle'), { modules: ['nope'] })).rejects.toThrow(
      /unknown module "nope"/,
    );
  });
});

describe('restore', () => {
  let target: Database;
  beforeAll(async () => {
    target = await migratedDatabase();
  });

  it('round-trips every table: same counts and checksums, same query results, sequences past the ids', async () => {
    const result = await restoreBackup(target, file);
    expect(result.replaced).toBe(false);
    expect(await contents(target)).toEqual(await contents(source));
    const nearest = `select title from fixture_library.books order by embedding <=> '[0.2,0.9,0.5]' limit 5`;
    expect(await query(target, nearest)).toEqual(await query(source, nearest));
    const tagged = `select count(*)::int as n from fixture_library.books where metadata @> '{"tags":["t1"]}'`;
    expect(await query(target, tagged)).toEqual([{ n: 100 }]);
    const typed = `select labels, secret, grace::text, credit_limit::text, settings from fixture_ledger.accounts order by id`;
    expect(await query(target, typed)).toEqual(await query(source, typed));
    const [author] = await query<{ id: number }>(
      target,
      "insert into fixture_library.authors (name) values ('after restore') returning id",
    );
    expect(author!.id).toBe(2);
    const [entry] = await query<{ id: string }>(
      target,
      'insert into fixture_ledger.entries (account_id, amount, booked_at) select id, 1, now() from fixture_ledger.accounts limit 1 returning id::text',
    );
    expect(entry!.id).toBe('401');
  });

  it('refuses a non-empty target without --force, and names the tables', async () => {
    const before = await contents(target);
    await expect(restoreBackup(target, file)).rejects.toThrow(
      /^the target is not empty \(fixture_ledger\.currencies, .*\); use --force to replace them$/,
    );
    expect(await contents(target)).toEqual(before);
  });

  it('--dry-run checks everything and writes nothing', async () => {
    const before = await contents(target);
    const result = await restoreBackup(target, file, { dryRun: true, force: true });
    expect(result).toMatchObject({ dryRun: true, replaced: true });
    expect(await contents(target)).toEqual(before);
  });

  it('--force replaces the rows of the backed-up tables in the same transaction', async () => {
    await query(target, "update fixture_library.authors set name = 'changed'");
    const result = await restoreBackup(target, file, { force: true });
    expect(result.replaced).toBe(true);
    expect(await contents(target)).toEqual(await contents(source));
  });

  it('rolls back completely when a row fails to insert', async () => {
    const other = await migratedDatabase();
    await seed(other, 'minimal', { module: 'fixture_library' });
    const partial = path.join(dir, 'books-only.huddle');
    // Books without their authors: the foreign key fails part-way, after the authors were truncated.
    await writeBackup(source, partial, { modules: ['fixture_library'] });
    const lines = gunzipSync(await readFile(partial))
      .toString('utf8')
      .split('\n');
    const manifest = JSON.parse(lines.at(-2)!.slice('@manifest '.length)) as BackupManifest;
    const authors = lines.findIndex((line) =>
      line.startsWith('@table {"schema":"fixture_library","name":"authors"'),
    );
    lines.splice(authors + 1, 1);
    manifest.tables[0]!.rows = 0;
    manifest.tables[0]!.sha256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
    lines[lines.length - 2] = `@manifest ${JSON.stringify(manifest)}`;
    await writeFile(partial, gzipSync(lines.join('\n')));
    const before = await contents(other);
    await expect(restoreBackup(other, partial, { force: true })).rejects.toThrow(
      /^restore rolled back, the target is unchanged: author_id: the referenced row does not exist/,
    );
    expect(await contents(other)).toEqual(before);
  });
});

describe('restore refuses a damaged file or another migration level, before touching the target', () => {
  let target: Database;
  let before: Awaited<ReturnType<typeof contents>>;
  beforeAll(async () => {
    target = await migratedDatabase();
    await seed(target, 'minimal');
    before = await contents(target);
  });

  it('a truncated file', async () => {
    const data = await readFile(file);
    const truncated = path.join(dir, 'truncated.huddle');
    await writeFile(truncated, data.subarray(0, Math.floor(data.length / 2)));
    await expect(restoreBackup(target, truncated, { force: true })).rejects.toThrow(
      `backup ${truncated} is not usable: it is truncated (the compressed data ends early)`,
    );
    expect(await contents(target)).toEqual(before);
  });

  it('a flipped byte', async () => {
    const data = Buffer.from(await readFile(file));
    const middle = Math.floor(data.length / 2);
    data[middle] = data[middle]! ^ 0xff;
    const flipped = path.join(dir, 'flipped.huddle');
    await writeFile(flipped, data);
    // Where the flip lands differs per run (the compressed bytes carry the backup's time), and so does
    // which check refuses it: gzip, the line format, a count or a checksum. Each names the file.
    await expect(verifyBackup(flipped)).rejects.toThrow(`backup ${flipped} is not usable: `);
    await expect(restoreBackup(target, flipped, { force: true })).rejects.toThrow(/is not usable/);
    expect(await contents(target)).toEqual(before);
  });

  it('a row changed inside an intact gzip stream (the checksum catches it)', async () => {
    const text = gunzipSync(await readFile(file))
      .toString('utf8')
      .replace('"name":"Ursula"', '"name":"Ursulb"');
    const edited = path.join(dir, 'edited.huddle');
    await writeFile(edited, gzipSync(text));
    await expect(restoreBackup(target, edited, { force: true })).rejects.toThrow(
      `backup ${edited} is not usable: the checksum of fixture_library.authors does not match its manifest`,
    );
    expect(await contents(target)).toEqual(before);
  });

  it('a target at another migration level, naming the difference', async () => {
    await migrateDown(target, { module: 'fixture_reviews' });
    try {
      await expect(restoreBackup(target, file, { force: true })).rejects.toThrow(
        "the target's migrations differ from the backup's: fixture_reviews: the target lacks Migration20261121000300ReviewsBody",
      );
    } finally {
      await migrateUp(target);
    }
    expect(await contents(target)).toEqual(before);
  });
});
