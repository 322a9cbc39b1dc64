import { Command } from '@commander-js/extra-typings';
import type { ModuleMigrationStatus } from '@huddle/db';
import { type CliIo, output, type WithDatabaseOptions, withDatabase } from '../context.ts';

function describeChanges(results: ModuleMigrationStatus[], verb: string, key: 'applied' | 'pending'): string {
  const lines = results.flatMap((result) => result[key].map((name) => `${verb} ${result.module}: ${name}`));
  return lines.length > 0 ? lines.join('\n') : 'nothing to do';
}

/**
 * `--module m` as the list of modules a command opens: only that one (and its dependencies), or all. Every
 * migrate command runs on a database whose migrations are pending; only `up` may create one.
 */
const only = (module: string | undefined, options: WithDatabaseOptions = { readsMigrations: true }) => ({
  ...options,
  ...(module && { modules: [module] }),
});

export function migrateCommand(io: CliIo) {
  const migrate = new Command('migrate').description('apply, revert and inspect migrations');

  migrate
    .command('up')
    .description('apply pending migrations (platform first, then modules in dependency order)')
    .option('--module <name>', 'only this module and the modules it depends on')
    .option('--json', 'print the result as JSON')
    .action((options) =>
      withDatabase(
        io,
        async (db) => {
          const { migrateUp } = await import('@huddle/db');
          const results = await migrateUp(db, options);
          output(io, options.json, results, () => describeChanges(results, 'applied', 'applied'));
        },
        only(options.module, { migrates: true }),
      ),
    );

  migrate
    .command('down')
    .description('revert the most recent migration, or with --all every migration of the selected modules')
    .option('--module <name>', 'revert this module (with --all: also the modules depending on it)')
    .option('--all', 'revert every migration instead of the most recent one')
    .option('--json', 'print the result as JSON')
    // Every module stays open: reverting one may revert the modules that depend on it.
    .action((options) =>
      withDatabase(
        io,
        async (db) => {
          const { migrateDown } = await import('@huddle/db');
          const results = await migrateDown(db, options);
          output(io, options.json, results, () => describeChanges(results, 'reverted', 'pending'));
        },
        only(undefined),
      ),
    );

  migrate
    .command('status')
    .description('applied and pending migrations per module')
    .option('--module <name>', 'only this module')
    .option('--json', 'print the result as JSON')
    .action((options) =>
      withDatabase(
        io,
        async (db) => {
          const { migrationStatus } = await import('@huddle/db');
          const results = await migrationStatus(db, options);
          output(io, options.json, results, () =>
            results
              .map((result) =>
                [
                  `${result.module}: ${result.applied.length} applied, ${result.pending.length} pending`,
                  ...result.applied.map((name) => `  applied  ${name}`),
                  ...result.pending.map((name) => `  pending  ${name}`),
                ].join('\n'),
              )
              .join('\n'),
          );
        },
        only(options.module),
      ),
    );

  migrate
    .command('check')
    .description('fail when a module has pending migrations or its entities differ from its migrated schema')
    .option('--module <name>', 'only this module')
    .option('--json', 'print the result as JSON')
    .action((options) =>
      withDatabase(
        io,
        async (db) => {
          const { migrationCheck } = await import('@huddle/db');
          const results = await migrationCheck(db, options);
          output(io, options.json, results, () =>
            results
              .map((result) =>
                result.ok
                  ? `${result.module}: ok`
                  : [
                      `${result.module}: FAILED`,
                      ...result.pending.map((name) => `  pending  ${name}`),
                      ...result.drift.map((sql) => `  drift    ${sql}`),
                    ].join('\n'),
              )
              .join('\n'),
          );
          const failed = results.filter((result) => !result.ok).map((result) => result.module);
          if (failed.length > 0) throw new Error(`migrations and entities disagree for ${failed.join(', ')}`);
        },
        only(options.module),
      ),
    );

  migrate
    .command('diff')
    .description("print the SQL a module's entities still need: the start of its next migration")
    .requiredOption('--module <name>', 'the module')
    .option('--json', 'print the result as JSON')
    .action((options) =>
      withDatabase(
        io,
        async (db) => {
          const { migrationDiff } = await import('@huddle/db');
          const diff = await migrationDiff(db, options.module);
          output(io, options.json, diff, () =>
            diff.up.length === 0 ? 'no changes' : ['-- up', ...diff.up, '-- down', ...diff.down].join('\n'),
          );
        },
        only(options.module),
      ),
    );

  return migrate;
}
