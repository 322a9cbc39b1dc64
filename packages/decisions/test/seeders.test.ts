import { ConflictError, type Database, openDatabase, seed } from '@huddle/db';
import { createTestDatabase, type TestDatabase, useTestDatabase } from '@huddle/testing';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { decisionsModule } from '../src/module.ts';
import { REALISTIC_PER_SCALE } from '../src/seeders/realistic.ts';
import { signIn } from '../src/services/users.ts';
import { expectHuddleError, inRequest, useSqlClient } from './helpers.ts';

const test = useTestDatabase([decisionsModule]);
const postgres = useSqlClient(test);
const TABLES = [
  'users',
  'projects',
  'project_members',
  'transcripts',
  'decisions',
  'decision_relationships',
] as const;

async function counts(on: pg.Client = postgres.client): Promise<Record<(typeof TABLES)[number], number>> {
  const result: Partial<Record<(typeof TABLES)[number], number>> = {};
  for (const table of TABLES) {
    const { rows } = await on.query<{ count: string }>(`select count(*) from decisions.${table}`);
    result[table] = Number(rows[0]!.count);
  }
  return result as Record<(typeof TABLES)[number], number>;
}

/** An md5 over every row a realistic seed wrote, keyed by natural keys (emails, names), not ids. */
async function realisticChecksum(on: pg.Client, seedNumber: number): Promise<string> {
  const { rows } = await on.query<{ checksum: string }>(
    `with u as (select * from decisions.users where email like $1),
     p as (select p.* from decisions.projects p join u on u.id = p.created_by),
     d as (select d.*, p.name || '#' || d.decided_at as key from decisions.decisions d join p on p.id = d.project_id),
     lines as (
       select row(u.email, u.name, u.role, u.password_hash, u.created_at)::text as line from u
       union all select row(p.name, p.description, p.archived_at, p.created_at)::text from p
       union all select row(p.name, u.email, m.role, m.joined_at)::text
         from decisions.project_members m join p on p.id = m.project_id join u on u.id = m.user_id
       union all select row(p.name, t.webhook_id, t.title, t.source, t.meeting_at, t.participants, t.content)::text
         from decisions.transcripts t join p on p.id = t.project_id
       union all select row(d.key, d.title, d.statement, d.rationale, d.status, d.confidence, d.impacts, d.consensus,
                            jsonb_array_length(d.anomalies), d.embedding::text, d.embedding_model)::text from d
       union all select row(f.key, t.key, r.kind, r.created_at)::text
         from decisions.decision_relationships r join d f on f.id = r.from_decision_id join d t on t.id = r.to_decision_id)
     select md5(string_agg(line, E'\\n' order by line)) as checksum from lines`,
    [`decisions-s${seedNumber}-%`],
  );
  return rows[0]!.checksum;
}

describe('minimal seeder', () => {
  it('writes exactly the spec’s users, projects and memberships, and a second run writes nothing', async () => {
    await seed(test.db, 'minimal');
    const snapshot = async () =>
      (
        await postgres.client.query(
          `select u.email, u.name, u.role, p.name as project, pc.email as created_by, m.role as membership, u.updated_at
           from decisions.users u join decisions.project_members m on m.user_id = u.id
           join decisions.projects p on p.id = m.project_id join decisions.users pc on pc.id = p.created_by
           order by p.name, u.email`,
        )
      ).rows;
    const first = { counts: await counts(), rows: await snapshot() };
    expect(first.counts).toEqual({
      users: 3,
      projects: 2,
      project_members: 4,
      transcripts: 0,
      decisions: 0,
      decision_relationships: 0,
    });
    expect(
      first.rows.map(({ email, name, role, project, created_by, membership }) => [
        project,
        email,
        name,
        role,
        created_by,
        membership,
      ]),
    ).toEqual([
      [
        'Test Project Alpha',
        'architect@example.com',
        'Test Architect',
        'architect',
        'test@example.com',
        'member',
      ],
      ['Test Project Alpha', 'member@example.com', 'Test Member', 'member', 'test@example.com', 'viewer'],
      ['Test Project Alpha', 'test@example.com', 'Test Director', 'director', 'test@example.com', 'owner'],
      ['Test Project Beta', 'test@example.com', 'Test Director', 'director', 'test@example.com', 'owner'],
    ]);
    await seed(test.db, 'minimal');
    expect({ counts: await counts(), rows: await snapshot() }).toEqual(first);
  });

  it('lets every sample user sign in with "password"', async () => {
    for (const email of ['test@example.com', 'architect@example.com', 'member@example.com']) {
      const user = await inRequest(test.db, (em) => signIn(em, { email, password: 'password' }));
      expect(user.email).toBe(email);
    }
  });
});

describe('realistic seeder', () => {
  const others: { database: TestDatabase; db: Database; client: pg.Client }[] = [];
  afterAll(async () => {
    for (const other of others) {
      await other.client.end();
      await other.db.close();
      await other.database.drop();
    }
  });

  it('writes scale × the planned rows, in every status, with embeddings and supersede chains 3–5 deep', async () => {
    const before = await counts();
    await seed(test.db, 'realistic', { scale: 1, seed: 7 });
    const after = await counts();
    expect(after.users - before.users).toBe(REALISTIC_PER_SCALE.users);
    expect(after.projects - before.projects).toBe(REALISTIC_PER_SCALE.projects);
    expect(after.transcripts - before.transcripts).toBe(
      REALISTIC_PER_SCALE.projects * REALISTIC_PER_SCALE.transcriptsPerProject,
    );
    expect(after.decisions - before.decisions).toBe(
      REALISTIC_PER_SCALE.projects * REALISTIC_PER_SCALE.decisionsPerProject,
    );
    const { rows: statuses } = await postgres.client.query(
      `select status, count(*)::int as n, count(embedding)::int as embedded from decisions.decisions group by status order by status`,
    );
    expect(statuses.map((row) => row.status)).toEqual([
      'accepted',
      'deprecated',
      'proposed',
      'rejected',
      'superseded',
    ]);
    expect(statuses.every((row) => row.n === row.embedded)).toBe(true);
    const { rows: depth } = await postgres.client.query(
      `with recursive chain(id, depth) as (
         select d.id, 1 from decisions.decisions d where not exists
           (select 1 from decisions.decision_relationships r where r.from_decision_id = d.id and r.kind = 'supersedes')
         union all
         select r.from_decision_id, chain.depth + 1 from decisions.decision_relationships r join chain on r.to_decision_id = chain.id
         where r.kind = 'supersedes')
       select max(depth) as deepest from chain`,
    );
    expect(depth[0].deepest).toBeGreaterThanOrEqual(3);
    const { rows: anomalies } = await postgres.client.query(
      `select count(*)::int as n from decisions.decisions d, jsonb_array_elements(d.anomalies) a
       where not exists (select 1 from decisions.decisions o where o.id = (a->>'decisionId')::int and o.status = 'accepted')`,
    );
    expect(anomalies[0].n).toBe(0);
    await expectHuddleError(seed(test.db, 'realistic', { scale: 1, seed: 7 }), ConflictError);
  });

  it('writes the same rows for the same seed into another database', async () => {
    const database = await createTestDatabase();
    const db = await openDatabase({
      modules: [decisionsModule],
      target: { kind: 'postgresql', url: database.url, poolMax: 2 },
    });
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    others.push({ database, db, client });
    await seed(db, 'realistic', { scale: 1, seed: 7 });
    expect(await realisticChecksum(client, 7)).toBe(await realisticChecksum(postgres.client, 7));
    await seed(db, 'realistic', { scale: 1, seed: 8 });
    expect(await realisticChecksum(client, 8)).not.toBe(await realisticChecksum(client, 7));
  });
});
