import { Command } from '@commander-js/extra-typings';
import { type CliIo, output, withDatabase } from '../context.ts';
import { formatDuration } from '../progress.ts';

export function maintenanceCommand(io: CliIo) {
  const maintenance = new Command('maintenance').description('routine database upkeep');

  maintenance
    .command('analyze')
    .description(
      'VACUUM (ANALYZE) every table of the modules, ANALYZE alone where VACUUM cannot run; with timings',
    )
    .option('--module <name>', 'only this module')
    .option('--json', 'print the result as JSON')
    .action((options) =>
      withDatabase(io, async (db) => {
        const { analyzeTables } = await import('@huddle/db');
        const results = await analyzeTables(db, options.module ? { module: options.module } : {});
        output(io, options.json, results, () =>
          results.length === 0
            ? 'no tables'
            : results
                .map(
                  (result) =>
                    `${(result.vacuumed ? 'vacuum+analyze' : 'analyze').padEnd(15)} ${result.table.padEnd(40)} ${formatDuration(result.milliseconds)}`,
                )
                .join('\n'),
        );
      }),
    );

  return maintenance;
}
