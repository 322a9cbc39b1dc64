import { createReadStream, createWriteStream } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { type Database, type DomainModule, MAX_SEED_SCALE, type SeedResult, seed } from '@huddle/db';
import { dropDatabase, withClient } from '@huddle/testing';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { count, migratedDatabase, ratio, seconds, timed } from './server.ts';

export interface SeedingFigures {
  scale: number;
  rows: number;
  tables: string[];
  seedMilliseconds: number;
  copyMilliseconds: number;
}

/** Non-generated columns of a table, in order: what COPY FROM can be given. */
async function insertableColumns(url: string, table: string): Promise<string> {
  const [schema, name] = table.split('.') as [string, string];
  return withClient(url, async (client) => {
    const { rows } = await client.query<{ column_name: string }>(
      `select column_name from information_schema.columns
       where table_schema = $1 and table_name = $2 and is_generated = 'NEVER' order by ordinal_position`,
      [schema, name],
    );
    return rows.map((row) => `"${row.column_name}"`).join(', ');
  });
}

/** The module whose realistic data the bulk figures are measured at `scale` on (about 1,140 rows per unit). */
const SCALED_MODULE = 'poker';

/**
 * Poker's realistic data at `scale`, seeded in runs of at most MAX_SEED_SCALE with successive seeds (a
 * seeder plans its rows in memory), and every other module's at scale 1, so each module's tables and
 * column types (jsonb, enums, vectors) are in the backup without the slow seeders setting the run's length.
 */
export async function seedBenchData(db: Database, scale: number): Promise<SeedResult[]> {
  const results: SeedResult[] = [];
  for (let seeded = 0, run = 1; seeded < scale; seeded += MAX_SEED_SCALE, run++) {
    const runScale = Math.min(MAX_SEED_SCALE, scale - seeded);
    results.push(...(await seed(db, 'realistic', { module: SCALED_MODULE, scale: runScale, seed: run })));
  }
  for (const module of db.modules) {
    if (module.name === SCALED_MODULE || !module.seeders.realistic) continue;
    results.push(...(await seed(db, 'realistic', { module: module.name, scale: 1, seed: 1 })));
  }
  return results;
}

/**
 * Realistic seeding (the modules' seeders through `seed()`, as `huddle seed realistic` runs them) against
 * a raw COPY of exactly the rows it wrote into another migrated database, in one transaction, through pg.
 */
export async function benchSeeding(
  serverUrl: string,
  modules: readonly DomainModule[],
  scale: number,
  workDir: string,
): Promise<{ source: { url: string; db: Database }; figures: SeedingFigures }> {
  const source = await migratedDatabase(serverUrl, 'bench_seed_source', modules);
  const seeding = await timed(() => seedBenchData(source.db, scale));
  // Seeders report tables in the order they write them: parents first, which is also COPY's order.
  const tables = [...new Set(seeding.result.flatMap((result) => Object.keys(result.rows)))];
  const rows = seeding.result.reduce(
    (sum, result) => sum + Object.values(result.rows).reduce((a, b) => a + b, 0),
    0,
  );

  const files = new Map<string, { file: string; columns: string }>();
  for (const table of tables) {
    const columns = await insertableColumns(source.url, table);
    const file = path.join(workDir, `${table}.copy`);
    await withClient(source.url, (client) =>
      pipeline(
        client.query(copyTo(`copy (select ${columns} from ${table}) to stdout`)),
        createWriteStream(file),
      ),
    );
    files.set(table, { file, columns });
  }
  const target = await migratedDatabase(serverUrl, 'bench_seed_copy', modules);
  await target.db.close();
  const copying = await timed(() =>
    withClient(target.url, async (client) => {
      await client.query('begin');
      for (const [table, { file, columns }] of files) {
        await pipeline(
          createReadStream(file),
          client.query(copyFrom(`copy ${table} (${columns}) from stdin`)),
        );
      }
      await client.query('commit');
    }),
  );
  // Its autovacuum would otherwise run while the next benchmarks are timed.
  await dropDatabase(serverUrl, 'bench_seed_copy');
  const figures = {
    scale,
    rows,
    tables,
    seedMilliseconds: seeding.milliseconds,
    copyMilliseconds: copying.milliseconds,
  };
  return { source, figures };
}

export function seedingReport(figures: SeedingFigures): string[] {
  const perSecond = (milliseconds: number) => count((figures.rows * 1000) / milliseconds);
  return [
    `seeding: ${count(figures.rows)} rows in ${figures.tables.length} tables (${SCALED_MODULE} at scale ${figures.scale}, every other module at scale 1)`,
    `  huddle seed realistic            ${seconds(figures.seedMilliseconds).padStart(9)}  ${perSecond(figures.seedMilliseconds).padStart(10)} rows/s`,
    `  COPY of the same rows (pg)       ${seconds(figures.copyMilliseconds).padStart(9)}  ${perSecond(figures.copyMilliseconds).padStart(10)} rows/s`,
    `  seeding takes ${ratio(figures.seedMilliseconds / figures.copyMilliseconds)} COPY's time`,
  ];
}
