import { ConflictError, type Database, openDatabase, runJob, seed } from '@huddle/db';
import { createTestDatabase, type TestDatabase, useTestDatabase } from '@huddle/testing';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { scrumModule } from '../src/module.ts';
import { REALISTIC_PER_SCALE } from '../src/seeders/realistic.ts';
import { expectHuddleError, useSqlClient } from './helpers.ts';

const test = useTestDatabase([scrumModule]);
const postgres = useSqlClient(test);

const TABLES = ['users', 'tasks', 'notifications', 'chat_messages', 'triage_items'] as const;
type Counts = Record<(typeof TABLES)[number], number>;

async function counts(on: pg.Client = postgres.client): Promise<Counts> {
  const result = await on.query<Counts>(
    `select ${TABLES.map((table) => `(select count(*)::int from scrum.${table}) as ${table}`).join(', ')}`,
  );
  return result.rows[0]!;
}

/**
 * An md5 over every row a realistic seed wrote, keyed by GitHub ids instead of serial ids, so databases with
 * other rows before it still compare equal.
 */
async function realisticChecksum(on: pg.Client, seedNumber: number): Promise<string> {
  const result = await on.query<{ checksum: string }>(
    `with u as (select * from scrum.users where github_id like $1),
     t as (select t.*, c.github_id || '/' || t.created_at || '/' || t.title as key
           from scrum.tasks t join u c on c.id = t.created_by_id),
     lines as (
       select row(u.github_id, u.username, u.email, u.role, u.is_active, u.created_at)::text as line from u
       union all select row(t.key, a.github_id, t.status, t.assigned_role, t.start_date, t.end_date, t.completed_at,
                            t.is_delayed, t.epic_id, t.story_id, t.priority)::text
         from t left join u a on a.id = t.assigned_user_id
       union all select row(u.github_id, n.type, n.title, n.message, t.key, n.is_read, n.created_at, n.read_at)::text
         from scrum.notifications n join u on u.id = n.user_id left join t on t.id = n.related_task_id
       union all select row(s.github_id, r.github_id, m.channel, m.message, m.message_type, m.file_url, m.created_at)::text
         from scrum.chat_messages m join u s on s.id = m.sender_id left join u r on r.id = m.recipient_id
       union all select row(rp.github_id, i.title, i.status, a.github_id, i.priority, i.resolved_at, t.key, i.created_at)::text
         from scrum.triage_items i join u rp on rp.id = i.reporter_id left join u a on a.id = i.assigned_to
         left join t on t.id = i.task_id)
     select md5(string_agg(line, E'\\n' order by line)) as checksum from lines`,
    [`scrum-s${seedNumber}-%`],
  );
  return result.rows[0]!.checksum;
}

describe('minimal seeder', () => {
  it('writes the seed’s dev1, pm1 and admin1 and its sample task; a second run writes nothing', async () => {
    await seed(test.db, 'minimal');
    const snapshot = async () =>
      (
        await postgres.client.query(
          `select u.github_id, u.username, u.role, u.is_active, t.title, t.description, t.assigned_role, t.status,
                  t.start_date, t.end_date, t.updated_at
           from scrum.users u left join scrum.tasks t on t.created_by_id = u.id order by u.id`,
        )
      ).rows;
    const first = { counts: await counts(), rows: await snapshot() };
    expect(first.counts).toEqual({ users: 3, tasks: 1, notifications: 0, chat_messages: 0, triage_items: 0 });
    expect(first.rows.map((row) => [row.github_id, row.username, row.role])).toEqual([
      ['dev1', 'developer1', 'developer'],
      ['pm1', 'projectmanager1', 'project_manager'],
      ['admin1', 'admin', 'admin'],
    ]);
    expect(first.rows[1]).toMatchObject({
      title: 'Implement user authentication',
      description: 'Set up GitHub OAuth integration',
      assigned_role: 'developer',
      status: 'todo',
      start_date: new Date('2025-09-25T00:00:00Z'),
      end_date: new Date('2025-09-30T00:00:00Z'),
    });
    await seed(test.db, 'minimal');
    expect({ counts: await counts(), rows: await snapshot() }).toEqual(first);
  });
});

describe('realistic seeder', () => {
  let other: { testDatabase: TestDatabase; db: Database; client: pg.Client } | undefined;
  afterAll(async () => {
    await other?.client.end();
    await other?.db.close();
    await other?.testDatabase.drop();
  });

  it('writes scale × its rows beside the minimal data, in every state, reporting progress', async () => {
    const before = await counts();
    const progress: [string, number, number][] = [];
    await seed(test.db, 'realistic', {
      scale: 2,
      seed: 42,
      progress: (_module, table, written, total) => progress.push([table, written, total]),
    });
    const after = await counts();
    expect({
      users: after.users - before.users,
      tasks: after.tasks - before.tasks,
      notifications: after.notifications - before.notifications,
      chat_messages: after.chat_messages - before.chat_messages,
      triage_items: after.triage_items - before.triage_items,
    }).toEqual({
      users: 2 * REALISTIC_PER_SCALE.users,
      tasks: 2 * REALISTIC_PER_SCALE.tasks,
      notifications: 2 * REALISTIC_PER_SCALE.notifications,
      chat_messages: 2 * REALISTIC_PER_SCALE.chatMessages,
      triage_items: 2 * REALISTIC_PER_SCALE.triageItems,
    });
    for (const table of TABLES) {
      expect(progress.filter(([name]) => name === `scrum.${table}`).at(-1)?.[1], table).toBe(
        after[table] - before[table],
      );
    }
    const variety = await postgres.client.query(
      `select (select array_agg(distinct role order by role) from scrum.users) as roles,
              (select array_agg(distinct status order by status) from scrum.tasks) as task_statuses,
              (select count(*)::int from scrum.tasks where is_delayed) > 0 as some_delayed,
              (select array_agg(distinct is_read order by is_read) from scrum.notifications) as read_states,
              (select count(distinct date_trunc('month', created_at))::int from scrum.notifications) > 6 as months,
              (select count(*)::int from scrum.chat_messages where recipient_id is null) > 0 as channel_traffic,
              (select count(*)::int from scrum.chat_messages where recipient_id is not null) > 0 as direct_messages,
              (select array_agg(distinct status order by status) from scrum.triage_items) as triage_statuses,
              (select count(*)::int from scrum.triage_items where task_id is not null) > 0 as promoted`,
    );
    expect(variety.rows[0]).toEqual({
      roles: ['admin', 'designer', 'developer', 'project_manager', 'tester'],
      task_statuses: ['done', 'in_progress', 'todo'],
      some_delayed: true,
      read_states: [false, true],
      months: true,
      channel_traffic: true,
      direct_messages: true,
      triage_statuses: ['in_review', 'pending', 'rejected', 'resolved'],
      promoted: true,
    });
  });

  it('is deterministic per seed: another database seeded alike holds the same rows', async () => {
    const testDatabase = await createTestDatabase();
    const db = await openDatabase({
      modules: [scrumModule],
      target: { kind: 'postgresql', url: testDatabase.url, poolMax: 2 },
    });
    const client = new pg.Client({ connectionString: testDatabase.url });
    other = { testDatabase, db, client };
    await client.connect();
    await seed(db, 'realistic', { scale: 2, seed: 42 });
    expect(await realisticChecksum(client, 42)).toBe(await realisticChecksum(postgres.client, 42));
    await seed(db, 'realistic', { scale: 2, seed: 43 });
    expect(await realisticChecksum(client, 43)).not.toBe(await realisticChecksum(client, 42));
  });

  it('refuses to seed the same seed and scale twice, and leaves its flags as detect-delays would', async () => {
    await expectHuddleError(seed(test.db, 'realistic', { scale: 2, seed: 42 }), ConflictError);
    const run = await runJob(test.db, 'scrum.detect-delays', {
      now: new Date(Date.UTC(2026, 0, 5, 9) + 300 * 86_400_000),
    });
    // The one task flagged is the minimal seed's sample task (it ended 2025-09-30): none of the realistic ones.
    expect(run).toMatchObject({
      summary: expect.stringMatching(/^1 tasks marked delayed, .*, 0 tasks no longer delayed$/),
    });
    const flagged = await postgres.client.query(
      `select t.title from scrum.tasks t join scrum.notifications n on n.related_task_id = t.id and n.type = 'task_delayed'
       where n.message like '%is past its end date.' group by t.title`,
    );
    expect(flagged.rows).toEqual([{ title: 'Implement user authentication' }]);
  });
});
