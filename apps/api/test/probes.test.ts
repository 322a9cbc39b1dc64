import { Agent, get } from 'node:http';
import { domainModules } from '@huddle/composition';
import { useTestDatabase } from '@huddle/testing';
import { afterAll, describe, expect, it } from 'vitest';
import type { ApiServer } from '../src/server.ts';
import { startTestServer } from './helpers.ts';

const database = useTestDatabase(domainModules);

interface ProbeAnswer {
  status: number;
  retryAfter: string | undefined;
  connection: string | undefined;
  body: unknown;
}

/** GET `path` through `agent` (its keep-alive connections), with the answer's status, headers and body. */
function probe(url: string, path: string, agent: Agent): Promise<ProbeAnswer> {
  return new Promise((resolve, reject) => {
    get(`${url}${path}`, { agent }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.once('end', () =>
        resolve({
          status: response.statusCode!,
          retryAfter: response.headers['retry-after'],
          connection: response.headers.connection,
          body: JSON.parse(body),
        }),
      );
    }).once('error', reject);
  });
}

describe('liveness and readiness probes for a load balancer (PostgreSQL)', () => {
  let server: ApiServer | undefined;
  const agent = new Agent({ keepAlive: true, maxSockets: 2 });
  afterAll(async () => {
    agent.destroy();
    await server?.close({ drainMs: 0 });
  });

  it('answer 200 while serving; while draining, /readyz is 503 with Retry-After and /livez stays 200', async () => {
    server = await startTestServer(database.db);
    // Two keep-alive connections, open before the drain starts: a balancer's probes arrive on them.
    const serving = await Promise.all([
      probe(server.url, '/livez', agent),
      probe(server.url, '/readyz', agent),
    ]);
    expect(serving).toEqual([
      { status: 200, retryAfter: undefined, connection: 'keep-alive', body: { status: 'ok' } },
      { status: 200, retryAfter: undefined, connection: 'keep-alive', body: { status: 'ok' } },
    ]);
    expect(Object.values(agent.freeSockets).flat()).toHaveLength(2);

    const closed = server.close({ drainMs: 2_000 });
    const draining = await Promise.all([
      probe(server.url, '/readyz', agent),
      probe(server.url, '/livez', agent),
    ]);
    expect(draining).toEqual([
      { status: 503, retryAfter: '1', connection: 'close', body: { status: 'draining' } },
      { status: 200, retryAfter: undefined, connection: 'close', body: { status: 'ok' } },
    ]);
    await closed;
    server = undefined;
  });
});
