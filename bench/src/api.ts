import path from 'node:path';
import { type ApiServer, startApiServer } from '@huddle/api/server';
import { issueToken } from '@huddle/composition';
import type { Database } from '@huddle/db';
import pg from 'pg';
import { pino } from 'pino';
import { type HttpClientPlan, type LoadFigures, load, loadOverHttp } from './http-load.ts';
import { count, ratio } from './server.ts';

const SECRET = new TextEncoder().encode('bench-secret-of-at-least-thirty-two-characters');
/** Every client votes on the same story, as a planning meeting does; more voters than pooled connections. */
const CLIENTS = 32;
const POOL = 10;
const CARDS = ['1', '2', '3', '5', '8', '13', '21', '?'];

/** Rounds per side; each side's figures are its median round (the machine's noise is large). */
const ROUNDS = 3;

/** One procedure against raw `pg` doing the same database work. */
interface Comparison {
  /** What the ratio line calls it (`vote`, `read`, …). */
  name: string;
  procedure: string;
  api: HttpClientPlan[];
  raw: (client: number, iteration: number, connection: pg.PoolClient) => Promise<void>;
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
 * machine falls on both sides alike.
 */
async function compare(durationMs: number, pool: pg.Pool, comparisons: Comparison[]): Promise<ApiFigures> {
  const rounds = comparisons.map(() => ({ api: [] as LoadFigures[], raw: [] as LoadFigures[] }));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [index, comparison] of comparisons.entries()) {
      rounds[index]!.api.push(await loadOverHttp({ durationMs, clients: comparison.api }));
      rounds[index]!.raw.push(
        await load(durationMs, CLIENTS, async (client, iteration) => {
          const connection = await pool.connect();
          try {
            await comparison.raw(client, iteration, connection);
          } finally {
            connection.release();
          }
        }),
      );
    }
  }
  return comparisons.map(({ name, procedure }, index) => ({
    name,
    procedure,
    api: median(rounds[index]!.api),
    raw: median(rounds[index]!.raw),
  }));
}

/** A session with a story being voted on and `CLIENTS` voters, written directly: the bench's fixture. */
async function votingSession(url: string): Promise<{ sessionId: number; storyId: number; voters: number[] }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const users = await client.query<{ id: number }>(
      "insert into poker.users (name) select 'Voter ' || n from generate_series(1, $1) n returning id",
      [CLIENTS],
    );
    const voters = users.rows.map((row) => row.id);
    const session = await client.query<{ id: number }>(
      "insert into poker.sessions (name, facilitator_id) values ('Bench', $1) returning id",
      [voters[0]],
    );
    const sessionId = session.rows[0]!.id;
    await client.query(
      'insert into poker.session_participants (session_id, user_id) select $1, unnest($2::int[])',
      [sessionId, voters],
    );
    const story = await client.query<{ id: number }>(
      "insert into poker.stories (session_id, title, story_order, status) values ($1, 'Bench story', 1, 'voting') returning id",
      [sessionId],
    );
    await client.query(
      "insert into poker.stories (session_id, title, story_order) select $1, 'Backlog ' || n, n + 1 from generate_series(1, 20) n",
      [sessionId],
    );
    return { sessionId, storyId: story.rows[0]!.id, voters };
  } finally {
    await client.end();
  }
}

/**
 * `poker.votes.cast` and `poker.sessions.get` over the API's HTTP (tRPC, tokens, least privilege, the
 * service) against raw `pg` doing the same database work, each with a pool of 10 on the same server in
 * the same run, from 32 concurrent clients.
 */
export async function benchApi(
  durationMs: number,
  db: Database,
  url: string,
  workDir: string,
): Promise<ApiFigures> {
  const { sessionId, storyId, voters } = await votingSession(url);
  const tokens = await Promise.all(
    voters.map(
      async (id) => (await issueToken(SECRET, { module: 'poker', subject: String(id) }, '1h')).token,
    ),
  );
  let server: ApiServer | undefined;
  const pool = new pg.Pool({ connectionString: url, max: POOL });
  try {
    server = await startApiServer({
      db,
      secret: SECRET,
      plannerAccess: { roots: [] },
      port: 0,
      host: '127.0.0.1',
      // The access log on, as in production, into a file rather than the terminal.
      logger: pino(
        { name: 'huddle-api', level: 'info' },
        pino.destination({ dest: path.join(workDir, 'api.log'), sync: false }),
      ),
    });
    const castUrl = `${server.url}/poker.votes.cast`;
    const getUrl = `${server.url}/poker.sessions.get?input=${encodeURIComponent(JSON.stringify({ sessionId }))}`;
    const card = (client: number, iteration: number) => CARDS[(client + iteration) % CARDS.length]!;
    const votes = CARDS.map((points) => JSON.stringify({ storyId, points }));
    return await compare(durationMs, pool, [
      {
        name: 'vote',
        procedure: 'poker.votes.cast',
        api: tokens.map((token) => ({ url: castUrl, method: 'POST', token, bodies: votes })),
        async raw(client, iteration, connection) {
          await connection.query('begin');
          await connection.query(
            'select s.id from poker.sessions s join poker.stories st on st.session_id = s.id where st.id = $1 for share of s',
            [storyId],
          );
          await connection.query(
            'select is_spectator from poker.session_participants where session_id = $1 and user_id = $2',
            [sessionId, voters[client]],
          );
          await connection.query(
            'insert into poker.votes (story_id, user_id, points) values ($1, $2, $3) on conflict (story_id, user_id) do update set points = excluded.points',
            [storyId, voters[client], card(client, iteration)],
          );
          await connection.query('select pg_notify($1, $2)', [
            'poker_events',
            JSON.stringify({ type: 'vote_cast', sessionId, storyId, userId: voters[client] }),
          ]);
          await connection.query('commit');
        },
      },
      {
        name: 'read',
        procedure: 'poker.sessions.get',
        api: tokens.map((token) => ({ url: getUrl, method: 'GET', token })),
        async raw(client, _iteration, connection) {
          await connection.query('begin read only');
          await connection.query('select * from poker.sessions where id = $1', [sessionId]);
          await connection.query(
            'select 1 from poker.session_participants where session_id = $1 and user_id = $2',
            [sessionId, voters[client]],
          );
          await connection.query(
            'select * from poker.stories where session_id = $1 order by story_order, id',
            [sessionId],
          );
          await connection.query(
            'select p.*, u.name from poker.session_participants p join poker.users u on u.id = p.user_id where p.session_id = $1 order by p.joined_at, p.id',
            [sessionId],
          );
          await connection.query('commit');
        },
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
    `request path: ${CLIENTS} concurrent clients, pool ${POOL} on both sides, median of ${ROUNDS} rounds`,
    ...figures.flatMap(({ name, procedure, api, raw }) => [
      line(`${procedure} over HTTP`, api),
      line('raw pg, same work', raw),
      `  ${name}: the API does ${ratio(api.perSecond / raw.perSecond)} of raw pg's throughput`,
    ]),
  ];
}
