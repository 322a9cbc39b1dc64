import { createHuddleClient, type HuddleClient } from '@huddle/client';
import { domainModules, issueSessionToken } from '@huddle/composition';
import { listJobs, migrationCheck } from '@huddle/db';
import type { PokerEvent } from '@huddle/poker';
import type { ChatEvent, NotificationEvent } from '@huddle/scrum';
import { eventually, useTestDatabase } from '@huddle/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JOB_SCHEDULES_VARIABLE } from '../src/scheduler.ts';
import { routerProcedures } from '../src/testing/fuzz.ts';
import {
  type ApiProcess,
  collect,
  expectLimited,
  join,
  killApiProcesses,
  startApiProcess,
  TEST_SECRET,
  TEST_SECRET_TEXT,
} from './helpers.ts';

/**
 * Several API processes behind a load balancer share one PostgreSQL database, and nothing else: two real
 * API processes (`main.ts`, as `pnpm start` runs it) on one database, started once for the file. Events,
 * the jobs' schedule slots and the sign-in counters all travel through the database.
 */
const database = useTestDatabase(domainModules);
const jobs = listJobs({ modules: domainModules });
/** Every job fires every second in both processes, so the file sees several slots in a few seconds. */
const EVERY_SECOND = '* * * * * *';
/** A date range in the future: no task of these tests becomes delayed while the jobs run. */
const NEXT_YEARS = { startDate: '2090-01-01T09:00:00Z', endDate: '2090-01-08T17:00:00Z' };

/** Process A serves the subscribers, process B takes the writes. */
let a: ApiProcess;
let b: ApiProcess;

// Started once: the two starts are most of the file's cost (4–9 s in all under the full `pnpm test` on
// 2 cores, every test under 2 s), so the shared timeouts cover it.
beforeAll(async () => {
  const env = {
    DATABASE_URL: database.url,
    HUDDLE_SECRET: TEST_SECRET_TEXT,
    HUDDLE_LOG_LEVEL: 'info',
    HUDDLE_JOBS: 'on',
    [JOB_SCHEDULES_VARIABLE]: jobs.map(({ id }) => `${id}=${EVERY_SECOND}`).join('; '),
    HUDDLE_SIGNIN_LIMIT_PER_IDENTITY_AND_ADDRESS: '3',
    HUDDLE_SIGNIN_LIMIT_PER_ADDRESS: '10',
    HUDDLE_SIGNIN_WINDOW_SECONDS: '60',
  };
  [a, b] = await Promise.all([startApiProcess(env), startApiProcess(env)]);
});
afterAll(() => killApiProcesses());

async function sql<Row>(query: string, params: unknown[] = []): Promise<Row[]> {
  return database.db.orm.em.fork().execute<Row[]>(query, params);
}

/** A user written directly (setup, not the point: sign-ins are counted by the limits below), with a client per process. */
async function user(
  module: 'poker' | 'scrum',
  insert: string,
  params: unknown[],
): Promise<{ id: number; onA: HuddleClient; onB: HuddleClient }> {
  const [row] = await sql<{ id: number }>(`${insert} returning id`, params);
  const { token } = await issueSessionToken(database.db, TEST_SECRET, { module, subject: String(row!.id) });
  return { id: row!.id, onA: createHuddleClient(a.url, token), onB: createHuddleClient(b.url, token) };
}

const pokerUser = (name: string) => user('poker', 'insert into poker.users (name) values (?)', [name]);
const scrumUser = (name: string, role: string) =>
  user('scrum', 'insert into scrum.users (github_id, username, role) values (?, ?, ?)', [
    `${name}-gh`,
    name,
    role,
  ]);

/**
 * Per subscription procedure: a subscriber connected to process A receives the event of a write made
 * through process B, and a subscriber the event is not for does not (the first event it gets is its own).
 */
const crossProcessEvents: Record<string, () => Promise<void>> = {
  'poker.events': async () => {
    const [facilitator, participant] = await Promise.all([pokerUser('Fay'), pokerUser('Pat')]);
    const session = await facilitator.onB.poker.sessions.create.mutate({ name: 'Two processes' });
    const other = await facilitator.onB.poker.sessions.create.mutate({ name: 'Another session' });
    await participant.onB.poker.sessions.join.mutate({ joinCode: session.joinCode! });
    const listener = collect<PokerEvent>((handlers) =>
      participant.onA.poker.events.subscribe({ sessionId: session.id }, handlers),
    );
    const otherListener = collect<PokerEvent>((handlers) =>
      facilitator.onA.poker.events.subscribe({ sessionId: other.id }, handlers),
    );
    await Promise.all([listener.ready, otherListener.ready]);

    const story = await facilitator.onB.poker.stories.add.mutate({ sessionId: session.id, title: 'Login' });
    expect(await listener.next()).toEqual({
      type: 'story_changed',
      sessionId: session.id,
      storyId: story.id,
      change: 'added',
    });
    const otherStory = await facilitator.onB.poker.stories.add.mutate({
      sessionId: other.id,
      title: 'Logout',
    });
    expect(await otherListener.next()).toMatchObject({ sessionId: other.id, storyId: otherStory.id });
    listener.stop();
    otherListener.stop();
  },

  'scrum.notifications.events': async () => {
    const [pm, dev, otherDev] = await Promise.all([
      scrumUser('nora', 'project_manager'),
      scrumUser('dan', 'developer'),
      scrumUser('dora', 'developer'),
    ]);
    const listener = collect<NotificationEvent>((handlers) =>
      dev.onA.scrum.notifications.events.subscribe(undefined, handlers),
    );
    const otherListener = collect<NotificationEvent>((handlers) =>
      otherDev.onA.scrum.notifications.events.subscribe(undefined, handlers),
    );
    await Promise.all([listener.ready, otherListener.ready]);

    const task = await pm.onB.scrum.tasks.create.mutate({
      title: 'Serve two processes',
      description: 'Behind a load balancer',
      assignedRole: 'developer',
      assignedUserId: dev.id,
      ...NEXT_YEARS,
    });
    expect(await listener.next()).toMatchObject({
      userId: dev.id,
      notification: { type: 'task_assigned', relatedTaskId: task.id },
    });
    await pm.onB.scrum.tasks.assign.mutate({
      taskId: task.id,
      assignedRole: 'developer',
      assignedUserId: otherDev.id,
    });
    expect(await otherListener.next()).toMatchObject({
      userId: otherDev.id,
      notification: { type: 'task_assigned', relatedTaskId: task.id },
    });
    listener.stop();
    otherListener.stop();
  },

  'scrum.chat.events': async () => {
    const [pm, dev, otherDev] = await Promise.all([
      scrumUser('pia', 'project_manager'),
      scrumUser('dirk', 'developer'),
      scrumUser('dina', 'developer'),
    ]);
    const listener = collect<ChatEvent>((handlers) => pm.onA.scrum.chat.events.subscribe({}, handlers));
    const otherListener = collect<ChatEvent>((handlers) =>
      otherDev.onA.scrum.chat.events.subscribe({}, handlers),
    );
    await Promise.all([listener.ready, otherListener.ready]);

    const message = await dev.onB.scrum.chat.sendDirect.mutate({ recipientId: pm.id, message: 'Deployed' });
    expect(await listener.next()).toEqual({ type: 'message_sent', message });
    const otherMessage = await dev.onB.scrum.chat.sendDirect.mutate({
      recipientId: otherDev.id,
      message: 'Your turn',
    });
    expect(await otherListener.next()).toEqual({ type: 'message_sent', message: otherMessage });
    listener.stop();
    otherListener.stop();
  },
};

describe('events: a write through one process reaches subscribers on the other', () => {
  it('covers every subscription procedure of every module', () => {
    const subscriptions = routerProcedures()
      .filter((procedure) => procedure.type === 'subscription')
      .map((procedure) => procedure.path);
    expect(subscriptions.sort()).toEqual(Object.keys(crossProcessEvents).sort());
  });

  for (const [path, run] of Object.entries(crossProcessEvents)) {
    it(`${path}: a subscriber on process A gets process B's write; one it is not for does not`, run);
  }

  it('the writes are in the database once each', async () => {
    expect(
      await sql(
        `select (select count(*)::int from poker.stories) as stories,
                (select count(*)::int from scrum.notifications where type = 'task_assigned') as assigned,
                (select count(*)::int from scrum.chat_messages) as messages`,
      ),
    ).toEqual([{ stories: 2, assigned: 2, messages: 2 }]);
  });
});

interface JobFiring {
  process: 'A' | 'B';
  job: string;
  scheduledFor: string;
  status: 'ran' | 'skipped' | 'failed';
}

/** The scheduler's log lines of a process (JSON on stderr): which job, which slot, and what became of it. */
function firings(api: ApiProcess, name: JobFiring['process']): JobFiring[] {
  return api
    .output()
    .split('\n')
    .slice(0, -1) // complete lines only: the last one may still be arriving
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { msg: string; job?: string; scheduledFor?: string; status?: string })
    .filter((line) => line.job !== undefined && line.msg.startsWith(`job ${line.job} `))
    .map((line) => ({
      process: name,
      job: line.job!,
      scheduledFor: line.scheduledFor!,
      status: (line.status ?? 'failed') as JobFiring['status'],
    }));
}

describe('module jobs: one run per schedule slot across both processes', () => {
  /** `<job> <slot>` → what the processes logged for it. */
  function firingsBySlot(): Map<string, JobFiring[]> {
    const slots = new Map<string, JobFiring[]>();
    for (const firing of [...firings(a, 'A'), ...firings(b, 'B')]) {
      const key = `${firing.job} ${firing.scheduledFor}`;
      slots.set(key, [...(slots.get(key) ?? []), firing]);
    }
    return slots;
  }
  /** The slots both processes logged: a process that started later missed the other's first slots. */
  const firedByBoth = () =>
    [...firingsBySlot()].filter(([, logged]) => new Set(logged.map((firing) => firing.process)).size === 2);

  it('every job: each slot ran in one process and was skipped by the other, and is one row of huddle.job_runs', async () => {
    // Slots come every second; two that both processes logged take about 3 s, more on a loaded machine.
    await eventually(() => {
      const jobsFiredByBoth = firedByBoth().map(([, [firing]]) => firing!.job);
      for (const { id } of jobs)
        expect(jobsFiredByBoth.filter((job) => job === id).length).toBeGreaterThanOrEqual(2);
    }, 15_000);

    // No firing failed, and no slot ran twice, not even one only a single process has logged yet.
    for (const [slot, logged] of firingsBySlot()) {
      const statuses = logged.map((firing) => firing.status);
      expect(statuses, slot).not.toContain('failed');
      expect(statuses.filter((status) => status === 'ran').length, slot).toBeLessThanOrEqual(1);
    }
    // A slot both processes logged, once each: one ran it, the other found it taken.
    const settled = firedByBoth();
    for (const [slot, logged] of settled) {
      expect(logged.map((firing) => firing.status).sort(), slot).toEqual(['ran', 'skipped']);
    }
    const recorded = new Set(
      (
        await sql<{ module: string; job: string; scheduled_for: Date }>(
          'select module, job, scheduled_for from huddle.job_runs',
        )
      ).map((row) => `${row.module}.${row.job} ${new Date(row.scheduled_for).toISOString()}`),
    );
    expect(settled.map(([slot]) => slot).filter((slot) => !recorded.has(slot))).toEqual([]);
  });
});

describe('sign-in limits: one counter across both processes', () => {
  async function pokerUserCount(): Promise<number> {
    const [row] = await sql<{ count: number }>('select count(*)::int as count from poker.users');
    return row!.count;
  }

  it('counts an identity’s attempts across processes, then the address’s, and a limited call creates nothing', async () => {
    const ann = { name: 'Ann', email: 'ann@example.com' };
    expect((await join(a.url, ann)).status).toBe(200);
    // Taken now: refused, but every attempt counts, whichever process answers it.
    expect((await join(b.url, ann)).status).toBe(409);
    expect((await join(a.url, ann)).status).toBe(409);
    expectLimited(await join(b.url, ann), 60);
    // The same identity however it is written.
    expectLimited(await join(a.url, { name: 'Ann', email: ' ANN@example.com' }), 60);

    // Five attempts from this address so far; guests (no email) count per address only.
    const users = await pokerUserCount();
    for (let n = 0; n < 5; n++)
      expect((await join(n % 2 ? b.url : a.url, { name: `Guest ${n}` })).status).toBe(200);
    expect(await pokerUserCount()).toBe(users + 5);
    expectLimited(await join(b.url, { name: 'One too many' }), 60);
    expectLimited(await join(a.url, { name: 'One too many' }), 60);
    expect(await pokerUserCount()).toBe(users + 5);
  });

  it('keeps its counters outside every module: migrate check stays clean and proposes no drop', async () => {
    const [row] = await sql<{ rows: number }>(
      'select count(*)::int as rows from huddle_api.sign_in_attempts',
    );
    expect(row!.rows).toBeGreaterThan(0);
    const checks = await migrationCheck(database.db);
    expect(checks.map(({ module, drift, ok }) => ({ module, drift, ok }))).toEqual(
      database.db.modules.map((module) => ({ module: module.name, drift: [], ok: true })),
    );
  });
});
