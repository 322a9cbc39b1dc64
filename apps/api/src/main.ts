import { domainModules, issueSessionToken, resolveSecret } from '@huddle/composition';
import {
  ConfigurationError,
  type DomainModule,
  HuddleError,
  type ModuleActor,
  ModuleResources,
  migrateUp,
  openDatabase,
  platformModule,
  seed,
  sessionLimitsFromEnv,
} from '@huddle/db';
import { z } from 'zod';
import { serveAdminCommands } from './admin-commands.ts';
import { trustedProxiesFromEnv } from './client-address.ts';
import { DEFAULT_IDEMPOTENCY_KEY_HOURS } from './idempotency.ts';
import { checkListenAddress } from './listen-check.ts';
import { logger } from './logger.ts';
import { ApiMetrics, metricsAccessFromEnv } from './metrics.ts';
import { opsTokenFromEnv } from './operator.ts';
import { jobSchedulesFromEnv, scheduleJobs } from './scheduler.ts';
import { startApiServer } from './server.ts';
import { signInLimitsFromEnv } from './sign-in-limits.ts';
import { maxStreamsPerActorFromEnv } from './stream-limits.ts';
import { stopTracing } from './tracing.ts';

const SHUTDOWN_GRACE_MS = 5_000;
/** In-flight requests get this long to finish; the rest of the grace period is for closing the database. */
const DRAIN_MS = 3_500;

const listenSchema = z.object({
  HUDDLE_PORT: z.coerce.number().int().min(0).max(65_535).default(4000),
  HUDDLE_HOST: z.string().min(1).default('127.0.0.1'),
  HUDDLE_JOBS: z.enum(['on', 'off']).default('on'),
  // Up to 30 days: the draft leaves the window to the server, and every key's result is a row until then.
  HUDDLE_IDEMPOTENCY_KEY_HOURS: z.coerce
    .number()
    .int()
    .min(1)
    .max(720)
    .default(DEFAULT_IDEMPOTENCY_KEY_HOURS),
});

function fail(error: unknown): never {
  const message = error instanceof HuddleError ? error.message : ((error as Error).message ?? String(error));
  process.stderr.write(`huddle api: ${message}\n`);
  process.exit(1);
}

async function main() {
  const listen = listenSchema.safeParse(process.env);
  if (!listen.success) {
    const issue = listen.error.issues[0]!;
    throw new ConfigurationError(`${issue.path.join('.')}: ${issue.message}`);
  }
  await checkListenAddress(listen.data.HUDDLE_HOST, listen.data.HUDDLE_PORT);
  const moduleResources = await ModuleResources.fromEnv(domainModules);
  const opsToken = opsTokenFromEnv();
  const metricsAccess = metricsAccessFromEnv();
  const signInLimits = signInLimitsFromEnv();
  const trustedProxies = trustedProxiesFromEnv();
  const maxStreamsPerActor = maxStreamsPerActorFromEnv();
  const jobSchedules = jobSchedulesFromEnv([platformModule, ...domainModules]);
  // A new embedded database starts from the migrated template (database.ts), not from initdb.
  const db = await openDatabase({
    modules: domainModules,
    sessionLimits: sessionLimitsFromEnv(),
    create: 'migrated',
  });
  const secret = await resolveSecret(db.target).catch(async (error) => {
    await db.close();
    throw error;
  });
  await migrateUp(db);
  // The embedded database is the zero-setup demo: give it the sample data. A server's data is the operator's.
  if (db.target.kind === 'pglite') await seed(db, 'minimal');
  const metrics = metricsAccess ? new ApiMetrics(metricsAccess) : undefined;
  const server = await startApiServer({
    db,
    secret,
    moduleResources,
    opsToken,
    port: listen.data.HUDDLE_PORT,
    host: listen.data.HUDDLE_HOST,
    signInLimits,
    trustedProxies,
    idempotencyKeyHours: listen.data.HUDDLE_IDEMPOTENCY_KEY_HOURS,
    maxStreamsPerActor,
    metrics,
  });
  const adminCommands = await serveAdminCommands(db);

  const where = db.target.kind === 'pglite' ? `embedded database in ${db.target.dataDir}` : 'PostgreSQL';
  const banner = [
    `Huddle API listening on ${server.url} (${where})`,
    'Try:',
    `  curl -s ${server.url}/health`,
  ];
  if (db.target.kind === 'pglite') {
    const modules: readonly DomainModule[] = domainModules;
    for (const module of modules) {
      const { actor, demo } = module;
      if (!actor || !demo) continue;
      const tokenFor = async (subject: ModuleActor) =>
        (await issueSessionToken(db, secret, { module: module.name, subject: actor.subject(subject) })).token;
      banner.push(...(await demo({ db, url: server.url, resources: moduleResources.of(module), tokenFor })));
    }
  }
  process.stdout.write(`${banner.join('\n')}\n`);
  // Every process may schedule: each schedule slot runs once across all of them (see scheduleJobs).
  const stopJobs =
    listen.data.HUDDLE_JOBS === 'on' ? scheduleJobs(db, logger, jobSchedules, metrics) : () => undefined;

  let stopping = false;
  const shutdown = async (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const forced = setTimeout(() => {
      process.stderr.write('huddle api: shutdown took too long, exiting\n');
      process.exit(1);
    }, SHUTDOWN_GRACE_MS);
    forced.unref();
    stopJobs();
    await Promise.all([server.close({ drainMs: DRAIN_MS }), adminCommands?.close(DRAIN_MS)]);
    await db.close();
    await stopTracing();
    process.exit(0);
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

main().catch(fail);
