import { Command } from '@commander-js/extra-typings';
import { type CliIo, output, withDatabase } from '../context.ts';
import { formatDuration } from '../progress.ts';

/**
 * The modules' scheduled jobs, for cron or a Kubernetes CronJob (the API also runs them on their schedules
 * unless HUDDLE_JOBS=off). A run here is on demand: it does not claim a schedule slot.
 */
export function jobsCommand(io: CliIo) {
  const jobs = new Command('jobs').description("the modules' scheduled jobs: list them, run one now");

  jobs
    .command('list')
    .description('every job of every composed module, with its default schedule (cron, UTC)')
    .option('--json', 'print the result as JSON')
    .action(async (options) => {
      const [{ listJobs, platformModule }, { domainModules }] = await Promise.all([
        import('@huddle/db'),
        import('@huddle/composition'),
      ]);
      // Listing reads the module values only: no database to open.
      const listed = listJobs({ modules: [platformModule, ...domainModules] }).map(({ id, job }) => ({
        id,
        schedule: job.schedule,
        description: job.description,
      }));
      output(io, options.json, listed, () =>
        listed.length === 0
          ? 'no jobs'
          : listed
              .map((job) => `${job.id.padEnd(34)} ${job.schedule.padEnd(16)} ${job.description}`)
              .join('\n'),
      );
    });

  jobs
    .command('run')
    .description('run one job now, in one transaction: <module>.<job>, e.g. scrum.detect-delays')
    .argument('<job>', 'the job, as `huddle jobs list` names it')
    .option('--json', 'print the result as JSON')
    .action((id, options) =>
      withDatabase(
        io,
        async (db) => {
          const { runJob } = await import('@huddle/db');
          const result = await runJob(db, id);
          output(io, options.json, result, () =>
            result.status === 'ran'
              ? `${id}: ${result.summary} (${result.rows} rows) in ${formatDuration(result.milliseconds)}`
              : `${id}: skipped, ${result.reason}`,
          );
        },
        { modules: [id.split('.', 1)[0]!] },
      ),
    );

  return jobs;
}
