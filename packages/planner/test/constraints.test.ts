import { ConflictError, type HuddleError, InvalidInputError, NotFoundError } from '@huddle/db';
import { useTestDatabase } from '@huddle/testing';
import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { plannerModule } from '../src/module.ts';
import { expectHuddleError, inRequest, useSqlClient } from './helpers.ts';

/**
 * Every enum, UNIQUE, NOT NULL, CHECK, foreign key and cascade of the seed and of the deviations: the
 * database itself refuses the bad row, whatever the services do.
 */
const test = useTestDatabase([plannerModule]);
const postgres = useSqlClient(test);
const MISSING = '00000000-0000-4000-8000-000000000000';
/** Rows the cases refer to: a repository, a draft plan version and its artifact and chat session. */
const ids = { repository: '', plan: '' };

async function insert(sql: string, params: unknown[] = []): Promise<string> {
  const result = await postgres.client.query<{ id: string }>(`${sql} returning id`, params);
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

beforeAll(async () => {
  ids.repository = await insert(`insert into planner.repositories (name, path) values ('base', '/r/base')`);
  ids.plan = await insert(
    `insert into planner.plans (repository_id, name, target_branch) values ($1, 'Base plan', 'main')`,
    [ids.repository],
  );
});

const withIds = (sql: string) =>
  sql.replace(/\{(\w+)\}/g, (_, key: keyof typeof ids | 'missing') =>
    key === 'missing' ? MISSING : ids[key],
  );

interface RefusedRow {
  rule: string;
  sql: string;
  code: '22P02' | '23502' | '23503' | '23505' | '23514';
  constraint?: string;
  column?: string;
}

const refusedRows: RefusedRow[] = [
  // repositories
  {
    rule: 'repositories.name NOT NULL',
    sql: `insert into planner.repositories (path) values ('/r/x')`,
    code: '23502',
    column: 'name',
  },
  {
    rule: 'repositories.path NOT NULL',
    sql: `insert into planner.repositories (name) values ('x')`,
    code: '23502',
    column: 'path',
  },
  {
    rule: 'repositories UNIQUE (path)',
    sql: `insert into planner.repositories (name, path) values ('again', '/r/base')`,
    code: '23505',
    constraint: 'repositories_path_unique',
  },
  {
    rule: 'repositories.default_branch NOT NULL (tightened)',
    sql: `insert into planner.repositories (name, path, default_branch) values ('x', '/r/x', null)`,
    code: '23502',
    column: 'default_branch',
  },
  {
    rule: 'repositories.created_at NOT NULL (tightened)',
    sql: `insert into planner.repositories (name, path, created_at) values ('x', '/r/x', null)`,
    code: '23502',
    column: 'created_at',
  },
  {
    rule: 'repositories.updated_at NOT NULL (tightened)',
    sql: `insert into planner.repositories (name, path, updated_at) values ('x', '/r/x', null)`,
    code: '23502',
    column: 'updated_at',
  },
  // plans
  {
    rule: 'plans.repository_id NOT NULL',
    sql: `insert into planner.plans (name, target_branch) values ('p', 'main')`,
    code: '23502',
    column: 'repository_id',
  },
  {
    rule: 'plans.repository_id → repositories',
    sql: `insert into planner.plans (repository_id, name, target_branch) values ('{missing}', 'p', 'main')`,
    code: '23503',
    constraint: 'plans_repository_id_foreign',
  },
  {
    rule: 'plans.name NOT NULL',
    sql: `insert into planner.plans (repository_id, target_branch) values ('{repository}', 'main')`,
    code: '23502',
    column: 'name',
  },
  {
    rule: 'plans.target_branch NOT NULL',
    sql: `insert into planner.plans (repository_id, name) values ('{repository}', 'p')`,
    code: '23502',
    column: 'target_branch',
  },
  {
    rule: 'plans.version NOT NULL',
    sql: `insert into planner.plans (repository_id, name, target_branch, version) values ('{repository}', 'p', 'main', null)`,
    code: '23502',
    column: 'version',
  },
  {
    rule: 'plans UNIQUE (repository_id, name, version)',
    sql: `insert into planner.plans (repository_id, name, target_branch) values ('{repository}', 'Base plan', 'main')`,
    code: '23505',
    constraint: 'plans_repository_id_name_version_unique',
  },
  {
    rule: 'plans plans_version_positive (deviation)',
    sql: `insert into planner.plans (repository_id, name, target_branch, version) values ('{repository}', 'p', 'main', 0)`,
    code: '23514',
    constraint: 'plans_version_positive',
  },
  {
    rule: 'plans.status is a plan_status',
    sql: `insert into planner.plans (repository_id, name, target_branch, status) values ('{repository}', 'p', 'main', 'abandoned')`,
    code: '22P02',
  },
  {
    rule: 'plans.status NOT NULL (tightened)',
    sql: `insert into planner.plans (repository_id, name, target_branch, status) values ('{repository}', 'p', 'main', null)`,
    code: '23502',
    column: 'status',
  },
  {
    rule: 'plans.created_at NOT NULL (tightened)',
    sql: `insert into planner.plans (repository_id, name, target_branch, created_at) values ('{repository}', 'p', 'main', null)`,
    code: '23502',
    column: 'created_at',
  },
  // plan_artifacts
  {
    rule: 'plan_artifacts.plan_id NOT NULL',
    sql: `insert into planner.plan_artifacts (content, artifact_type) values ('{}', 'feature_plan')`,
    code: '23502',
    column: 'plan_id',
  },
  {
    rule: 'plan_artifacts.plan_id → plans',
    sql: `insert into planner.plan_artifacts (plan_id, content, artifact_type) values ('{missing}', '{}', 'feature_plan')`,
    code: '23503',
    constraint: 'plan_artifacts_plan_id_foreign',
  },
  {
    rule: 'plan_artifacts.content NOT NULL',
    sql: `insert into planner.plan_artifacts (plan_id, artifact_type) values ('{plan}', 'feature_plan')`,
    code: '23502',
    column: 'content',
  },
  {
    rule: 'plan_artifacts.artifact_type NOT NULL',
    sql: `insert into planner.plan_artifacts (plan_id, content) values ('{plan}', '{}')`,
    code: '23502',
    column: 'artifact_type',
  },
  {
    rule: 'plan_artifacts.artifact_type is an artifact_type',
    sql: `insert into planner.plan_artifacts (plan_id, content, artifact_type) values ('{plan}', '{}', 'test_plan')`,
    code: '22P02',
  },
  // chat_sessions
  {
    rule: 'chat_sessions.plan_id NOT NULL',
    sql: `insert into planner.chat_sessions (messages) values ('[]')`,
    code: '23502',
    column: 'plan_id',
  },
  {
    rule: 'chat_sessions.plan_id → plans',
    sql: `insert into planner.chat_sessions (plan_id) values ('{missing}')`,
    code: '23503',
    constraint: 'chat_sessions_plan_id_foreign',
  },
  {
    rule: 'chat_sessions.messages NOT NULL',
    sql: `insert into planner.chat_sessions (plan_id, messages) values ('{plan}', null)`,
    code: '23502',
    column: 'messages',
  },
  {
    rule: 'chat_sessions chat_sessions_messages_array (deviation)',
    sql: `insert into planner.chat_sessions (plan_id, messages) values ('{plan}', '{"role": "user"}')`,
    code: '23514',
    constraint: 'chat_sessions_messages_array',
  },
  {
    rule: 'chat_sessions.status is a chat_session_status',
    sql: `insert into planner.chat_sessions (plan_id, status) values ('{plan}', 'paused')`,
    code: '22P02',
  },
  {
    rule: 'chat_sessions.status NOT NULL (tightened)',
    sql: `insert into planner.chat_sessions (plan_id, status) values ('{plan}', null)`,
    code: '23502',
    column: 'status',
  },
];

describe('the database refuses', () => {
  it.each(refusedRows)('$rule', async ({ sql, code, constraint, column }) => {
    const error = await refusal(withIds(sql));
    expect(error.code).toBe(code);
    if (constraint) expect(error.constraint).toBe(constraint);
    if (column) expect(error.column).toBe(column);
  });

  it('an unknown value in each native enum type, by the type', async () => {
    for (const type of ['plan_status', 'artifact_type', 'chat_session_status']) {
      const error = await refusal(`select 'bogus'::planner.${type}`);
      expect([error.code, error.message]).toEqual([
        '22P02',
        `invalid input value for enum planner.${type}: "bogus"`,
      ]);
    }
  });

  it('a second active version of one plan (plans_one_active_version), but not of another plan', async () => {
    const insertVersion = (name: string, version: number, status: string) =>
      insert(
        `insert into planner.plans (repository_id, name, target_branch, version, status) values ($1, $2, 'main', $3, $4)`,
        [ids.repository, name, version, status],
      );
    await insertVersion('Active once', 1, 'active');
    const second = await insertVersion('Active once', 2, 'draft');
    await insertVersion('Active once', 3, 'archived');
    await insertVersion('Other plan', 1, 'active');
    const error = await refusal(`update planner.plans set status = 'active' where id = '${second}'`);
    expect([error.code, error.constraint]).toEqual(['23505', 'plans_one_active_version']);
  });
});

describe('defaults', () => {
  it('fill ids, default branch, version, statuses, messages and timestamps', async () => {
    const artifact = await insert(
      `insert into planner.plan_artifacts (plan_id, content, artifact_type) values ($1, '{}', 'feature_plan')`,
      [ids.plan],
    );
    await insert(`insert into planner.chat_sessions (plan_id) values ($1)`, [ids.plan]);
    const result = await postgres.client.query<Record<string, unknown>>(
      `select r.default_branch, p.version, p.status as plan_status, p.created_by, c.status as chat_status,
              c.messages, a.id = $2 as artifact_found,
              r.created_at is not null and r.updated_at is not null and p.created_at is not null
                and p.updated_at is not null and a.created_at is not null and c.created_at is not null
                and c.updated_at is not null as stamped
       from planner.plans p join planner.repositories r on r.id = p.repository_id
       join planner.chat_sessions c on c.plan_id = p.id join planner.plan_artifacts a on a.plan_id = p.id
       where p.id = $1`,
      [ids.plan, artifact],
    );
    expect(result.rows[0]).toEqual({
      default_branch: 'main',
      version: 1,
      plan_status: 'draft',
      created_by: null,
      chat_status: 'active',
      messages: [],
      artifact_found: true,
      stamped: true,
    });
  });

  it('keep updated_at current on every update of repositories, plans and chat sessions (triggers)', async () => {
    for (const table of ['repositories', 'plans', 'chat_sessions']) {
      await postgres.client.query(
        `update planner.${table} set created_at = '2020-01-01Z', updated_at = '2020-01-01Z'`,
      );
      const result = await postgres.client.query<{ stale: string }>(
        `select count(*) filter (where updated_at < now() - interval '1 minute') as stale from planner.${table}`,
      );
      expect(result.rows[0]!.stale).toBe('0');
    }
  });
});

describe('cascades', () => {
  it('deleting a repository deletes its plan versions, their artifacts and chat sessions, and nothing else', async () => {
    const repository = await insert(
      `insert into planner.repositories (name, path) values ('doomed', '/r/d')`,
    );
    const plans = [];
    for (const version of [1, 2]) {
      const plan = await insert(
        `insert into planner.plans (repository_id, name, target_branch, version) values ($1, 'Doomed', 'main', $2)`,
        [repository, version],
      );
      plans.push(plan);
      await insert(
        `insert into planner.plan_artifacts (plan_id, content, artifact_type) values ($1, '{"summary": "s"}', 'feature_plan')`,
        [plan],
      );
      await insert(`insert into planner.chat_sessions (plan_id) values ($1)`, [plan]);
    }
    const baseArtifacts = await count('planner.plan_artifacts where plan_id = $1', [ids.plan]);

    await postgres.client.query('delete from planner.repositories where id = $1', [repository]);

    expect(await count('planner.plans where repository_id = $1', [repository])).toBe(0);
    expect(await count('planner.plan_artifacts where plan_id = any($1)', [plans])).toBe(0);
    expect(await count('planner.chat_sessions where plan_id = any($1)', [plans])).toBe(0);
    expect(await count('planner.plans where id = $1', [ids.plan])).toBe(1);
    expect(await count('planner.plan_artifacts where plan_id = $1', [ids.plan])).toBe(baseArtifacts);
  });

  it('deleting a plan version deletes its artifacts and chat sessions', async () => {
    const plan = await insert(
      `insert into planner.plans (repository_id, name, target_branch) values ($1, 'Short-lived', 'main')`,
      [ids.repository],
    );
    await insert(
      `insert into planner.plan_artifacts (plan_id, content, artifact_type) values ($1, '{}', 'code_changes')`,
      [plan],
    );
    await insert(`insert into planner.chat_sessions (plan_id) values ($1)`, [plan]);
    await postgres.client.query('delete from planner.plans where id = $1', [plan]);
    expect(await count('planner.plan_artifacts where plan_id = $1', [plan])).toBe(0);
    expect(await count('planner.chat_sessions where plan_id = $1', [plan])).toBe(0);
  });
});

describe('toHuddleError maps what the database refuses to typed errors', () => {
  const cases: { sql: string; type: abstract new (...args: never[]) => HuddleError }[] = [
    { sql: `insert into planner.repositories (name, path) values ('again', '/r/base')`, type: ConflictError },
    {
      sql: `insert into planner.plans (repository_id, name, target_branch) values ('{missing}', 'p', 'main')`,
      type: NotFoundError,
    },
    {
      sql: `insert into planner.plans (repository_id, name, target_branch, status) values ('{repository}', 'p', 'main', 'bogus')`,
      type: InvalidInputError,
    },
  ];

  it.each(cases)('$sql → $type.name', async ({ sql, type }) => {
    await expectHuddleError(
      inRequest(test.db, (em) => em.execute(withIds(sql))),
      type,
    );
  });
});
