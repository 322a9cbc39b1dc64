import { ConflictError, type Database, openDatabase, seed } from '@huddle/db';
import { createTestDatabase, type TestDatabase, useTestDatabase } from '@huddle/testing';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { pokerModule } from '../src/module.ts';
import { REALISTIC_PER_SCALE } from '../src/seeders/realistic.ts';
import { expectHuddleError, useSqlClient } from './helpers.ts';

const test = useTestDatabase([pokerModule]);
const postgres = useSqlClient(test);

const TABLES = ['users', 'sessions', 'session_participants', 'stories', 'votes'] as const;

async function counts(): Promise<Record<(typeof TABLES)[number], number>> {
  const result: Partial<Record<(typeof TABLES)[number], number>> = {};
  for (const table of TABLES) {
    const { rows } = await postgres.client.query<{ count: string }>(`select count(*) from poker.${table}`);
    result[table] = Number(rows[0]!.count);
  }
  return result as Record<(typeof TABLES)[number], number>;
}

/**
 * An md5 over every row a realistic seed wrote, keyed by natural keys (emails, a session's facilitator and
 * start, a story's order) instead of ids, so databases with other rows before it still compare equal.
 */
async function realisticChecksum(on: pg.Client, seedNumber: number): Promise<string> {
  const result = await on.query<{ checksum: string }>(
    `with u as (select * from poker.users where email like $1),
     s as (select s.*, u.email || '/' || s.created_at as key from poker.sessions s join u on u.id = s.facilitator_id),
     st as (select st.*, s.key || '#' || st.story_order as key from poker.stories st join s on s.id = st.session_id),
     lines as (
       select row(u.name, u.email, u.created_at, u.last_active)::text as line from u
       union all select row(s.key, s.name, s.status, s.updated_at)::text from s
       union all select row(s.key, u.email, p.is_spectator, p.joined_at)::text
         from poker.session_participants p join s on s.id = p.session_id join u on u.id = p.user_id
       union all select row(st.key, st.title, st.description, st.status, st.final_points, st.revealed_at,
                            st.created_at)::text from st
       union all select row(st.key, u.email, v.points, v.created_at)::text
         from poker.votes v join st on st.id = v.story_id join u on u.id = v.user_id)
     select md5(string_agg(line, E'\\n' order by line)) as checksum, count(*) from lines`,
    [`poker-s${seedNumber}-%`],
  );
  return result.rows[0]!.checksum;
}

describe('minimal seeder', () => {
  it('writes the seed’s users and a demo session, and a second run changes nothing', async () => {
    await seed(test.db, 'minimal');
    const snapshot = async () =>
      (
        await postgres.client.query(
          `select u.*, s.name as session, s.updated_at, st.title, st.story_order, p.is_spectator
           from poker.users u join poker.session_participants p on p.user_id = u.id
           join poker.sessions s on s.id = p.session_id join poker.stories st on st.session_id = s.id
           order by u.id, st.story_order`,
        )
      ).rows;
    const first = { counts: await counts(), rows: await snapshot() };
    expect(first.counts).toEqual({ users: 3, sessions: 1, session_participants: 3, stories: 3, votes: 0 });
    const users = await postgres.client.query('select name, email from poker.users order by id');
    expect(users.rows).toEqual([
      { name: 'Test Facilitator', email: 'facilitator@example.com' },
      { name: 'Test Member 1', email: 'member1@example.com' },
      { name: 'Test Member 2', email: 'member2@example.com' },
    ]);
    const session = await postgres.client.query(
      `select s.name, u.email from poker.sessions s join poker.users u on u.id = s.facilitator_id`,
    );
    expect(session.rows).toEqual([{ name: 'Demo planning session', email: 'facilitator@example.com' }]);

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

  it('writes scale × (20 users, 10 sessions, 200 stories) beside the minimal data, reporting progress', async () => {
    const before = await counts();
    const progress: [string, number, number][] = [];
    const [result] = await seed(test.db, 'realistic', {
      scale: 1,
      seed: 42,
      progress: (_module, table, written, total) => progress.push([table, written, total]),
    });
    const after = await counts();
    expect(after.users - before.users).toBe(REALISTIC_PER_SCALE.users);
    expect(after.sessions - before.sessions).toBe(REALISTIC_PER_SCALE.sessions);
    expect(after.stories - before.stories).toBe(
      REALISTIC_PER_SCALE.sessions * REALISTIC_PER_SCALE.storiesPerSession,
    );
    for (const table of TABLES) {
      const reported = progress.filter(([name]) => name === `poker.${table}`);
      expect(reported.at(-1), table).toEqual([
        `poker.${table}`,
        after[table] - before[table],
        after[table] - before[table],
      ]);
    }
    expect(result?.rows['poker.votes']).toBe(after.votes - before.votes);

    // Votes come from most voting participants of the stories that were voted on, and from nobody else.
    const coverage = await postgres.client.query<{ votes: string; possible: string; strangers: string }>(
      `select (select count(*) from poker.votes) as votes,
              (select count(*) from poker.stories st join poker.session_participants p
                 on p.session_id = st.session_id and not p.is_spectator where st.status <> 'pending') as possible,
              (select count(*) from poker.votes v join poker.stories st on st.id = v.story_id
                 left join poker.session_participants p on p.session_id = st.session_id and p.user_id = v.user_id
               where p.id is null or p.is_spectator) as strangers`,
    );
    const { votes, possible, strangers } = coverage.rows[0]!;
    expect(Number(strangers)).toBe(0);
    expect(Number(votes) / Number(possible)).toBeGreaterThan(0.7);
  });

  it('is deterministic: the same seed writes the same rows into another database, another seed does not', async () => {
    const testDatabase = await createTestDatabase();
    const db = await openDatabase({
      modules: [pokerModule],
      target: { kind: 'postgresql', url: testDatabase.url, poolMax: 2 },
    });
    const otherClient = new pg.Client({ connectionString: testDatabase.url });
    await otherClient.connect();
    other = { testDatabase, db, client: otherClient };

    await seed(db, 'realistic', { scale: 1, seed: 42 });
    await seed(db, 'realistic', { scale: 1, seed: 43 });
    await seed(test.db, 'realistic', { scale: 1, seed: 43 });

    expect(await realisticChecksum(otherClient, 42)).toBe(await realisticChecksum(postgres.client, 42));
    expect(await realisticChecksum(otherClient, 43)).toBe(await realisticChecksum(postgres.client, 43));
    expect(await realisticChecksum(postgres.client, 42)).not.toBe(
      await realisticChecksum(postgres.client, 43),
    );
  });

  it('refuses to write the same seed and scale twice, and leaves the database as it was', async () => {
    const before = await counts();
    await expectHuddleError(seed(test.db, 'realistic', { scale: 1, seed: 42 }), ConflictError);
    expect(await counts()).toEqual(before);
  });
});
