import type { ApiServer } from '@huddle/api/server';
import { issueSessionToken } from '@huddle/composition';
import { type Database, type DomainModule, openDatabase, sessionLimitsFromEnv } from '@huddle/db';
import pg from 'pg';
import { projectWithDecisions, repositoryWithPlans, teamWithTasks, votingSession } from './api-fixtures.ts';
import { count, startBenchApi } from './server.ts';

const SECRET = new TextEncoder().encode('bench-secret-of-at-least-thirty-two-characters');
/** The API's pool, as in production (HUDDLE_DB_POOL_MAX's default). */
const POOL = 10;
/** Callers of the other modules, each sending its next request when the last one is answered. */
const OTHER_CALLERS = 8;
/** Writes per second at the user whose row is locked. */
const LOCKED_WRITES_PER_SECOND = 20;
const NORMAL_MS = 10_000;
const LOCK_MS = 30_000;

interface Outcomes {
  calls: number;
  ok: number;
  /** Failed calls by HTTP status (or `network`). */
  failed: Record<string, number>;
  latencies: number[];
}

const empty = (): Outcomes => ({ calls: 0, ok: 0, failed: {}, latencies: [] });

function p99(latencies: number[]): number {
  const sorted = [...latencies].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] ?? Number.NaN;
}

interface Call {
  url: string;
  token: string;
  body?: string;
}

async function send(call: Call, into: Outcomes): Promise<void> {
  const started = performance.now();
  let status: string;
  try {
    const response = await fetch(call.url, {
      method: call.body ? 'POST' : 'GET',
      headers: {
        authorization: `Bearer ${call.token}`,
        ...(call.body && { 'content-type': 'application/json' }),
      },
      body: call.body,
    });
    await response.arrayBuffer();
    status = String(response.status);
  } catch {
    status = 'network';
  }
  into.calls++;
  into.latencies.push(performance.now() - started);
  if (status === '200') into.ok++;
  else into.failed[status] = (into.failed[status] ?? 0) + 1;
}

/** `callers` loops over `calls` until `until`, each waiting for its answer before the next request. */
async function closedLoop(calls: Call[], callers: number, until: number, into: Outcomes): Promise<void> {
  await Promise.all(
    Array.from({ length: callers }, async (_, caller) => {
      for (let n = caller; performance.now() < until; n += callers)
        await send(calls[n % calls.length]!, into);
    }),
  );
}

/** `perSecond` requests a second, sent on schedule whether or not the earlier ones were answered. */
async function openLoop(call: (n: number) => Call, perSecond: number, until: number, into: Outcomes) {
  const sent: Promise<void>[] = [];
  for (let n = 0; performance.now() < until; n++) {
    sent.push(send(call(n), into));
    await new Promise((resolve) => setTimeout(resolve, 1000 / perSecond));
  }
  await Promise.all(sent);
}

export interface BulkheadFigures {
  normal: { others: Outcomes; scrumOthers: Outcomes };
  locked: { others: Outcomes; scrumOthers: Outcomes; lockedWrites: Outcomes };
}

const query = (apiUrl: string, procedure: string, input: unknown) =>
  `${apiUrl}/${procedure}?input=${encodeURIComponent(JSON.stringify(input))}`;

/**
 * One scrum user's row held `FOR UPDATE` for 30 s by another session while that user sends 20 direct messages
 * a second through the API (each insert waits on the row: the message's foreign key to its sender), and 8
 * callers keep reading through the other modules (poker, decisions, planner) and as other scrum users. The
 * same callers' 10 s before the lock are the baseline. The API runs with the production session limits
 * (lock_timeout) and pool size.
 */
export async function benchBulkhead(
  modules: readonly DomainModule[],
  url: string,
  workDir: string,
): Promise<BulkheadFigures> {
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  let db: Database | undefined;
  let server: ApiServer | undefined;
  const holder = new pg.Client({ connectionString: url });
  try {
    const { sessionId, voters } = await votingSession(pool, OTHER_CALLERS);
    const { developers } = await teamWithTasks(pool, OTHER_CALLERS + 2);
    const { projectId, members } = await projectWithDecisions(pool, OTHER_CALLERS);
    const { activeVersions, operators } = await repositoryWithPlans(pool, OTHER_CALLERS);
    const [locked, recipient, ...scrumCallers] = developers;
    const token = async (module: string, subject: number | string) =>
      (await issueSessionToken(db!, SECRET, { module, subject: String(subject) }, '1h')).token;
    db = await openDatabase({
      modules,
      target: { kind: 'postgresql', url, poolMax: POOL },
      sessionLimits: sessionLimitsFromEnv(),
    });
    server = await startBenchApi(db, SECRET, workDir);
    const apiUrl = server.url;
    const others: Call[] = [];
    for (let n = 0; n < OTHER_CALLERS; n++) {
      others.push(
        { url: query(apiUrl, 'poker.sessions.get', { sessionId }), token: await token('poker', voters[n]!) },
        {
          url: query(apiUrl, 'decisions.decisions.list', { projectId }),
          token: await token('decisions', members[n]!),
        },
        {
          url: query(apiUrl, 'planner.plans.get', { planId: activeVersions[n % activeVersions.length] }),
          token: await token('planner', operators[n]!),
        },
      );
    }
    const scrumOthers: Call[] = await Promise.all(
      scrumCallers.map(async (developer) => ({
        url: query(apiUrl, 'scrum.tasks.mine', { status: 'todo' }),
        token: await token('scrum', developer),
      })),
    );
    const lockedToken = await token('scrum', locked!);
    const lockedWrite = (n: number): Call => ({
      url: `${apiUrl}/scrum.chat.sendDirect`,
      token: lockedToken,
      body: JSON.stringify({ recipientId: recipient, message: `Stuck ${n}` }),
    });

    const phase = async (durationMs: number, extra?: (until: number) => Promise<void>) => {
      const figures = { others: empty(), scrumOthers: empty() };
      const until = performance.now() + durationMs;
      await Promise.all([
        closedLoop(others, OTHER_CALLERS, until, figures.others),
        closedLoop(scrumOthers, 2, until, figures.scrumOthers),
        extra?.(until),
      ]);
      return figures;
    };
    // Warm-up: connections, prepared statements, JIT.
    await phase(2_000);
    const normal = await phase(NORMAL_MS);

    await holder.connect();
    await holder.query('begin');
    await holder.query('select id from scrum.users where id = $1 for update', [locked]);
    const lockedWrites = empty();
    const during = await phase(LOCK_MS, (until) =>
      openLoop(lockedWrite, LOCKED_WRITES_PER_SECOND, until, lockedWrites),
    );
    await holder.query('rollback');
    return { normal, locked: { ...during, lockedWrites } };
  } finally {
    await holder.end().catch(() => undefined);
    await server?.close();
    await db?.close();
    await pool.end();
  }
}

function line(label: string, outcomes: Outcomes): string {
  const failed = Object.entries(outcomes.failed)
    .map(([status, calls]) => `${count(calls)}× ${status}`)
    .join(', ');
  const rate = (100 * outcomes.ok) / Math.max(1, outcomes.calls);
  return `  ${label.padEnd(30)} ${count(outcomes.calls).padStart(6)} calls   ok ${rate.toFixed(2).padStart(6)} %   p99 ${p99(outcomes.latencies).toFixed(1).padStart(7)} ms${failed ? `   failed: ${failed}` : ''}`;
}

export function bulkheadReport({ normal, locked }: BulkheadFigures): string[] {
  const ratio = p99(locked.others.latencies) / p99(normal.others.latencies);
  return [
    `normal (${NORMAL_MS / 1000} s):`,
    line('other modules', normal.others),
    line('scrum, other users', normal.scrumOthers),
    `one scrum user's row locked (${LOCK_MS / 1000} s, ${LOCKED_WRITES_PER_SECOND} writes/s as that user):`,
    line('other modules', locked.others),
    line('scrum, other users', locked.scrumOthers),
    line('writes as the locked user', locked.lockedWrites),
    `  other modules' p99 while locked: ${ratio.toFixed(2)}× normal`,
  ];
}
