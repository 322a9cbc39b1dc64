import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOwnedTestDatabase, schemaSnapshot } from '../../testing/src/index.ts';
import { canonicalRows, inCanonicalSession } from '../src/backup/table-data.ts';
import { readCatalog } from '../src/catalog/introspect.ts';
import {
  type BackupManifest,
  type Database,
  migrateDown,
  migrateUp,
  migrationCheck,
  openDatabase,
  restoreBackup,
  seed,
  verifyBackup,
  writeBackup,
} from '../src/index.ts';
import { useMigratedDatabases } from './databases.ts';
import { ledgerModule } from './fixtures/ledger.ts';
import { libraryModule } from './fixtures/library.ts';
import { notesModule } from './fixtures/notes.ts';
import { reviewsModule } from './fixtures/reviews.ts';

const run = promisify(execFile);
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

/**
 * Writes backup `from` to `to` with `edit` applied to the row lines of `table` (`schema.name`), and its
 * manifest entry (count, checksum) made to match: a file that verifies, holding rows the backup never wrote.
 */
async function editRows(from: string, to: string, table: string, edit: (rows: string[]) => string[]) {
  const lines = gunzipSync(await readFile(from))
    .toString('utf8')
    .split('\n');
  const [schema, name] = table.split('.');
  const start =
    lines.findIndex((line) => line.startsWith(`@table {"schema":"${schema}","name":"${name}"`)) + 1;
  const end = lines.indexOf('\\.', start);
  const rows = edit(lines.slice(start, end));
  lines.splice(start, end - start, ...rows);
  const at = lines.findIndex((line) => line.startsWith('@manifest '));
  const manifest = JSON.parse(lines[at]!.slice('@manifest '.length)) as BackupManifest;
  const entry = manifest.tables.find((candidate) => `${candidate.schema}.${candidate.name}` === table)!;
  entry.rows = rows.length;
  entry.sha256 = createHash('sha256')
    .update(rows.map((row) => `${row}\n`).join(''))
    .digest('hex');
  lines[at] = `@manifest ${JSON.stringify(manifest)}`;
  await writeFile(to, gzipSync(lines.join('\n')));
}

/** The source backup with one text replacement inside its gzip stream, written to `name` in the temp dir. */
async function editedBackup(name: string, from: string, to: string): Promise<string> {
  const edited = path.join(dir, name);
  await writeFile(
    edited,
    gzipSync(
      gunzipSync(await readFile(file))
        .toString('utf8')
        .replace(from, to),
    ),
  );
  return edited;
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const collected: T[] = [];
  for await (const item of items) collected.push(item);
  return collected;
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
      ['huddle', 4],
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
      'huddle.idempotency_keys:0',
      'huddle.job_runs:0',
      'huddle.sessions:0',
    ]);
    expect(sourceManifest.tables.every((table) => /^[0-9a-f]{64}$/.test(table.sha256))).toBe(true);
  });

  it('is one gzip stream: COPY text per table closed by \\., the manifest last, bookkeeping tables left out', async () => {
    const lines = gunzipSync(await readFile(file))
      .toString('utf8')
      .trimEnd()
      .split('\n');
    expect(lines[0]).toBe('@huddle-backup 2');
    expect(lines.at(-1)).toMatch(/^@manifest \{/);
    expect(lines.filter((line) => line.includes('mikro_orm_migrations'))).toEqual([]);
    const authors = lines.indexOf(
      '@table {"schema":"fixture_library","name":"authors","columns":["created_at","email","id","name"]}',
    );
    expect(lines[authors + 1]).toMatch(
      /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+\+00\tursula@example\.com\t1\tUrsula$/,
    );
    expect(lines[authors + 2]).toBe('\\.');
    expect(lines.filter((line) => line === '\\.')).toHaveLength(sourceManifest.tables.length);
    // A generated column is the database's to compute: backed up are the columns it takes.
    expect(sourceManifest.tables.find((table) => table.name === 'entries')!.columns).not.toContain(
      'amount_cents',
    );
  });

  it('reads the same rows in slices by primary-key range as in one COPY (how PGlite keeps memory flat)', async () => {
    await inCanonicalSession(
      source,
      async (session) => {
        const tables = await readCatalog(session.sql, ['fixture_ledger', 'fixture_library']);
        const sliced = { ...session, buffered: true };
        for (const table of tables) {
          const whole = Buffer.concat(await collect(canonicalRows(session, table)));
          const chunks = await collect(canonicalRows(sliced, table, 2048));
          expect(Buffer.concat(chunks).equals(whole), table.name).toBe(true);
          if (whole.length > 4096) expect(chunks.length, table.name).toBeGreaterThan(2);
        }
      },
      { snapshot: true },
    );
  });

  it('fails with one line and gives its transaction up when the file stops taking data mid-COPY', async () => {
    const large = await migratedDatabase();
    await large.orm.em.fork().execute(
      `insert into fixture_library.authors (name) values ('a');
       insert into fixture_library.books (author_id, title, pages)
       select 1, repeat(md5(g::text), 6), g from generate_series(1, 25000) g`,
    );
    const pipe = path.join(dir, 'pipe');
    await run('mkfifo', [pipe]);
    // Reads a little and leaves: the writes fail while the server is still sending the books.
    const reader = spawn('head', ['-c', '1', pipe], { stdio: 'ignore' });
    await expect(writeBackup(large, pipe)).rejects.toThrow(
      `cannot write the backup to ${pipe}: EPIPE: broken pipe, write`,
    );
    reader.kill();
    const copying = `select count(*)::int as n from pg_stat_activity where datname = current_database() and query like 'copy (%'`;
    await expect.poll(async () => (await query<{ n: number }>(large, copying))[0]!.n).toBe(0);
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
    const schemas = ['fixture_ledger', 'fixture_library', 'fixture_reviews', 'huddle'];
    const schemaBefore = await schemaSnapshot(target, schemas);
    const checkBefore = await migrationCheck(target);
    const result = await restoreBackup(target, file);
    expect(result.replaced).toBe(false);
    expect(await contents(target)).toEqual(await contents(source));
    // Indexes and constraints dropped for the load come back exactly as they were.
    expect(await schemaSnapshot(target, schemas)).toEqual(schemaBefore);
    expect(await migrationCheck(target)).toEqual(checkBefore);
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
    await editRows(partial, partial, 'fixture_library.authors', () => []);
    const before = await contents(other);
    await expect(restoreBackup(other, partial, { force: true })).rejects.toThrow(
      /^restore rolled back, the target is unchanged: author_id: the referenced row does not exist/,
    );
    expect(await contents(other)).toEqual(before);
  });

  it('rolls back completely when the database refuses a row the file verified with', async () => {
    const bad = path.join(dir, 'bad-pages.huddle');
    // Columns in name order: author_id, embedding, id, metadata, pages, title.
    await editRows(file, bad, 'fixture_library.books', (rows) =>
      rows.map((row, index) => (index === 150 ? row.replace(/^(([^\t]*\t){4})\d+/, '$1many') : row)),
    );
    await expect(verifyBackup(bad)).resolves.toMatchObject({ version: 2 });
    const before = await contents(target);
    await expect(restoreBackup(target, bad, { force: true })).rejects.toThrow(
      'restore rolled back, the target is unchanged: invalid value: invalid input syntax for type integer: "many"',
    );
    expect(await contents(target)).toEqual(before);
  });

  it('rolls back completely when the target rewrites rows on the way in (the re-read compares checksums)', async () => {
    const other = await migratedDatabase();
    await query(
      other,
      `create function fixture_library.longer() returns trigger language plpgsql as $$
       begin new.pages := new.pages + 1; return new; end $$;
       create trigger books_longer before insert on fixture_library.books
       for each row when (new.id = 150) execute function fixture_library.longer();`,
    );
    await expect(restoreBackup(other, file)).rejects.toThrow(
      /^restore rolled back, the target is unchanged: fixture_library\.books reads back as 301 rows with another checksum/,
    );
    expect(await query(other, 'select count(*)::int as n from fixture_library.books')).toEqual([{ n: 0 }]);
  });

  it('restores a table that a table outside the backup references (it cannot be truncated: its rows are deleted)', async () => {
    const other = await migratedDatabase();
    await query(
      other,
      `create table public.shelf (author_id integer references fixture_library.authors (id));
       insert into fixture_library.authors (name) values ('Replaced')`,
    );
    await restoreBackup(other, file, { force: true });
    expect(await contents(other)).toEqual(await contents(source));
    await query(other, 'insert into public.shelf values (1)');
    await expect(restoreBackup(other, file, { force: true })).rejects.toThrow(
      /^restore rolled back, the target is unchanged: .*\(constraint shelf_author_id_fkey\)$/,
    );
  });

  it('restores into tables emptied by DELETE, their free space mapped (the load still lands in file order)', async () => {
    // Rows of very different widths leave pages with room for a short row at their end: a load that
    // followed the free-space map would put later rows into earlier pages, out of the file's order.
    const varied = await migratedDatabase();
    await query(
      varied,
      `insert into fixture_library.authors (name) values ('Varied');
       insert into fixture_library.books (author_id, title, pages)
       select 1, repeat(chr(97 + g % 26), case when g % 3 = 0 then 190 else 1 + g % 40 end), g
       from generate_series(1, 3000) g`,
    );
    const variedFile = path.join(dir, 'varied.huddle');
    await writeBackup(varied, variedFile);
    const other = await migratedDatabase();
    await restoreBackup(other, variedFile);
    await query(other, 'delete from fixture_library.books');
    await query(other, 'delete from fixture_library.authors');
    await query(other, 'vacuum fixture_library.books, fixture_library.authors');
    await restoreBackup(other, variedFile);
    expect(await contents(other)).toEqual(await contents(varied));
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

  it('a table whose end line is missing, so the next table reads as its rows', async () => {
    const unended = await editedBackup('unended.huddle', '\tUrsula\n\\.\n', '\tUrsula\n');
    await expect(restoreBackup(target, unended, { force: true })).rejects.toThrow(
      `backup ${unended} is not usable: it holds 8 tables but its manifest lists 9`,
    );
    expect(await contents(target)).toEqual(before);
  });

  it('a backup of format version 1, naming its version and what to do', async () => {
    const older = path.join(dir, 'version-1.huddle');
    await writeFile(
      older,
      gzipSync('@huddle-backup 1\n@table {"schema":"fixture_library","name":"authors"}\n'),
    );
    await expect(restoreBackup(target, older, { force: true })).rejects.toThrow(
      `backup ${older} is not usable: it is format version 1 and this Huddle reads version 2: restore it with the Huddle that wrote it, then back up again`,
    );
    expect(await contents(target)).toEqual(before);
  });

  it('a row changed inside an intact gzip stream (the checksum catches it)', async () => {
    const edited = await editedBackup('edited.huddle', '\tUrsula', '\tUrsulb');
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

describe('a database owned by a non-superuser (as on managed PostgreSQL)', () => {
  it('backs up and restores with --force as that owner: rows, row-level security and schema as they were', async () => {
    const owned = await createOwnedTestDatabase();
    const db = await openDatabase({
      modules: [libraryModule, notesModule],
      target: { kind: 'postgresql', url: owned.url, poolMax: 2 },
    });
    try {
      await migrateUp(db);
      await seed(db, 'minimal');
      await db.orm.em
        .fork()
        .execute(
          `insert into fixture_notes.notes (author_id, body) select g % 3, 'note ' || g from generate_series(1, 50) g`,
        );
      const schemas = ['fixture_library', 'fixture_notes'];
      const schemaBefore = await schemaSnapshot(db, schemas);
      const ownedFile = path.join(dir, 'owned.huddle');
      const manifest = await writeBackup(db, ownedFile);
      await db.orm.em.fork().execute("update fixture_notes.notes set body = 'changed'");
      await restoreBackup(db, ownedFile, { force: true });
      expect(await contents(db)).toEqual(
        manifest.tables.map(({ name, rows, sha256 }) => ({ name, rows, sha256 })),
      );
      expect(await schemaSnapshot(db, schemas)).toEqual(schemaBefore);
    } finally {
      await db.close();
      await owned.drop();
    }
  });
});
