import { createHuddleClient } from '@huddle/client';
import { MAX_BATCH_CALLS } from '@huddle/client/limits';
import { domainModules } from '@huddle/composition';
import { inRequestScope, openDatabase, StatementTimeoutError } from '@huddle/db';
import { useTestDatabase } from '@huddle/testing';
import { TRPCClientError } from '@trpc/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppRouter } from '../src/router.ts';
import type { ApiServer } from '../src/server.ts';
import { toTRPCError } from '../src/trpc.ts';
import { startTestServer } from './helpers.ts';

const database = useTestDatabase(domainModules);
let server: ApiServer;
beforeAll(async () => {
  server = await startTestServer(database.db);
});
afterAll(() => server?.close());

function batchOfHealth(calls: number): Promise<Response> {
  return fetch(`${server.url}/${Array.from({ length: calls }, () => 'health').join(',')}?batch=1`);
}

async function userCount(): Promise<number> {
  const [row] = await database.db.orm.em
    .fork()
    .execute<{ count: number }[]>('select count(*)::int as count from poker.users');
  return row!.count;
}

describe('request limits', () => {
  it(`runs a batch of ${MAX_BATCH_CALLS} calls and answers 400 to one more`, async () => {
    const within = await batchOfHealth(MAX_BATCH_CALLS);
    expect(within.status).toBe(200);
    expect(await within.json()).toHaveLength(MAX_BATCH_CALLS);

    const over = await batchOfHealth(MAX_BATCH_CALLS + 1);
    expect(over.status).toBe(400);
    expect(JSON.stringify(await over.json())).toContain('Batch call exceeds maximum size');
  });

  it('the typed client splits a larger burst into batches the server accepts', async () => {
    const client = createHuddleClient(server.url);
    const results = await Promise.all(
      Array.from({ length: MAX_BATCH_CALLS * 2 + 1 }, () => client.health.query()),
    );
    expect(results.every((health) => health.status === 'ok')).toBe(true);
  });

  it.each([
    ['a NUL', 'a\u0000b'],
    ['a lone surrogate', 'PWNED é\udeea'],
  ])('a name with %s is BAD_REQUEST naming the field, and creates no user', async (_case, name) => {
    const before = await userCount();
    const error = await createHuddleClient(server.url)
      .poker.join.mutate({ name })
      .then(
        () => undefined,
        (reason: unknown) => reason,
      );
    expect(error).toBeInstanceOf(TRPCClientError);
    const { data, message } = error as TRPCClientError<AppRouter>;
    expect(data).toMatchObject({ code: 'BAD_REQUEST', httpStatus: 400, field: 'name' });
    expect(message).toBe('name: must be well-formed text without NUL characters');
    expect(await userCount()).toBe(before);
  });

  it('a statement past statement_timeout leaves as SERVICE_UNAVAILABLE with its reason, not a 500', async () => {
    const limited = await openDatabase({
      modules: domainModules,
      target: { kind: 'postgresql', url: database.url, poolMax: 1 },
      sessionLimits: { statementTimeoutMs: 100, idleInTransactionTimeoutMs: 0, lockTimeoutMs: 0 },
    });
    try {
      const error = await inRequestScope(limited.orm, (em) => em.execute('select pg_sleep(30)')).catch(
        (reason: unknown) => reason,
      );
      expect(error).toBeInstanceOf(StatementTimeoutError);
      const mapped = toTRPCError(error);
      expect(mapped.code).toBe('SERVICE_UNAVAILABLE');
      expect(mapped.message).toMatch(/^database statement timed out \(statement_timeout\): /);
    } finally {
      await limited.close();
    }
  });
});
