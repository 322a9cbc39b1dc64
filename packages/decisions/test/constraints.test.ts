import { useTestDatabase } from '@huddle/testing';
import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { decisionsModule } from '../src/module.ts';
import { UNUSED_PASSWORD_HASH, useSqlClient } from './helpers.ts';

/**
 * Every CHECK, UNIQUE, NOT NULL, foreign key, cascade and `set null` of the spec: the database itself
 * refuses the bad row (named by its constraint), whatever the services do.
 */
const test = useTestDatabase([decisionsModule]);
const postgres = useSqlClient(test);
const ids = { user: 0, project: 0, transcript: 0, decision: 0, other: 0 };

async function insert(sql: string, params: unknown[] = []): Promise<number> {
  const result = await postgres.client.query<{ id: number }>(`${sql} returning id`, params);
  return result.rows[0]!.id;
}

async function count(sql: string, params: unknown[] = []): Promise<number> {
  const result = await postgres.client.query<{ count: string }>(`select count(*) from ${sql}`, params);
  return Number(result.rows[0]!.count);
}

async function refusal(sql: string): Promise<pg.DatabaseError> {
  const error = await postgres.client.query(sql).then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!(error instanceof pg.DatabaseError)) throw new Error(`expected the database to refuse: ${sql}`);
  return error;
}

const newUser = (email: string) =>
  insert(`insert into decisions.users (email, name, password_hash) values ($1, 'U', $2)`, [
    email,
    UNUSED_PASSWORD_HASH,
  ]);
const newProject = (name: string, createdBy: number) =>
  insert(`insert into decisions.projects (name, created_by) values ($1, $2)`, [name, createdBy]);
let decisionsMade = 0;
// Titles of their own: a project holds one live proposal from transcripts per title.
const newDecision = (projectId: number, transcriptId: number | null = null) =>
  insert(
    `insert into decisions.decisions (project_id, transcript_id, title, statement, confidence)
     values ($1, $2, $3, 'S', 0.5)`,
    [projectId, transcriptId, `T${++decisionsMade}`],
  );

beforeAll(async () => {
  ids.user = await newUser('base@c.test');
  ids.project = await newProject('Base', ids.user);
  ids.transcript = await insert(
    `insert into decisions.transcripts (project_id, title, meeting_at, content) values ($1, 'M', now(), 'c')`,
    [ids.project],
  );
  ids.decision = await newDecision(ids.project, ids.transcript);
  ids.other = await newDecision(ids.project);
});

const withIds = (sql: string) => sql.replace(/\{(\w+)\}/g, (_, key: keyof typeof ids) => String(ids[key]));
const H = `'${UNUSED_PASSWORD_HASH}'`;

interface RefusedRow {
  rule: string;
  sql: string;
  code: '22000' | '22003' | '23502' | '23503' | '23505' | '23514';
  constraint?: string;
  column?: string;
}

const refusedRows: RefusedRow[] = [
  {
    rule: 'users.email NOT NULL',
    sql: `insert into decisions.users (name, password_hash) values ('N', ${H})`,
    code: '23502',
    column: 'email',
  },
  {
    rule: 'users.name NOT NULL',
    sql: `insert into decisions.users (email, password_hash) values ('n@c.test', ${H})`,
    code: '23502',
    column: 'name',
  },
  {
    rule: 'users.password_hash NOT NULL',
    sql: `insert into decisions.users (email, name) values ('n@c.test', 'N')`,
    code: '23502',
    column: 'password_hash',
  },
  {
    rule: 'users_role_check',
    sql: `insert into decisions.users (email, name, password_hash, role) values ('r@c.test', 'R', ${H}, 'admin')`,
    code: '23514',
    constraint: 'users_role_check',
  },
  {
    rule: 'users_email_active_unique (another case)',
    sql: `insert into decisions.users (email, name, password_hash) values ('BASE@C.TEST', 'Dup', ${H})`,
    code: '23505',
    constraint: 'users_email_active_unique',
  },
  {
    rule: 'projects.name NOT NULL',
    sql: `insert into decisions.projects (created_by) values ({user})`,
    code: '23502',
    column: 'name',
  },
  {
    rule: 'projects.created_by NOT NULL',
    sql: `insert into decisions.projects (name) values ('No creator')`,
    code: '23502',
    column: 'created_by',
  },
  {
    rule: 'projects.created_by → users',
    sql: `insert into decisions.projects (name, created_by) values ('Ghost', 999999)`,
    code: '23503',
    constraint: 'projects_created_by_foreign',
  },
  {
    rule: 'projects_name_live_unique (another case)',
    sql: `insert into decisions.projects (name, created_by) values ('BASE', {user})`,
    code: '23505',
    constraint: 'projects_name_live_unique',
  },
  {
    rule: 'project_members_role_check',
    sql: `insert into decisions.project_members (project_id, user_id, role) values ({project}, {user}, 'admin')`,
    code: '23514',
    constraint: 'project_members_role_check',
  },
  {
    rule: 'project_members.project_id → projects',
    sql: `insert into decisions.project_members (project_id, user_id) values (999999, {user})`,
    code: '23503',
    constraint: 'project_members_project_id_foreign',
  },
  {
    rule: 'project_members.user_id → users',
    sql: `insert into decisions.project_members (project_id, user_id) values ({project}, 999999)`,
    code: '23503',
    constraint: 'project_members_user_id_foreign',
  },
  {
    rule: 'transcripts.meeting_at NOT NULL',
    sql: `insert into decisions.transcripts (project_id, title, content) values ({project}, 'M', 'c')`,
    code: '23502',
    column: 'meeting_at',
  },
  {
    rule: 'transcripts.content NOT NULL',
    sql: `insert into decisions.transcripts (project_id, title, meeting_at) values ({project}, 'M', now())`,
    code: '23502',
    column: 'content',
  },
  {
    rule: 'transcripts_source_check',
    sql: `insert into decisions.transcripts (project_id, title, meeting_at, content, source) values ({project}, 'M', now(), 'c', 'email')`,
    code: '23514',
    constraint: 'transcripts_source_check',
  },
  {
    rule: 'transcripts_participants_check',
    sql: `insert into decisions.transcripts (project_id, title, meeting_at, content, participants) values ({project}, 'M', now(), 'c', '{"name": "Ann"}')`,
    code: '23514',
    constraint: 'transcripts_participants_check',
  },
  {
    rule: 'transcripts.project_id → projects',
    sql: `insert into decisions.transcripts (project_id, title, meeting_at, content) values (999999, 'M', now(), 'c')`,
    code: '23503',
    constraint: 'transcripts_project_id_foreign',
  },
  {
    rule: 'decisions.statement NOT NULL',
    sql: `insert into decisions.decisions (project_id, title, confidence) values ({project}, 'T', 0.5)`,
    code: '23502',
    column: 'statement',
  },
  {
    rule: 'decisions.confidence NOT NULL',
    sql: `insert into decisions.decisions (project_id, title, statement) values ({project}, 'T', 'S')`,
    code: '23502',
    column: 'confidence',
  },
  {
    rule: 'decisions_status_check',
    sql: `insert into decisions.decisions (project_id, title, statement, confidence, status) values ({project}, 'T', 'S', 0.5, 'maybe')`,
    code: '23514',
    constraint: 'decisions_status_check',
  },
  {
    rule: 'decisions_confidence_check (above 1)',
    sql: `insert into decisions.decisions (project_id, title, statement, confidence) values ({project}, 'T', 'S', 1.01)`,
    code: '23514',
    constraint: 'decisions_confidence_check',
  },
  {
    rule: 'decisions_confidence_check (below 0)',
    sql: `insert into decisions.decisions (project_id, title, statement, confidence) values ({project}, 'T', 'S', -0.01)`,
    code: '23514',
    constraint: 'decisions_confidence_check',
  },
  {
    rule: 'decisions.confidence numeric(3,2)',
    sql: `insert into decisions.decisions (project_id, title, statement, confidence) values ({project}, 'T', 'S', 10)`,
    code: '22003',
  },
  {
    rule: 'decisions.embedding vector(384) refuses 3 dimensions',
    sql: `insert into decisions.decisions (project_id, title, statement, confidence, embedding) values ({project}, 'T', 'S', 0.5, '[1,2,3]')`,
    code: '22000',
  },
  {
    rule: 'decisions.project_id → projects',
    sql: `insert into decisions.decisions (project_id, title, statement, confidence) values (999999, 'T', 'S', 0.5)`,
    code: '23503',
    constraint: 'decisions_project_id_foreign',
  },
  {
    rule: 'decisions.transcript_id → transcripts',
    sql: `insert into decisions.decisions (project_id, transcript_id, title, statement, confidence) values ({project}, 999999, 'Ghost', 'S', 0.5)`,
    code: '23503',
    constraint: 'decisions_transcript_id_foreign',
  },
  {
    rule: 'decision_relationships.kind NOT NULL',
    sql: `insert into decisions.decision_relationships (from_decision_id, to_decision_id) values ({decision}, {other})`,
    code: '23502',
    column: 'kind',
  },
  {
    rule: 'decision_relationships_kind_check',
    sql: `insert into decisions.decision_relationships (from_decision_id, to_decision_id, kind) values ({decision}, {other}, 'blocks')`,
    code: '23514',
    constraint: 'decision_relationships_kind_check',
  },
  {
    rule: 'decision_relationships_not_self',
    sql: `insert into decisions.decision_relationships (from_decision_id, to_decision_id, kind) values ({decision}, {decision}, 'amends')`,
    code: '23514',
    constraint: 'decision_relationships_not_self',
  },
  {
    rule: 'decision_relationships.from_decision_id → decisions',
    sql: `insert into decisions.decision_relationships (from_decision_id, to_decision_id, kind) values (999999, {other}, 'amends')`,
    code: '23503',
    constraint: 'decision_relationships_from_decision_id_foreign',
  },
  {
    rule: 'decision_relationships.to_decision_id → decisions',
    sql: `insert into decisions.decision_relationships (from_decision_id, to_decision_id, kind) values ({decision}, 999999, 'amends')`,
    code: '23503',
    constraint: 'decision_relationships_to_decision_id_foreign',
  },
  {
    rule: 'decision_relationships.created_by → users',
    sql: `insert into decisions.decision_relationships (from_decision_id, to_decision_id, kind, created_by) values ({decision}, {other}, 'amends', 999999)`,
    code: '23503',
    constraint: 'decision_relationships_created_by_foreign',
  },
];

describe('the database refuses rows that break the spec', () => {
  it.each(refusedRows)('$rule', async ({ sql, code, constraint, column }) => {
    const error = await refusal(withIds(sql));
    expect(error.code).toBe(code);
    if (constraint) expect(error.constraint).toBe(constraint);
    if (column) expect(error.column).toBe(column);
  });

  it('refuses a duplicate membership, webhook delivery and relationship by their unique keys', async () => {
    await postgres.client.query(
      withIds(`insert into decisions.project_members (project_id, user_id) values ({project}, {user})`),
    );
    expect(
      (
        await refusal(
          withIds(`insert into decisions.project_members (project_id, user_id) values ({project}, {user})`),
        )
      ).constraint,
    ).toBe('project_members_pkey');
    const webhook = withIds(
      `insert into decisions.transcripts (project_id, webhook_id, title, meeting_at, content, source) values ({project}, 'delivery-1', 'W', now(), 'c', 'webhook')`,
    );
    await postgres.client.query(webhook);
    expect((await refusal(webhook)).constraint).toBe('transcripts_webhook_id_unique');
    const link = withIds(
      `insert into decisions.decision_relationships (from_decision_id, to_decision_id, kind) values ({decision}, {other}, 'relates_to')`,
    );
    await postgres.client.query(link);
    expect((await refusal(link)).constraint).toBe(
      'decision_relationships_from_decision_id_to_decision_id_kind_key',
    );
    // The same pair with another kind, and the reverse direction, are different links.
    await postgres.client.query(
      withIds(
        `insert into decisions.decision_relationships (from_decision_id, to_decision_id, kind) values ({decision}, {other}, 'amends'), ({other}, {decision}, 'relates_to')`,
      ),
    );
  });
});

describe('the database holds proposals from transcripts to one per title (issue 25)', () => {
  it('refuses a second live proposal with the same title as compared, in any case, spacing or punctuation', async () => {
    const decision = (title: string, transcript: string, status: string) =>
      withIds(
        `insert into decisions.decisions (project_id, transcript_id, title, statement, confidence, status) values ({project}, ${transcript}, '${title}', 'S', 0.5, '${status}')`,
      );
    await postgres.client.query(decision('Adopt Kafka.', '{transcript}', 'proposed'));
    expect((await refusal(decision('adopt  KAFKA', '{transcript}', 'proposed'))).constraint).toBe(
      'decisions_proposal_title_key_unique',
    );
    // Decided, written without a transcript, or deleted: not a live proposal from a transcript.
    await postgres.client.query(decision('Adopt Kafka', '{transcript}', 'accepted'));
    await postgres.client.query(decision('Adopt Kafka', 'null', 'proposed'));
    await postgres.client.query(
      withIds(
        `update decisions.decisions set deleted_at = now() where project_id = {project} and title = 'Adopt Kafka.'`,
      ),
    );
    await postgres.client.query(decision('ADOPT KAFKA', '{transcript}', 'proposed'));
  });
});

describe('the database applies the spec’s defaults and rules', () => {
  it('fills the defaults: member role, proposed status, empty JSONB, manual source, timestamps', async () => {
    const { rows: users } = await postgres.client.query(
      `select role, created_at, updated_at, deleted_at from decisions.users where id = $1`,
      [ids.user],
    );
    expect(users[0]).toMatchObject({ role: 'member', deleted_at: null });
    const { rows: decisions } = await postgres.client.query(
      `select status, impacts, consensus, anomalies, embedding, decided_at is not null as decided, deleted_at from decisions.decisions where id = $1`,
      [ids.decision],
    );
    expect(decisions[0]).toEqual({
      status: 'proposed',
      impacts: [],
      consensus: {},
      anomalies: [],
      embedding: null,
      decided: true,
      deleted_at: null,
    });
    const { rows: transcripts } = await postgres.client.query(
      `select source, participants, webhook_id from decisions.transcripts where id = $1`,
      [ids.transcript],
    );
    expect(transcripts[0]).toEqual({ source: 'manual', participants: [], webhook_id: null });
    const { rows: members } = await postgres.client.query(
      `select role, joined_at is not null as joined from decisions.project_members where project_id = $1`,
      [ids.project],
    );
    expect(members[0]).toEqual({ role: 'member', joined: true });
  });

  it('keeps updated_at current on update (users, projects, decisions)', async () => {
    for (const [table, id] of [
      ['users', ids.user],
      ['projects', ids.project],
      ['decisions', ids.decision],
    ] as const) {
      await postgres.client.query(`update decisions.${table} set updated_at = '2020-01-01' where id = $1`, [
        id,
      ]);
      await postgres.client.query(`update decisions.${table} set created_at = created_at where id = $1`, [
        id,
      ]);
      const { rows } = await postgres.client.query(
        `select updated_at > '2021-01-01' as touched from decisions.${table} where id = $1`,
        [id],
      );
      expect(rows[0]).toEqual({ touched: true });
    }
  });

  it('accepts a 384-dimension embedding', async () => {
    const vector = `[${Array.from({ length: 384 }, (_, index) => (index === 0 ? 1 : 0)).join(',')}]`;
    await postgres.client.query(`update decisions.decisions set embedding = $1 where id = $2`, [
      vector,
      ids.other,
    ]);
    expect(
      await count(`decisions.decisions where id = $1 and vector_dims(embedding) = 384`, [ids.other]),
    ).toBe(1);
  });

  it('lets a soft-deleted user’s email and an archived project’s name be used again, in any case', async () => {
    const first = await newUser('again@c.test');
    await postgres.client.query(`update decisions.users set deleted_at = now() where id = $1`, [first]);
    const second = await newUser('AGAIN@c.test');
    expect(second).not.toBe(first);
    // …but restoring the first while the second is active would make two active users with one email.
    expect(
      (await refusal(`update decisions.users set deleted_at = null where id = ${first}`)).constraint,
    ).toBe('users_email_active_unique');
    const project = await newProject('Reusable', ids.user);
    await postgres.client.query(`update decisions.projects set archived_at = now() where id = $1`, [project]);
    expect(await newProject('reusable', ids.user)).not.toBe(project);
  });

  it('restricts deleting a user who created a project', async () => {
    const error = await refusal(`delete from decisions.users where id = ${ids.user}`);
    expect(error.code).toBe('23503');
    expect(error.constraint).toBe('projects_created_by_foreign');
  });

  it('sets decisions.transcript_id to null when its transcript is deleted', async () => {
    const transcript = await insert(
      `insert into decisions.transcripts (project_id, title, meeting_at, content) values ($1, 'Gone', now(), 'c')`,
      [ids.project],
    );
    const decision = await newDecision(ids.project, transcript);
    await postgres.client.query(`delete from decisions.transcripts where id = $1`, [transcript]);
    expect(await count(`decisions.decisions where id = $1 and transcript_id is null`, [decision])).toBe(1);
  });

  it('sets decision_relationships.created_by to null and removes memberships when a user is deleted', async () => {
    const user = await newUser('leaving@c.test');
    await postgres.client.query(
      `insert into decisions.project_members (project_id, user_id) values ($1, $2)`,
      [ids.project, user],
    );
    const link = await insert(
      `insert into decisions.decision_relationships (from_decision_id, to_decision_id, kind, created_by) values ($1, $2, 'depends_on', $3)`,
      [ids.other, ids.decision, user],
    );
    await postgres.client.query(`delete from decisions.users where id = $1`, [user]);
    expect(await count(`decisions.decision_relationships where id = $1 and created_by is null`, [link])).toBe(
      1,
    );
    expect(await count(`decisions.project_members where user_id = $1`, [user])).toBe(0);
  });

  it('cascades deleting a decision to its relationships, and a project to everything in it', async () => {
    const project = await newProject('Doomed', ids.user);
    await postgres.client.query(
      `insert into decisions.project_members (project_id, user_id) values ($1, $2)`,
      [project, ids.user],
    );
    const transcript = await insert(
      `insert into decisions.transcripts (project_id, title, meeting_at, content) values ($1, 'M', now(), 'c')`,
      [project],
    );
    const [a, b, c] = [
      await newDecision(project, transcript),
      await newDecision(project),
      await newDecision(project),
    ];
    await postgres.client.query(
      `insert into decisions.decision_relationships (from_decision_id, to_decision_id, kind) values ($1, $2, 'supersedes'), ($2, $3, 'supersedes')`,
      [a, b, c],
    );
    await postgres.client.query(`delete from decisions.decisions where id = $1`, [c]);
    expect(await count(`decisions.decision_relationships where to_decision_id = $1`, [c])).toBe(0);
    expect(await count(`decisions.decision_relationships where from_decision_id = $1`, [a])).toBe(1);
    await postgres.client.query(`delete from decisions.projects where id = $1`, [project]);
    expect(await count(`decisions.project_members where project_id = $1`, [project])).toBe(0);
    expect(await count(`decisions.transcripts where project_id = $1`, [project])).toBe(0);
    expect(await count(`decisions.decisions where project_id = $1`, [project])).toBe(0);
    expect(await count(`decisions.decision_relationships where from_decision_id = $1`, [a])).toBe(0);
  });
});
