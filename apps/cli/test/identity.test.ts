import { describe, expect, it } from 'vitest';
import { useCliDatabase } from './data.ts';
import { huddle } from './helpers.ts';

const { env, query } = useCliDatabase();

describe('huddle planner operator', () => {
  it('issues planner tokens only for operators that exist and are enabled', async () => {
    const unknown = await huddle(['token', 'issue', '--module', 'planner', '--user', 'ops.ann'], env);
    expect(unknown).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'huddle: subject: planner operator ops.ann does not exist; an admin adds operators (huddle planner operator add ops.ann)\n',
    });
    const added = await huddle(['planner', 'operator', 'add', 'Ops.Ann', '--is-admin'], env);
    expect(added).toEqual({
      code: 0,
      stdout: 'added admin ops.ann: huddle token issue --module planner --user ops.ann\n',
      stderr: '',
    });
    expect((await huddle(['token', 'issue', '--module', 'planner', '--user', 'ops.ann'], env)).code).toBe(0);
    expect(await huddle(['planner', 'operator', 'disable', 'ops.ann'], env)).toMatchObject({
      code: 0,
      stdout: 'disabled ops.ann\n',
    });
    const disabled = await huddle(['token', 'issue', '--module', 'planner', '--user', 'ops.ann'], env);
    expect(disabled).toMatchObject({
      code: 1,
      stderr: 'huddle: subject: planner operator ops.ann is disabled\n',
    });
    await huddle(['planner', 'operator', 'enable', 'ops.ann'], env);
    const listed = await huddle(['planner', 'operator', 'list', '--json'], env);
    expect(JSON.parse(listed.stdout)).toMatchObject({
      items: [{ name: 'ops.ann', isAdmin: true, createdBy: null, disabledAt: null }],
      nextCursor: null,
    });
  });

  it('refuses a malformed name, a name taken and an unknown operator with one line, changing nothing', async () => {
    const before = await query('select * from planner.operators order by id');
    const cases: [string[], string][] = [
      [['planner', 'operator', 'add', '1-bad'], 'huddle: operator: must be an operator name: '],
      [['planner', 'operator', 'add', 'ops.ann'], 'huddle: operator: ops.ann already exists\n'],
      [['planner', 'operator', 'disable', 'ops.nobody'], 'huddle: operator: ops.nobody does not exist\n'],
    ];
    for (const [args, stderr] of cases) {
      const result = await huddle(args, env);
      expect(result.code, args.join(' ')).toBe(1);
      expect(result.stderr.startsWith(stderr), result.stderr).toBe(true);
    }
    expect(await query('select * from planner.operators order by id')).toEqual(before);
  });
});

describe('huddle decisions password-reset', () => {
  it('makes a one-time link for a live user, stored hashed, and refuses an unknown email', async () => {
    await query(
      `insert into decisions.users (email, name, password_hash, role) values ('kim@example.test', 'Kim', 'x', 'member')`,
    );
    const result = await huddle(['decisions', 'password-reset', 'Kim@Example.test', '--json'], env);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const reset = JSON.parse(result.stdout) as { token: string; email: string };
    expect(reset).toMatchObject({ email: 'kim@example.test', token: expect.stringMatching(/^[\w-]{43}$/) });
    const stored = await query('select token_hash, created_by_id from decisions.password_resets');
    expect(stored).toEqual([{ token_hash: expect.stringMatching(/^[0-9a-f]{64}$/), created_by_id: null }]);
    const unknown = await huddle(['decisions', 'password-reset', 'nobody@example.test'], env);
    expect(unknown).toEqual({
      code: 1,
      stdout: '',
      stderr: 'huddle: email: no live user has nobody@example.test\n',
    });
  });
});
