import { type Database, listJobs, runJob } from '@huddle/db';
import { Cron } from 'croner';
import type { Logger } from 'pino';

const MINUTE_MS = 60_000;

/**
 * Runs every composed module's jobs on their schedules (five-field cron, UTC). Each firing claims its
 * schedule slot — the minute it was due — in `huddle.job_runs` inside the job's transaction (`runJob`), so
 * when several API processes share one database each slot runs once, wherever it fires first; the others
 * log that they skipped it. Returns a function that stops the schedule.
 */
export function scheduleJobs(db: Database, logger: Logger): () => void {
  const crons = listJobs(db).map(
    ({ id, job }) =>
      new Cron(job.schedule, { timezone: 'UTC', protect: true, name: id }, async () => {
        const scheduledFor = new Date(Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS);
        try {
          const result = await runJob(db, id, { scheduledFor });
          logger.info({ ...result, job: id, scheduledFor }, `job ${id} ${result.status}`);
        } catch (error) {
          logger.error({ err: error, job: id, scheduledFor }, `job ${id} failed`);
        }
      }),
  );
  return () => {
    for (const cron of crons) cron.stop();
  };
}
