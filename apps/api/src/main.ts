import fs from 'node:fs';
import { domainModules, issueActorToken, resolveSecret } from '@huddle/composition';
import {
  ConfigurationError,
  type Database,
  HuddleError,
  inRequestScope,
  migrateUp,
  openDatabase,
  seed,
  sessionLimitsFromEnv,
} from '@huddle/db';
import {
  PLANNER_ROOTS_VARIABLE,
  plannerActor,
  plannerRootsFromEnv,
  type RepositoryAccess,
} from '@huddle/planner';
import { findUserByEmail, MINIMAL_USERS, pokerActor } from '@huddle/poker';
import { githubOAuthConfigFromEnv } from '@huddle/scrum';
import git from 'isomorphic-git';
import { z } from 'zod';
import { logger } from './logger.ts';
import { scheduleJobs } from './scheduler.ts';
import { startApiServer } from './server.ts';
import { signInLimitsFromEnv } from './sign-in-limits.ts';

const SHUTDOWN_GRACE_MS = 5_000;
/** In-flight requests get this long to finish; the rest of the grace period is for closing the database. */
const DRAIN_MS = 3_500;

const listenSchema = z.object({
  HUDDLE_PORT: z.coerce.number().int().min(0).max(65_535).default(4000),
  HUDDLE_HOST: z.string().min(1).default('127.0.0.1'),
  HUDDLE_JOBS: z.enum(['on', 'off']).default('on'),
});

/** A token for the demo facilitator, so the banner's example call shows the seeded demo session. */
async function demoFacilitatorToken(db: Database, secret: Uint8Array): Promise<string | undefined> {
  const facilitator = await inRequestScope(db.orm, (em) => findUserByEmail(em, MINIMAL_USERS[0].email));
  if (!facilitator) return undefined;
  return (await issueActorToken(secret, pokerActor, { module: 'poker', userId: facilitator.id })).token;
}

/**
 * Where planner may read git repositories, decided once at start: `HUDDLE_PLANNER_ROOTS`, or, when it is
 * unset, the git work tree the API is started in (so `pnpm start` can plan changes to Huddle itself); none
 * outside a work tree or when the variable is set but empty. The default is written back to the
 * environment because the minimal seeder reads the roots there: the seeded repository is then readable.
 */
async function plannerAccessFromEnv(): Promise<RepositoryAccess> {
  if (process.env[PLANNER_ROOTS_VARIABLE] === undefined) {
    const checkout = await git.findRoot({ fs, filepath: process.cwd() }).catch(() => undefined);
    if (checkout) process.env[PLANNER_ROOTS_VARIABLE] = checkout;
  }
  return { roots: plannerRootsFromEnv() };
}

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
  const plannerAccess = await plannerAccessFromEnv();
  const githubOAuth = githubOAuthConfigFromEnv() ?? undefined;
  const signInLimits = signInLimitsFromEnv();
  const db = await openDatabase({ modules: domainModules, sessionLimits: sessionLimitsFromEnv() });
  const secret = await resolveSecret(db.target).catch(async (error) => {
    await db.close();
    throw error;
  });
  await migrateUp(db);
  // The embedded database is the zero-setup demo: give it the sample data. A server's data is the operator's.
  if (db.target.kind === 'pglite') await seed(db, 'minimal');
  const server = await startApiServer({
    db,
    secret,
    plannerAccess,
    githubOAuth,
    port: listen.data.HUDDLE_PORT,
    host: listen.data.HUDDLE_HOST,
    signInLimits,
  });

  const where = db.target.kind === 'pglite' ? `embedded database in ${db.target.dataDir}` : 'PostgreSQL';
  const token = db.target.kind === 'pglite' ? await demoFacilitatorToken(db, secret) : undefined;
  const banner = [
    `Huddle API listening on ${server.url} (${where})`,
    'Try:',
    `  curl -s ${server.url}/health`,
  ];
  if (token) {
    banner.push(
      'The demo session, as its facilitator:',
      `  curl -s -H "authorization: Bearer ${token}" ${server.url}/poker.sessions.mine`,
    );
  }
  if (db.target.kind === 'pglite') {
    const planner = await issueActorToken(secret, plannerActor, { module: 'planner', operator: 'demo' });
    banner.push(
      'The planner’s repositories, as operator demo:',
      `  curl -s -H "authorization: Bearer ${planner.token}" ${server.url}/planner.repositories.list`,
    );
  }
  process.stdout.write(`${banner.join('\n')}\n`);
  // Every process may schedule: each schedule slot runs once across all of them (see scheduleJobs).
  const stopJobs = listen.data.HUDDLE_JOBS === 'on' ? scheduleJobs(db, logger) : () => undefined;

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
    await server.close({ drainMs: DRAIN_MS });
    await db.close();
    process.exit(0);
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

main().catch(fail);
