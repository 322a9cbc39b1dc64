import type pg from 'pg';

/**
 * The request-path benchmark's data, written directly with `pg` as the owner: for each module, what one team
 * has when it uses the procedure measured, with a row for each of the `clients` callers.
 */

/**
 * A session with a story being voted on, `clients` voters and one more participant who never votes, so the
 * last vote never completes the round (which would reveal it and refuse the votes after).
 */
export async function votingSession(
  pool: pg.Pool,
  clients: number,
): Promise<{ sessionId: number; storyId: number; voters: number[] }> {
  const users = await pool.query<{ id: number }>(
    "insert into poker.users (name) select 'Voter ' || n from generate_series(1, $1) n returning id",
    [clients + 1],
  );
  const voters = users.rows.map((row) => row.id).slice(0, clients);
  const session = await pool.query<{ id: number }>(
    "insert into poker.sessions (name, facilitator_id) values ('Bench', $1) returning id",
    [voters[0]],
  );
  const sessionId = session.rows[0]!.id;
  await pool.query(
    'insert into poker.session_participants (session_id, user_id) select $1, unnest($2::int[])',
    [sessionId, users.rows.map((row) => row.id)],
  );
  const story = await pool.query<{ id: number }>(
    "insert into poker.stories (session_id, title, story_order, status) values ($1, 'Bench story', 1, 'voting') returning id",
    [sessionId],
  );
  await pool.query(
    "insert into poker.stories (session_id, title, story_order) select $1, 'Backlog ' || n, n + 1 from generate_series(1, 20) n",
    [sessionId],
  );
  return { sessionId, storyId: story.rows[0]!.id, voters };
}

/** Tasks per developer, a third each to do, in progress and done. */
const TASKS_PER_DEVELOPER = 30;
/** Changes in a tracked task's history: more than its first page (50). */
const TRACKED_CHANGES = 60;

/**
 * A scrum team: a project manager and `clients` developers, each assigned `TASKS_PER_DEVELOPER` tasks the
 * manager created, with priorities 0–4 and staggered dates.
 */
export async function teamWithTasks(
  pool: pg.Pool,
  clients: number,
): Promise<{ developers: number[]; trackedTasks: number[] }> {
  const manager = await pool.query<{ id: number }>(
    "insert into scrum.users (github_id, username, role) values ('bench-manager', 'Manager', 'project_manager') returning id",
  );
  const users = await pool.query<{ id: number }>(
    `insert into scrum.users (github_id, username, role)
     select 'bench-developer-' || n, 'Developer ' || n, 'developer' from generate_series(1, $1) n returning id`,
    [clients],
  );
  const developers = users.rows.map((row) => row.id);
  await pool.query(
    `insert into scrum.tasks (title, description, status, assigned_role, assigned_user_id, start_date, end_date,
       completed_at, priority, created_by_id)
     select 'Task ' || n || ' of developer ' || developer, 'What task ' || n || ' is about and when it is done.',
       status, 'developer', developer, now() + n * interval '1 day', now() + (n + 3) * interval '1 day',
       case when status = 'done' then now() end, n % 5, $3
     from unnest($1::int[]) developer, generate_series(1, $2) n,
       lateral (select (array['todo', 'in_progress', 'done'])[n % 3 + 1] as status) task_status`,
    [developers, TASKS_PER_DEVELOPER, manager.rows[0]!.id],
  );
  // Each developer's first task gets a history: its end date moved TRACKED_CHANGES times (the trigger writes it).
  const tracked = await pool.query<{ id: number }>(
    `select min(id) as id from scrum.tasks where assigned_user_id = any($1::int[])
     group by assigned_user_id order by assigned_user_id`,
    [developers],
  );
  const trackedTasks = tracked.rows.map((row) => row.id);
  for (let change = 0; change < TRACKED_CHANGES; change += 1) {
    await pool.query(
      `update scrum.tasks set end_date = end_date + interval '1 hour' where id = any($1::int[])`,
      [trackedTasks],
    );
  }
  return { developers, trackedTasks };
}

/** Decisions in the benchmark's project: more than a page would show at once, fewer than the list's limit. */
const PROJECT_DECISIONS = 50;

/**
 * A decisions project whose `clients` users are members (the first its owner), with `PROJECT_DECISIONS`
 * decisions of every status, each with impacts, a consensus and a 384-dimension embedding.
 */
export async function projectWithDecisions(
  pool: pg.Pool,
  clients: number,
): Promise<{ projectId: number; members: number[] }> {
  const users = await pool.query<{ id: number }>(
    `insert into decisions.users (email, name, password_hash, role)
     select 'member' || n || '@bench.example', 'Member ' || n, 'bench: nobody signs in', 'member'
     from generate_series(1, $1) n returning id`,
    [clients],
  );
  const members = users.rows.map((row) => row.id);
  const project = await pool.query<{ id: number }>(
    "insert into decisions.projects (name, created_by) values ('Bench project', $1) returning id",
    [members[0]],
  );
  const projectId = project.rows[0]!.id;
  await pool.query(
    `insert into decisions.project_members (project_id, user_id, role)
     select $1, member, case when member = $2 then 'owner' else 'member' end from unnest($3::int[]) member`,
    [projectId, members[0], members],
  );
  await pool.query(
    `insert into decisions.decisions (project_id, title, statement, rationale, status, confidence, decided_at,
       impacts, consensus, embedding)
     select $1, 'Decision ' || n, 'We will do thing ' || n || ' the way the meeting agreed on.',
       'It was the cheapest option that keeps the service available.',
       (array['proposed', 'accepted', 'rejected', 'deprecated', 'superseded'])[n % 5 + 1], 0.8,
       now() - n * interval '1 day', '[{"area": "api", "note": "callers must upgrade"}, {"area": "database"}]',
       '{"for": ["Member 1", "Member 2"], "against": ["Member 3"], "abstain": []}',
       (select array_agg(random()) from generate_series(1, 384) where n > 0)::vector
     from generate_series(1, $2) n`,
    [projectId, PROJECT_DECISIONS],
  );
  return { projectId, members };
}

/** Plans in the benchmark's repository, each with an archived version 1 and an active version 2. */
const REPOSITORY_PLANS = 8;

/** Artifacts of every plan version: a feature plan, five steps, and three files' diffs. */
const PLAN_ARTIFACTS = [
  {
    type: 'feature_plan',
    content: {
      summary: 'Let a caller page through the results instead of reading them all at once.',
      goals: ['A cursor on every list procedure', 'Stable order across pages'],
      nonGoals: ['Offsets'],
      risks: ['Clients that read the whole list today'],
    },
  },
  {
    type: 'implementation_steps',
    content: {
      steps: Array.from({ length: 5 }, (_, index) => ({
        title: `Step ${index + 1}`,
        detail: `Change the list procedures' part ${index + 1} and its tests.`,
        files: [`src/lists/part-${index + 1}.ts`, `test/lists/part-${index + 1}.test.ts`],
      })),
    },
  },
  {
    type: 'code_changes',
    content: {
      changes: Array.from({ length: 3 }, (_, index) => ({
        path: `src/lists/part-${index + 1}.ts`,
        action: 'modify',
        diff: `--- a/src/lists/part-${index + 1}.ts\n+++ b/src/lists/part-${index + 1}.ts\n@@ -1,4 +1,6 @@\n-export function list(rows) {\n-  return rows;\n+export function list(rows, cursor) {\n+  const start = cursor ? rows.findIndex((row) => row.id > cursor) : 0;\n+  return rows.slice(start, start + 100);\n }\n`,
      })),
    },
  },
];

/**
 * A planner repository with `REPOSITORY_PLANS` plans of two versions each, every version with
 * `PLAN_ARTIFACTS`; the ids of the active versions.
 */
export async function repositoryWithPlans(
  pool: pg.Pool,
  operatorCount: number,
): Promise<{ activeVersions: string[]; operators: string[] }> {
  // A planner token names an operator with a row: `operator-1` … `operator-<operatorCount>`.
  const operators = Array.from({ length: operatorCount }, (_, index) => `operator-${index + 1}`);
  await pool.query('insert into planner.operators (name) select unnest($1::text[])', [operators]);
  const repository = await pool.query<{ id: string }>(
    "insert into planner.repositories (name, path) values ('bench', '/srv/bench') returning id",
  );
  const versions = await pool.query<{ id: string; status: string }>(
    `insert into planner.plans (repository_id, name, description, target_branch, version, status, created_by)
     select $1, 'Plan ' || plan, 'What plan ' || plan || ' changes, and why.', 'main', version,
       case version when 2 then 'active' else 'archived' end::planner.plan_status, 'bench-operator'
     from generate_series(1, $2) plan, generate_series(1, 2) version returning id, status`,
    [repository.rows[0]!.id, REPOSITORY_PLANS],
  );
  await pool.query(
    `insert into planner.plan_artifacts (plan_id, content, artifact_type)
     select plan, artifact.content, artifact.type::planner.artifact_type
     from unnest($1::uuid[]) plan, jsonb_to_recordset($2::jsonb) artifact(type text, content jsonb)`,
    [versions.rows.map((row) => row.id), JSON.stringify(PLAN_ARTIFACTS)],
  );
  return {
    activeVersions: versions.rows.filter((row) => row.status === 'active').map((row) => row.id),
    operators,
  };
}
