import { createTestDatabase, type TestDatabase } from '@huddle/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { huddleOk } from './data.ts';
import { huddle } from './helpers.ts';

let database: TestDatabase;
let env: NodeJS.ProcessEnv;

async function query<Row>(sql: string): Promise<Row[]> {
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    return (await client.query(sql)).rows as Row[];
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  database = await createTestDatabase();
  env = { DATABASE_URL: database.url };
  await huddleOk(['seed', 'minimal', '--module', 'scrum'], env);
  // The seed's sample task, overdue: its end date a week ago, not done.
  await query(
    "update scrum.tasks set start_date = now() - interval '14 days', end_date = now() - interval '7 days', status = 'in_progress'",
  );
});
afterAll(() => database?.drop());

const delayedNotifications = async () =>
  (
    await query<{ count: number }>(
      "select count(*)::int as count from scrum.notifications where type = 'task_delayed'",
    )
  )[0]!.count;

describe('huddle jobs', () => {
  it('lists every module’s jobs with their schedules, without opening a database', async () => {
    const listed = JSON.parse(
      await huddleOk(['jobs', 'list', '--json'], { DATABASE_URL: 'postgres://u@127.0.0.1:1/x' }),
    ) as { id: string; schedule: string }[];
    expect(listed.map((job) => job.id)).toEqual(
      expect.arrayContaining(['scrum.detect-delays', 'scrum.cleanup-notifications', 'decisions.reembed']),
    );
  });

  it('runs scrum.detect-delays on demand; a second run notifies nobody again', async () => {
    expect(await delayedNotifications()).toBe(0);
    const first = JSON.parse(await huddleOk(['jobs', 'run', 'scrum.detect-delays', '--json'], env)) as {
      status: string;
      rows: number;
    };
    expect(first.status).toBe('ran');
    expect(first.rows).toBeGreaterThan(0);
    expect(await delayedNotifications()).toBe(1);
    await huddleOk(['jobs', 'run', 'scrum.detect-delays'], env);
    expect(await delayedNotifications()).toBe(1);
    expect(await query('select is_delayed from scrum.tasks')).toEqual([{ is_delayed: true }]);
  });

  it('names an unknown job in one line, with the known ones', async () => {
    const result = await huddle(['jobs', 'run', 'scrum.nope'], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^huddle: job: unknown job "scrum\.nope" \(known: .*scrum\.detect-delays.*\)\n$/,
    );
  });
});
