import { createHuddleClient } from '@huddle/client';
import { domainModules, issueSessionToken } from '@huddle/composition';
import { type Database, openDatabase } from '@huddle/db';
import { useTestDatabase } from '@huddle/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiServer } from '../src/server.ts';
import { startTestServer, TEST_SECRET } from './helpers.ts';

/**
 * One scrum user's row is locked by another session, and that user keeps writing (each write waits on the
 * row: its message's foreign key to the sender). With a pool of 4 and no lock_timeout, so the waiting
 * writes would hold their connections for as long as the lock lasts, other callers — another module, and
 * another user of the same module — are still served while the lock is held: the bulkheads (bulkhead.ts)
 * let one actor hold one connection (a quarter of 4) and one module two.
 */
const database = useTestDatabase(domainModules);
let db: Database;
let server: ApiServer;
const STUCK_WRITES = 6;

beforeAll(async () => {
  db = await openDatabase({
    modules: domainModules,
    target: { kind: 'postgresql', url: database.url, poolMax: 4 },
    sessionLimits: { statementTimeoutMs: 0, idleInTransactionTimeoutMs: 0, lockTimeoutMs: 0 },
  });
  server = await startTestServer(db);
});
afterAll(async () => {
  await server?.close();
  await db?.close();
});

async function scrumUser(name: string): Promise<{ id: number; token: string }> {
  const [row] = await database.db.orm.em
    .fork()
    .execute<{ id: number }[]>(
      "insert into scrum.users (github_id, username, role) values (?, ?, 'developer') returning id",
      [`${name}-gh`, name],
    );
  return {
    id: row!.id,
    token: (await issueSessionToken(db, TEST_SECRET, { module: 'scrum', subject: String(row!.id) })).token,
  };
}

async function waitingOnLocks(client: pg.Client): Promise<number> {
  const { rows } = await client.query<{ waiting: number }>(
    "select count(*)::int as waiting from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'",
  );
  return rows[0]!.waiting;
}

describe('bulkheads: a caller stuck behind a locked row holds one connection, not the pool', () => {
  it('while its writes wait, another module and another user of its module are served, and its writes finish once the lock goes', async () => {
    const [stuck, recipient, colleague] = await Promise.all([
      scrumUser('stuck'),
      scrumUser('recipient'),
      scrumUser('colleague'),
    ]);
    const holder = new pg.Client({ connectionString: database.url });
    const observer = new pg.Client({ connectionString: database.url });
    await Promise.all([holder.connect(), observer.connect()]);
    try {
      await holder.query('begin');
      await holder.query('select id from scrum.users where id = $1 for update', [stuck.id]);
      const stuckClient = createHuddleClient(server.url, stuck.token);
      const writes = Array.from({ length: STUCK_WRITES }, (_, n) =>
        stuckClient.scrum.chat.sendDirect.mutate({ recipientId: recipient.id, message: `Stuck ${n}` }),
      );
      await expect.poll(() => waitingOnLocks(observer), { timeout: 10_000 }).toBeGreaterThan(0);

      // Another module, and another scrum user, while the stuck writes are still waiting.
      const guest = await createHuddleClient(server.url).poker.join.mutate({ name: 'Guest' });
      expect(guest.user.name).toBe('Guest');
      expect(
        await createHuddleClient(server.url, colleague.token).scrum.tasks.mine.query({ status: 'todo' }),
      ).toEqual({ items: [], nextCursor: null });
      // One actor, one connection: the other writes wait in the server, not on the row.
      expect(await waitingOnLocks(observer)).toBe(1);

      await holder.query('rollback');
      expect(await Promise.all(writes)).toHaveLength(STUCK_WRITES);
    } finally {
      await Promise.all([holder.end(), observer.end()]);
    }
    const rows = await database.db.orm.em
      .fork()
      .execute<{ sent: number }[]>(
        'select count(*)::int as sent from scrum.chat_messages where sender_id = ?',
        [stuck.id],
      );
    expect(rows).toEqual([{ sent: STUCK_WRITES }]);
  });
});
