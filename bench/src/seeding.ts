import { createReadStream, createWriteStream } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { type Database, type DomainModule, seed } from '@huddle/db';
import { withClient } from '@huddle/db/testing';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { count, migratedDatabase, ratio, seconds, timed } from './server.ts';

export interface SeedingFigures {
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
  const seeding = await timed(() => seed(source.db, 'realistic', { scale, seed: 1 }));
  // Seeders report tables in the order they write them: parents first, which is also COPY's order.
  const tables = seeding.result.flatMap((result) => Object.keys(result.rows));
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
  const figures = {
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
    `seeding: ${count(figures.rows)} rows in ${figures.tables.length} tables (${figures.tables.join(', ')})`,
    `  huddle seed realistic            ${seconds(figures.seedMilliseconds).padStart(9)}  ${perSecond(figures.seedMilliseconds).padStart(10)} rows/s`,
    `  COPY of the same rows (pg)       ${seconds(figures.copyMilliseconds).padStart(9)}  ${perSecond(figures.copyMilliseconds).padStart(10)} rows/s`,
    `  seeding takes ${ratio(figures.seedMilliseconds / figures.copyMilliseconds)} COPY's time`,
  ];
}
