import type { Database } from './database.ts';
import { ConfigurationError } from './errors.ts';
import { type DomainModule, type JobReport, type ModuleJob, ModuleResources } from './module.ts';
import { inRequestScope } from './request.ts';

export interface JobRunOptions {
  /** The schedule slot this run is for: a slot that already ran is skipped (several API processes). */
  scheduledFor?: Date;
  now?: Date;
  /** What the job's module needs (`ModuleResources`); read from the environment when not given. */
  resources?: ModuleResources;
}

export type JobRunResult =
  | ({ status: 'ran'; module: string; job: string; milliseconds: number } & JobReport)
  | { status: 'skipped'; module: string; job: string; reason: string };

/** Every job of every composed module, as `<module>.<job>` with its module. */
export function listJobs(db: Pick<Database, 'modules'>): JobEntry[] {
  return db.modules.flatMap((module) =>
    (module.jobs ?? []).map((job) => ({
      id: `${module.name}.${job.name}`,
      module: module.name,
      job,
      owner: module,
    })),
  );
}

interface JobEntry {
  id: string;
  module: string;
  job: ModuleJob;
  /** The module that declares the job. */
  owner: DomainModule;
}

/**
 * The job called `<module>.<job>`; an unknown one (module or job) is a ConfigurationError listing the known
 * ones, naming `field` (where the name came from: an argument, an environment variable).
 */
export function findJob(db: Pick<Database, 'modules'>, id: string, field = 'job'): JobEntry {
  const jobs = listJobs(db);
  const found = jobs.find((entry) => entry.id === id);
  if (!found) {
    const known = jobs.map((entry) => entry.id).join(', ');
    throw new ConfigurationError(`${field}: unknown job "${id}" (known: ${known || 'none'})`);
  }
  return found;
}

/**
 * Runs one job in one transaction as the owner role. Concurrent runs of the same job wait for each other
 * (a transaction-level advisory lock), and a run for a schedule slot (`scheduledFor`) is recorded in
 * `huddle.job_runs` in the same transaction, so each slot runs once however many processes fire it.
 */
export async function runJob(db: Database, id: string, options: JobRunOptions = {}): Promise<JobRunResult> {
  const { module, job, owner } = findJob(db, id);
  const resources = (options.resources ?? (await ModuleResources.fromEnv([owner]))).of(owner);
  return inRequestScope(
    db.orm,
    async (em) => {
      await em.execute('select pg_advisory_xact_lock(hashtext(?))', [`huddle.job:${id}`], 'run');
      if (options.scheduledFor) {
        const claimed: unknown[] = await em.execute(
          `insert into huddle.job_runs (module, job, scheduled_for, rows, summary) values (?, ?, ?, 0, '')
           on conflict do nothing returning 1`,
          [module, job.name, options.scheduledFor],
        );
        if (claimed.length === 0) {
          return { status: 'skipped', module, job: job.name, reason: 'this schedule slot already ran' };
        }
      }
      const started = performance.now();
      const report = await job.run(em, { now: options.now ?? new Date(), resources });
      if (options.scheduledFor) {
        await em.execute(
          'update huddle.job_runs set rows = ?, summary = ? where module = ? and job = ? and scheduled_for = ?',
          [report.rows, report.summary, module, job.name, options.scheduledFor],
          'run',
        );
      }
      return { status: 'ran', module, job: job.name, milliseconds: performance.now() - started, ...report };
    },
    { retries: 0 },
  );
}
