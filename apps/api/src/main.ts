import fs from 'node:fs';
import { domainModules, issueActorToken, issueToken, resolveSecret } from '@huddle/composition';
import {
  ConfigurationError,
  type Database,
  HuddleError,
  inRequestScope,
  migrateUp,
  openDatabase,
  platformModule,
  runAsActor,
  seed,
  sessionLimitsFromEnv,
} from '@huddle/db';
import {
  MINIMAL_PASSWORD as DECISIONS_MINIMAL_PASSWORD,
  MINIMAL_PROJECTS as DECISIONS_MINIMAL_PROJECTS,
  MINIMAL_USERS as DECISIONS_MINIMAL_USERS,
  decisionsModule,
  listMyProjects,
  signIn,
} from '@huddle/decisions';
import {
  PLANNER_ROOTS_VARIABLE,
  plannerActor,
  plannerRootsFromEnv,
  type RepositoryAccess,
} from '@huddle/planner';
import { findUserByEmail, MINIMAL_USERS, pokerActor } from '@huddle/poker';
import {
  findActiveUserIdByGithubId,
  githubOAuthConfigFromEnv,
  MINIMAL_USERS as SCRUM_USERS,
} from '@huddle/scrum';
import git from 'isomorphic-git';
import { z } from 'zod';
import { trustedProxiesFromEnv } from './client-address.ts';
import { DEFAULT_IDEMPOTENCY_KEY_HOURS } from './idempotency.ts';
import { checkListenAddress } from './listen-check.ts';
import { logger } from './logger.ts';
import { opsTokenFromEnv } from './operator.ts';
import { jobSchedulesFromEnv, scheduleJobs } from './scheduler.ts';
import { startApiServer } from './server.ts';
import { signInLimitsFromEnv } from './sign-in-limits.ts';
import { maxStreamsPerActorFromEnv } from './stream-limits.ts';
import {
  DECISIONS_WEBHOOK_PATH,
  DECISIONS_WEBHOOK_SECRET_VARIABLE,
  decisionsWebhookSecretsFromEnv,
} from './webhooks.ts';

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

/**
 * How to try the decisions module on the seeded embedded database: the director's sign-in, and a signed
 * webhook delivery into the seeded project when a secret is configured (the secret itself is never printed:
 * the example reads it from the environment variable).
 */
async function decisionsBanner(
  db: Database,
  url: string,
  webhookSecret: string | undefined,
): Promise<string[]> {
  const director = { email: DECISIONS_MINIMAL_USERS[0].email, password: DECISIONS_MINIMAL_PASSWORD };
  const lines = [
    `Decisions, as the seeded director ${director.email} (the answer holds a decisions token):`,
    `  curl -s -H 'content-type: application/json' -d '${JSON.stringify(director)}' ${url}/decisions.auth.signIn`,
  ];
  if (webhookSecret === undefined) {
    lines.push(
      `The decisions webhook (POST ${url}${DECISIONS_WEBHOOK_PATH}) answers 503 until ${DECISIONS_WEBHOOK_SECRET_VARIABLE} is set;`,
      `  deliveries are signed: x-huddle-signature: sha256=<hex HMAC-SHA256 of "<x-huddle-timestamp>.<body>">.`,
    );
    return lines;
  }
  const user = await inRequestScope(db.orm, (em) => signIn(em, director));
  const actor = { module: 'decisions' as const, userId: user.id, role: user.role };
  const projects = await runAsActor(db.orm, decisionsModule, actor, (em, acting) =>
    listMyProjects(em, acting, {}),
  );
  const project = projects.items.find((candidate) => candidate.name === DECISIONS_MINIMAL_PROJECTS[0]);
  if (!project) return lines;
  const body = JSON.stringify({
    webhookId: 'demo-delivery-1',
    projectId: project.id,
    title: 'Architecture sync',
    meetingAt: '2026-11-22T09:00:00Z',
    participants: [{ name: 'Ann', email: 'ann@example.com' }, { name: 'Bob' }],
    content: 'Ann: We decided to adopt Kafka for the event bus.\nBob: Agreed.',
  });
  lines.push(
    `A transcript delivered to the webhook, signed with $${DECISIONS_WEBHOOK_SECRET_VARIABLE}:`,
    `  BODY='${body}'; TS=$(date +%s)`,
    `  SIG="sha256=$(printf '%s.%s' "$TS" "$BODY" | openssl dgst -sha256 -hmac "$${DECISIONS_WEBHOOK_SECRET_VARIABLE}" -hex | sed 's/^.* //')"`,
    `  curl -s -H 'content-type: application/json' -H "x-huddle-timestamp: $TS" -H "x-huddle-signature: $SIG" --data-binary "$BODY" ${url}${DECISIONS_WEBHOOK_PATH}`,
  );
  return lines;
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
  await checkListenAddress(listen.data.HUDDLE_HOST, listen.data.HUDDLE_PORT);
  const plannerAccess = await plannerAccessFromEnv();
  const githubOAuth = githubOAuthConfigFromEnv() ?? undefined;
  const decisionsWebhookSecrets = decisionsWebhookSecretsFromEnv();
  const opsToken = opsTokenFromEnv();
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
  const server = await startApiServer({
    db,
    secret,
    plannerAccess,
    githubOAuth,
    decisionsWebhookSecrets,
    opsToken,
    port: listen.data.HUDDLE_PORT,
    host: listen.data.HUDDLE_HOST,
    signInLimits,
    trustedProxies,
    idempotencyKeyHours: listen.data.HUDDLE_IDEMPOTENCY_KEY_HOURS,
    maxStreamsPerActor,
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
    const projectManager = await inRequestScope(db.orm, (em) =>
      findActiveUserIdByGithubId(em, SCRUM_USERS[1].githubId),
    );
    if (projectManager) {
      const scrum = await issueToken(secret, { module: 'scrum', subject: String(projectManager) });
      banner.push(
        'The scrum team directory, as the seed’s project manager:',
        `  curl -s -H "authorization: Bearer ${scrum.token}" ${server.url}/scrum.users.directory`,
      );
    }
    banner.push(...(await decisionsBanner(db, server.url, decisionsWebhookSecrets[0])));
  }
  process.stdout.write(`${banner.join('\n')}\n`);
  // Every process may schedule: each schedule slot runs once across all of them (see scheduleJobs).
  const stopJobs =
    listen.data.HUDDLE_JOBS === 'on' ? scheduleJobs(db, logger, jobSchedules) : () => undefined;

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
