import {
  ConfigurationError,
  type Database,
  DatabaseUnavailableError,
  type DomainModule,
  findJob,
  listJobs,
  runJob,
} from '@huddle/db';
import { Cron } from 'croner';
import type { Logger } from 'pino';
import type { ApiMetrics } from './metrics.ts';

export const JOB_SCHEDULES_VARIABLE = 'HUDDLE_JOB_SCHEDULES';

/**
 * The schedules an operator gives jobs instead of their modules' defaults, from `HUDDLE_JOB_SCHEDULES`:
 * `<module>.<job>=<cron>` entries separated by `;` (a cron expression holds spaces and commas), e.g.
 * `scrum.detect-delays=*\/5 * * * *; scrum.cleanup-notifications=0 4 * * *`. A pattern has five fields, or
 * six with seconds first (UTC). An entry without `=`, an unknown or repeated job, or a pattern croner
 * refuses is a ConfigurationError naming the variable.
 */
export function jobSchedulesFromEnv(
  modules: readonly DomainModule[],
  env: NodeJS.ProcessEnv = process.env,
): ReadonlyMap<string, string> {
  const schedules = new Map<string, string>();
  for (const entry of (env[JOB_SCHEDULES_VARIABLE] ?? '').split(';')) {
    if (entry.trim() === '') continue;
    const separator = entry.indexOf('=');
    if (separator < 0) {
      throw new ConfigurationError(
        `${JOB_SCHEDULES_VARIABLE}: "${entry.trim()}" is not <module>.<job>=<cron expression>`,
      );
    }
    const id = entry.slice(0, separator).trim();
    const pattern = entry.slice(separator + 1).trim();
    findJob({ modules }, id, JOB_SCHEDULES_VARIABLE);
    if (schedules.has(id)) throw new ConfigurationError(`${JOB_SCHEDULES_VARIABLE}: ${id} is given twice`);
    try {
      new Cron(pattern, { timezone: 'UTC', paused: true }).stop();
    } catch (error) {
      const reason = (error as Error).message.replace(/^CronPattern: /, '');
      throw new ConfigurationError(
        `${JOB_SCHEDULES_VARIABLE}: ${id}: "${pattern}" is not a cron expression (${reason})`,
      );
    }
    schedules.set(id, pattern);
  }
  return schedules;
}

/**
 * The schedule slot a firing of `cron` at `now` claims: the time it was due, i.e. the pattern's latest time
 * at or before `now` (`previousRuns` leaves out its reference, hence the millisecond). Every process computes
 * the same slot from the pattern however late its timer fires, to the second when the pattern has seconds.
 */
export function dueSlot(cron: Cron, now: Date = new Date()): Date {
  const [due] = cron.previousRuns(1, new Date(now.getTime() + 1));
  return due!;
}

/**
 * Runs every composed module's jobs on their schedules (`schedules` where it names the job, else the
 * module's default; UTC). Each firing claims its schedule slot (`dueSlot`) in `huddle.job_runs` inside the
 * job's transaction (`runJob`), so when several API processes share one database each slot runs once,
 * wherever it fires first; the others log that they skipped it. `metrics` counts each run by outcome, with
 * its duration. Returns a function that stops the schedule.
 */
export function scheduleJobs(
  db: Database,
  logger: Logger,
  schedules: ReadonlyMap<string, string>,
  metrics?: ApiMetrics,
): () => void {
  const crons = listJobs(db).map(
    ({ id, job }) =>
      new Cron(
        schedules.get(id) ?? job.schedule,
        { timezone: 'UTC', protect: true, name: id },
        async (cron: Cron) => {
          const scheduledFor = dueSlot(cron);
          const started = performance.now();
          const seconds = () => (performance.now() - started) / 1000;
          try {
            const result = await runJob(db, id, { scheduledFor });
            metrics?.recordJob(id, result.status, seconds());
            logger.info({ ...result, job: id, scheduledFor }, `job ${id} ${result.status}`);
          } catch (error) {
            metrics?.recordJob(id, 'failed', seconds());
            // The database being away (a restart) is an operator's concern, not a bug: the next slot runs.
            const level = error instanceof DatabaseUnavailableError ? 'warn' : 'error';
            logger[level]({ err: error, job: id, scheduledFor }, `job ${id} failed`);
          }
        },
      ),
  );
  return () => {
    for (const cron of crons) cron.stop();
  };
}
