import { Argument, Command } from '@commander-js/extra-typings';
import { type CliIo, output, withDatabase } from '../context.ts';
import { formatCount, formatDuration, withProgress } from '../progress.ts';

interface TableTiming {
  table: string;
  rows: number;
  started: number;
  finished: number;
}

/**
 * Times each table from the previous progress report (of any table) to its own last one: seeders write
 * tables one after another, so that is the time spent writing it, including its first batch.
 */
function tableTimer() {
  const tables = new Map<string, TableTiming>();
  let last = performance.now();
  return {
    report(table: string, written: number) {
      const now = performance.now();
      const timing = tables.get(table) ?? {
        table,
        rows: 0,
        started: written === 0 ? now : last,
        finished: now,
      };
      timing.rows = written;
      timing.finished = now;
      tables.set(table, timing);
      last = now;
    },
    results: () =>
      [...tables.values()].map(({ table, rows, started, finished }) => ({
        table,
        rows,
        rowsPerSecond: finished > started ? Math.round((rows * 1000) / (finished - started)) : null,
      })),
  };
}

/** The options as numbers, refused before the database opens: one line naming the option and the rule. */
async function parseSeedOptions(options: { scale?: string; seed?: string }) {
  const [{ MAX_SEED_SCALE, parseInput }, { z }] = await Promise.all([import('@huddle/db'), import('zod')]);
  const schema = z.object({
    scale: z.coerce.number().int().positive().max(MAX_SEED_SCALE).optional(),
    seed: z.coerce.number().int().nonnegative().optional(),
  });
  return parseInput(schema, options);
}

export function seedCommand(io: CliIo) {
  return new Command('seed')
    .description(
      'write sample data: minimal (the seed documents’ rows, idempotent) or realistic (--scale, deterministic per --seed)',
    )
    .addArgument(new Argument('<kind>', 'what to write').choices(['minimal', 'realistic'] as const))
    .option('--module <name>', 'only this module')
    .option('--scale <n>', 'realistic: scale factor (default 1)')
    .option('--seed <n>', 'realistic: random seed; the same seed writes the same rows (default 1)')
    .option('--json', 'print the result as JSON')
    .action(async (kind, options) => {
      const { scale, seed: seedValue } = await parseSeedOptions(options);
      if (kind === 'minimal' && (scale !== undefined || seedValue !== undefined)) {
        const { InvalidInputError } = await import('@huddle/db');
        throw new InvalidInputError('--scale and --seed apply to realistic seeding only');
      }
      return withDatabase(
        io,
        async (db) => {
          const { seed } = await import('@huddle/db');
          const timer = tableTimer();
          const started = performance.now();
          const modules = await withProgress(io, options.json, (progress) =>
            seed(db, kind, {
              ...(options.module && { module: options.module }),
              ...(scale !== undefined && { scale }),
              ...(seedValue !== undefined && { seed: seedValue }),
              progress: (_module, table, written, total) => {
                timer.report(table, written);
                progress.update(table, written, total);
              },
            }),
          );
          const tables = timer.results();
          const milliseconds = performance.now() - started;
          const settings = kind === 'realistic' ? { scale: scale ?? 1, seed: seedValue ?? 1 } : {};
          output(io, options.json, { kind, ...settings, modules, tables, milliseconds }, () =>
            [
              ...modules.map((module) =>
                module.alreadySeeded
                  ? `${module.module} already had this seed's ${kind} data (an earlier run got that far): skipped`
                  : `seeded ${kind} ${module.module} in ${formatDuration(module.milliseconds)}`,
              ),
              ...tables.map(
                (table) =>
                  `  ${table.table.padEnd(32)} ${formatCount(table.rows).padStart(12)} rows ${
                    table.rowsPerSecond === null
                      ? ''
                      : `${formatCount(table.rowsPerSecond).padStart(12)} rows/s`
                  }`,
              ),
              `done in ${formatDuration(milliseconds)}`,
            ].join('\n'),
          );
        },
        options.module ? { modules: [options.module] } : {},
      );
    });
}
