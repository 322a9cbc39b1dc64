import { stat } from 'node:fs/promises';
import { Command } from '@commander-js/extra-typings';
import { type CliIo, filePath, output, withDatabase, withDatabaseToItself } from '../context.ts';
import { formatCount, formatDuration, withProgress } from '../progress.ts';

const collect = (value: string, previous: string[]) => [...previous, value];

export function backupCommand(io: CliIo) {
  return new Command('backup')
    .description(
      'write the modules’ tables to one compressed file, with a manifest of migrations, counts and checksums',
    )
    .argument('<file>', 'the backup file to write')
    .option('--module <name>', 'only this module (repeat for several)', collect, [] as string[])
    .option('--json', 'print the manifest as JSON')
    .action((file, options) =>
      withDatabase(io, async (db) => {
        const { writeBackup } = await import('@huddle/db');
        const started = performance.now();
        const manifest = await withProgress(io, options.json, (progress) =>
          writeBackup(db, filePath(io, file), { modules: options.module, onProgress: progress.update }),
        );
        // A device or a pipe (written in place) has no size to report.
        const written = await stat(filePath(io, file));
        const bytes = written.isFile() ? written.size : null;
        const milliseconds = performance.now() - started;
        output(io, options.json, { file, bytes, milliseconds, manifest }, () =>
          [
            ...manifest.tables.map(
              (table) =>
                `  ${`${table.schema}.${table.name}`.padEnd(40)} ${formatCount(table.rows).padStart(12)} rows`,
            ),
            `wrote ${file}: ${manifest.tables.length} tables, ${formatCount(
              manifest.tables.reduce((rows, table) => rows + table.rows, 0),
            )} rows${bytes === null ? '' : `, ${formatCount(bytes)} bytes`} in ${formatDuration(milliseconds)}`,
          ].join('\n'),
        );
      }),
    );
}

export function restoreCommand(io: CliIo) {
  return new Command('restore')
    .description(
      'restore a backup in one transaction, after verifying its checksums and that the migrations match',
    )
    .argument('<file>', 'the backup file to restore')
    .option('--force', 'replace the rows of a non-empty target (truncates the backed-up tables first)')
    .option('--dry-run', 'verify the file and check the target, write nothing')
    .option('--json', 'print the result as JSON')
    .action((file, options) =>
      withDatabaseToItself(
        io,
        'restore',
        async (db) => {
          const { restoreBackup } = await import('@huddle/db');
          const started = performance.now();
          const result = await withProgress(io, options.json, (progress) =>
            restoreBackup(db, filePath(io, file), {
              force: Boolean(options.force),
              dryRun: Boolean(options.dryRun),
              onVerify: (read, size) => progress.update('verify file (bytes)', read, size),
              onRestore: (table, done, total) => progress.update(`restore ${table}`, done, total),
              onCheck: (table, done, total) => progress.update(`check ${table}`, done, total),
            }),
          );
          const milliseconds = performance.now() - started;
          const { manifest } = result;
          const rows = formatCount(manifest.tables.reduce((sum, table) => sum + table.rows, 0));
          const replacing = result.replaced ? `, replacing the rows of ${result.nonEmpty.join(', ')}` : '';
          output(io, options.json, { file, milliseconds, ...result }, () =>
            result.dryRun
              ? `dry run: ${file} verified (backup of ${manifest.createdAt}); would restore ${rows} rows into ${manifest.tables.length} tables${replacing}`
              : `${result.migrated ? 'migrated the new target, then ' : ''}restored ${rows} rows into ${manifest.tables.length} tables from ${file} (backup of ${manifest.createdAt})${replacing}; counts and checksums verified in ${formatDuration(milliseconds)}`,
          );
        },
        { migrates: true },
      ),
    );
}
