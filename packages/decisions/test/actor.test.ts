import { UnauthorizedError } from '@huddle/db';
import { useTestDatabase } from '@huddle/testing';
import { describe, expect, it } from 'vitest';
import { decisionsActor } from '../src/actor.ts';
import { decisionsModule } from '../src/module.ts';
import { asActor, expectHuddleError, UNUSED_PASSWORD_HASH, useSqlClient } from './helpers.ts';

const test = useTestDatabase([decisionsModule]);
const postgres = useSqlClient(test);

async function userWithRole(email: string, role: string): Promise<number> {
  const { rows } = await postgres.client.query<{ id: number }>(
    `insert into decisions.users (email, name, password_hash, role) values ($1, 'A', $2, $3) returning id`,
    [email, UNUSED_PASSWORD_HASH, role],
  );
  return rows[0]!.id;
}

describe('DecisionsActor', () => {
  it('parses a user id subject and refuses anything else without the database', () => {
    expect(decisionsActor.parse('42')).toEqual({ module: 'decisions', userId: 42, role: 'viewer' });
    expect(decisionsActor.subject({ module: 'decisions', userId: 42, role: 'director' })).toBe('42');
    for (const subject of ['0', '-1', '01', '2147483648', 'abc', '1.5', '']) {
      expect(() => decisionsActor.parse(subject)).toThrow(UnauthorizedError);
    }
  });

  it('loads the current role, and follows a role change on the next request', async () => {
    const id = await userWithRole('architect@actor.test', 'architect');
    const actor = decisionsActor.parse(String(id));
    expect(await asActor(test.db, actor, async (_em, loaded) => loaded)).toEqual({
      module: 'decisions',
      userId: id,
      role: 'architect',
    });
    await postgres.client.query(`update decisions.users set role = 'lead' where id = $1`, [id]);
    expect((await asActor(test.db, actor, async (_em, loaded) => loaded)).role).toBe('lead');
  });

  it('refuses a soft-deleted user and a user that does not exist', async () => {
    const id = await userWithRole('gone@actor.test', 'member');
    await postgres.client.query(`update decisions.users set deleted_at = now() where id = $1`, [id]);
    const error = await expectHuddleError(
      asActor(test.db, decisionsActor.parse(String(id)), async () => 'ran'),
      UnauthorizedError,
    );
    expect(error.message).toMatch(/does not exist or was deleted/);
    await expectHuddleError(
      asActor(test.db, decisionsActor.parse('999999'), async () => 'ran'),
      UnauthorizedError,
    );
  });
});
