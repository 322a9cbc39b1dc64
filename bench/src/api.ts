import type { ApiServer } from '@huddle/api/server';
import { issueSessionToken } from '@huddle/composition';
import type { Database } from '@huddle/db';
import { hashEmbedding, SEARCH_CANDIDATES, searchDecisionsStatement } from '@huddle/decisions';
import pg from 'pg';
import { projectWithDecisions, repositoryWithPlans, teamWithTasks, votingSession } from './api-fixtures.ts';
import { type HttpClientPlan, type LoadFigures, load, loadOverHttp } from './http-load.ts';
import { count, ratio, startBenchApi } from './server.ts';

const SECRET = new TextEncoder().encode('bench-secret-of-at-least-thirty-two-characters');
/** Every client votes on the same story, as a planning meeting does; more voters than pooled connections. */
const CLIENTS = 32;
const POOL = 10;
const CARDS = ['1', '2', '3', '5', '8', '13', '21', '?'];

/** Rounds per side; each side's figures are its median round (the machine's noise is large). */
const ROUNDS = 3;
/**
 * Each side runs unmeasured for this long first: a server is measured in its steady state, after the JIT
 * has compiled its hot path (the API's first seconds run 1.5–2× slower, which a cold round put in the median).
 */
const WARM_UP_MS = 3_000;

/** A statement of the raw side: SQL with `$n` placeholders, and its parameters. */
type Statement = [sql: string, params: unknown[]];

/** One procedure against raw `pg` doing the same database work. */
interface Comparison {
  /** What the ratio line calls it (`vote`, `read`, …). */
  name: string;
  procedure: string;
  api: HttpClientPlan[];
  /** The statements of one raw call, which `compare` runs in one transaction. */
  raw: (client: number, iteration: number) => Statement[];
}

export interface ComparisonFigures {
  name: string;
  procedure: string;
  api: LoadFigures;
  raw: LoadFigures;
}

export type ApiFigures = ComparisonFigures[];

/** The round with the median throughput. */
function median(rounds: LoadFigures[]): LoadFigures {
  return [...rounds].sort((a, b) => a.perSecond - b.perSecond)[Math.floor(rounds.length / 2)]!;
}

/**
 * Runs every comparison `ROUNDS` times, API and raw side by side in each round, so a burst of load on the
 * machine falls on both sides alike. A raw call runs its statements in one transaction, READ ONLY when the
 * procedure is a query (a GET), as the API runs it.
 */
async function compare(durationMs: number, pool: pg.Pool, comparisons: Comparison[]): Promise<ApiFigures> {
  const rounds = comparisons.map(() => ({ api: [] as LoadFigures[], raw: [] as LoadFigures[] }));
  const runApi = (comparison: Comparison, milliseconds: number) =>
    loadOverHttp({ durationMs: milliseconds, clients: comparison.api });
  const runRaw = (comparison: Comparison, milliseconds: number) => {
    const begin = comparison.api[0]!.method === 'GET' ? 'begin read only' : 'begin';
    return load(milliseconds, CLIENTS, async (client, iteration) => {
      const connection = await pool.connect();
      try {
        await connection.query(begin);
        for (const [sql, params] of comparison.raw(client, iteration)) await connection.query(sql, params);
        await connection.query('commit');
      } finally {
        connection.release();
      }
    });
  };
  for (const comparison of comparisons) {
    await runApi(comparison, WARM_UP_MS);
    await runRaw(comparison, WARM_UP_MS);
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const [index, comparison] of comparisons.entries()) {
      rounds[index]!.api.push(await runApi(comparison, durationMs));
      rounds[index]!.raw.push(await runRaw(comparison, durationMs));
    }
  }
  return comparisons.map(({ name, procedure }, index) => ({
    name,
    procedure,
    api: median(rounds[index]!.api),
    raw: median(rounds[index]!.raw),
  }));
}

/** One bearer token of `module` per subject, valid for longer than the benchmark runs. */
function tokensFor(db: Database, module: string, subjects: readonly (number | string)[]): Promise<string[]> {
  return Promise.all(
    subjects.map(
      async (subject) =>
        (await issueSessionToken(db, SECRET, { module, subject: String(subject) }, '1h')).token,
    ),
  );
}

/** A tRPC query's URL: its input travels as JSON in the query string. */
function queryUrl(apiUrl: string, procedure: string, input: unknown): string {
  return `${apiUrl}/${procedure}?input=${encodeURIComponent(JSON.stringify(input))}`;
}

/**
 * The hottest procedures over the API's HTTP (tRPC, tokens, least privilege, the service) against raw `pg`
 * doing the same database work, each with a pool of 10 on the same server in the same run, from 32
 * concurrent clients: poker's vote and session read, and one read of each other module — scrum's own tasks,
 * a decisions project's log and a search of it, a planner plan version and its steps found by words — and
 * scrum's newer reads, all of one's tasks (no status) and a task's history. The raw side runs as the owner, without the role switch
 * and row-level-security settings, but reads the actor's row where the module's actor load checks something
 * the answer depends on (scrum: still active; decisions: not deleted; planner: the operator enabled); poker's
 * participant reads cover its actor.
 */
export async function benchApi(
  durationMs: number,
  db: Database,
  url: string,
  workDir: string,
): Promise<ApiFigures> {
  let server: ApiServer | undefined;
  const pool = new pg.Pool({ connectionString: url, max: POOL });
  try {
    const { sessionId, storyId, voters } = await votingSession(pool, CLIENTS);
    const { developers, trackedTasks } = await teamWithTasks(pool, CLIENTS);
    const { projectId, members } = await projectWithDecisions(pool, CLIENTS);
    const { activeVersions, operators } = await repositoryWithPlans(pool, CLIENTS);
    const planOf = (client: number) => activeVersions[client % activeVersions.length]!;
    // The page `steps by words` answers, which its raw side reads by id as the service does.
    const stepArtifacts = (
      await pool.query<{ id: string }>(
        `select a.id from planner.plan_artifacts a join planner.plans p on p.id = a.plan_id
         where a.artifact_type = 'implementation_steps' order by p.name, p.version, a.created_at, a.id limit 10`,
      )
    ).rows.map((row) => row.id);
    const [pokerTokens, scrumTokens, decisionsTokens, plannerTokens] = await Promise.all([
      tokensFor(db, 'poker', voters),
      tokensFor(db, 'scrum', developers),
      tokensFor(db, 'decisions', members),
      tokensFor(db, 'planner', operators),
    ]);
    server = await startBenchApi(db, SECRET, workDir);
    const apiUrl = server.url;
    const castUrl = `${apiUrl}/poker.votes.cast`;
    const getUrl = queryUrl(apiUrl, 'poker.sessions.get', { sessionId });
    const myTasksUrl = queryUrl(apiUrl, 'scrum.tasks.mine', { status: 'todo' });
    const allMyTasksUrl = queryUrl(apiUrl, 'scrum.tasks.mine', {});
    const decisionsUrl = queryUrl(apiUrl, 'decisions.decisions.list', { projectId });
    const searchText = 'meeting agreed thing';
    const searchUrl = queryUrl(apiUrl, 'decisions.search', { text: searchText });
    const search = searchDecisionsStatement({
      text: searchText,
      vector: hashEmbedding(searchText),
      projectIds: [projectId],
      limit: 20,
      after: undefined,
    });
    const card = (client: number, iteration: number) => CARDS[(client + iteration) % CARDS.length]!;
    const votes = CARDS.map((points) => JSON.stringify({ storyId, points }));
    return await compare(durationMs, pool, [
      {
        name: 'vote',
        procedure: 'poker.votes.cast',
        api: pokerTokens.map((token) => ({ url: castUrl, method: 'POST', token, bodies: votes })),
        raw: (client, iteration) => [
          [
            'select s.id from poker.sessions s join poker.stories st on st.session_id = s.id where st.id = $1 for no key update of st for share of s',
            [storyId],
          ],
          [
            'select is_spectator from poker.session_participants where session_id = $1 and user_id = $2',
            [sessionId, voters[client]],
          ],
          [
            'insert into poker.votes (story_id, user_id, points) values ($1, $2, $3) on conflict (story_id, user_id) do update set points = excluded.points',
            [storyId, voters[client], card(client, iteration)],
          ],
          [
            'select pg_notify($1, $2)',
            [
              'poker_events',
              JSON.stringify({ type: 'vote_cast', sessionId, storyId, userId: voters[client] }),
            ],
          ],
          [
            `update poker.stories st set revealed_at = now() where st.id = $1 and st.revealed_at is null
             and not exists (select 1 from poker.session_participants p where p.session_id = st.session_id
               and not p.is_spectator and not exists (
                 select 1 from poker.votes v where v.story_id = st.id and v.user_id = p.user_id))`,
            [storyId],
          ],
        ],
      },
      {
        name: 'read',
        procedure: 'poker.sessions.get',
        api: pokerTokens.map((token) => ({ url: getUrl, method: 'GET', token })),
        raw: (client) => [
          ['select * from poker.sessions where id = $1', [sessionId]],
          [
            'select 1 from poker.session_participants where session_id = $1 and user_id = $2',
            [sessionId, voters[client]],
          ],
          ['select * from poker.stories where session_id = $1 order by story_order, id', [sessionId]],
          [
            'select p.*, u.name from poker.session_participants p join poker.users u on u.id = p.user_id where p.session_id = $1 order by p.joined_at, p.id',
            [sessionId],
          ],
        ],
      },
      {
        name: 'my tasks',
        procedure: 'scrum.tasks.mine',
        api: scrumTokens.map((token) => ({ url: myTasksUrl, method: 'GET', token })),
        raw: (client) => [
          ['select id, role, is_active from scrum.users where id = $1', [developers[client]]],
          [
            'select * from scrum.tasks where assigned_user_id = $1 and status = $2 order by priority desc, start_date, id limit 101',
            [developers[client], 'todo'],
          ],
        ],
      },
      {
        name: 'all my tasks',
        procedure: 'scrum.tasks.mine {}',
        api: scrumTokens.map((token) => ({ url: allMyTasksUrl, method: 'GET', token })),
        raw: (client) => [
          ['select id, role, is_active from scrum.users where id = $1', [developers[client]]],
          [
            'select * from scrum.tasks where assigned_user_id = $1 order by priority desc, start_date, id limit 101',
            [developers[client]],
          ],
        ],
      },
      {
        name: 'task history',
        procedure: 'scrum.tasks.history',
        api: scrumTokens.map((token, client) => ({
          url: queryUrl(apiUrl, 'scrum.tasks.history', { taskId: trackedTasks[client] }),
          method: 'GET',
          token,
        })),
        raw: (client) => [
          ['select id, role, is_active from scrum.users where id = $1', [developers[client]]],
          [
            'select * from scrum.task_activity where task_id = $1 order by changed_at desc, id desc limit 51',
            [trackedTasks[client]],
          ],
        ],
      },
      {
        name: 'decision log',
        procedure: 'decisions.decisions.list',
        api: decisionsTokens.map((token) => ({ url: decisionsUrl, method: 'GET', token })),
        raw: (client) => [
          ['select role from decisions.users where id = $1 and deleted_at is null', [members[client]]],
          [
            `select m.role, p.archived_at is not null as archived
             from decisions.project_members m join decisions.projects p on p.id = m.project_id
             where m.project_id = $1 and m.user_id = $2`,
            [projectId, members[client]],
          ],
          // Every column the answer has; the embedding stays in the table. The API's default page (50) and
          // the row that says another page exists.
          [
            `select id, project_id, transcript_id, title, statement, rationale, status, confidence, decided_at,
               impacts, consensus, anomalies, created_at, updated_at, deleted_at
             from decisions.decisions where project_id = $1 and deleted_at is null
             order by decided_at desc, id desc limit 51`,
            [projectId],
          ],
        ],
      },
      {
        // The fused search's statement as the service builds it (the raw side embeds the text once, before).
        name: 'decision search',
        procedure: 'decisions.search',
        api: decisionsTokens.map((token) => ({ url: searchUrl, method: 'GET', token })),
        raw: (client) => [
          ['select id, role from decisions.users where id = $1 and deleted_at is null', [members[client]]],
          [
            `select p.id from decisions.project_members m join decisions.projects p on p.id = m.project_id
             where m.user_id = $1 and p.archived_at is null`,
            [members[client]],
          ],
          [
            `select set_config('hnsw.iterative_scan', 'relaxed_order', true), set_config('hnsw.ef_search', $1, true)`,
            [String(SEARCH_CANDIDATES)],
          ],
          [search.sql, search.params],
        ],
      },
      {
        name: 'plan read',
        procedure: 'planner.plans.get',
        api: plannerTokens.map((token, client) => ({
          url: queryUrl(apiUrl, 'planner.plans.get', { planId: planOf(client) }),
          method: 'GET',
          token,
        })),
        raw: (client) => [
          ['select is_admin, disabled_at from planner.operators where name = $1', [operators[client]]],
          ['select * from planner.plans where id = $1', [planOf(client)]],
          [
            'select * from planner.plan_artifacts where plan_id = $1 order by artifact_type, created_at, id',
            [planOf(client)],
          ],
        ],
      },
      {
        // Every version's steps have "tests" in a detail: a page of 10 of the 16 artifacts, by full-text search.
        name: 'steps by words',
        procedure: 'planner.search.artifactsWithStep',
        api: plannerTokens.map((token) => ({
          url: queryUrl(apiUrl, 'planner.search.artifactsWithStep', { words: 'tests', limit: 10 }),
          method: 'GET',
          token,
        })),
        raw: () => [
          [
            `select a.id from planner.plan_artifacts a join planner.plans p on p.id = a.plan_id
             where a.artifact_type = 'implementation_steps'
               and jsonb_to_tsvector('english', jsonb_path_query_array(a.content, '$.steps[*].title')
                     || jsonb_path_query_array(a.content, '$.steps[*].detail'), '["string"]')
                   @@ websearch_to_tsquery('english', $1)
             order by p.name, p.version, a.created_at, a.id limit 11`,
            ['tests'],
          ],
          [
            'select a.*, p.* from planner.plan_artifacts a join planner.plans p on p.id = a.plan_id where a.id = any($1::uuid[])',
            [stepArtifacts],
          ],
        ],
      },
    ]);
  } finally {
    await server?.close();
    await pool.end();
  }
}

const line = (label: string, figures: LoadFigures) =>
  `  ${label.padEnd(34)} ${count(figures.perSecond).padStart(7)}/s   p50 ${figures.p50.toFixed(1).padStart(6)} ms   p99 ${figures.p99.toFixed(1).padStart(6)} ms   CPU ${figures.cpuPerCall.toFixed(2).padStart(5)} ms/call   (${count(figures.calls)} calls)`;

export function apiReport(figures: ApiFigures): string[] {
  return [
    `request path: ${CLIENTS} concurrent clients, pool ${POOL} on both sides, median of ${ROUNDS} rounds after a ${WARM_UP_MS / 1000} s warm-up`,
    ...figures.flatMap(({ name, procedure, api, raw }) => [
      line(`${procedure} over HTTP`, api),
      line('raw pg, same work', raw),
      `  ${name}: the API does ${ratio(api.perSecond / raw.perSecond)} of raw pg's throughput`,
    ]),
  ];
}
