import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openDatabase, restoreBackup, seed, writeBackup } from '@huddle/db';
import { createTestDatabase, useTestDatabase } from '@huddle/testing';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { decisionsModule } from '../src/module.ts';
import { useSqlClient } from './helpers.ts';

const test = useTestDatabase([decisionsModule]);
const postgres = useSqlClient(test);
const TABLES = ['users', 'projects', 'project_members', 'transcripts', 'decisions', 'decision_relationships'];

/** An md5 of every row of every decisions table, in id order (vectors and JSONB included, as text). */
async function contents(client: pg.Client): Promise<Record<string, string>> {
  const result: Record<string, string> = {};
  for (const table of TABLES) {
    const { rows } = await client.query<{ digest: string }>(
      `select md5(coalesce(string_agg(row(t.*)::text, E'\\n' order by row(t.*)::text), '')) as digest from decisions.${table} t`,
    );
    result[table] = rows[0]!.digest;
  }
  return result;
}

describe('backup and restore with no decisions-specific code', () => {
  it('round-trips every table, embeddings, JSONB and soft-deleted rows included', async () => {
    await seed(test.db, 'minimal');
    await seed(test.db, 'realistic', { scale: 1, seed: 3 });
    await postgres.client.query(`update decisions.decisions set deleted_at = now() where id % 7 = 0`);
    const dir = await mkdtemp(path.join(tmpdir(), 'decisions-backup-'));
    const target = await createTestDatabase({ migrated: true });
    const db = await openDatabase({
      modules: [decisionsModule],
      target: { kind: 'postgresql', url: target.url, poolMax: 2 },
    });
    const client = new pg.Client({ connectionString: target.url });
    try {
      const file = path.join(dir, 'decisions.huddle');
      await writeBackup(test.db, file, { modules: ['decisions'] });
      await restoreBackup(db, file);
      await client.connect();
      expect(await contents(client)).toEqual(await contents(postgres.client));
      // The serial sequences continue after the restored ids.
      const { rows } = await client.query<{ id: number; max: number }>(
        `insert into decisions.users (email, name, password_hash) values ('after@restore.test', 'After', 'x')
         returning id, (select max(id) from decisions.users where email <> 'after@restore.test') as max`,
      );
      expect(rows[0]!.id).toBeGreaterThan(rows[0]!.max);
    } finally {
      await client.end();
      await db.close();
      await target.drop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
