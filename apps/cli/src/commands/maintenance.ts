import { Command } from '@commander-js/extra-typings';
import { analyzeTables } from '@huddle/db';
import { output, withDatabase } from '../context.ts';
import { formatDuration } from '../progress.ts';

export const maintenanceCommand = new Command('maintenance').description('routine database upkeep');

maintenanceCommand
  .command('analyze')
  .description(
    'VACUUM (ANALYZE) every table of the modules, ANALYZE alone where VACUUM cannot run; with timings',
  )
  .option('--module <name>', 'only this module')
  .option('--json', 'print the result as JSON')
  .action((options) =>
    withDatabase(async (db) => {
      const results = await analyzeTables(db, options.module ? { module: options.module } : {});
      output(options.json, results, () =>
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
