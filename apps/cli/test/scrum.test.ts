import { describe, expect, it } from 'vitest';
import { useCliDatabase } from './data.ts';
import { huddle } from './helpers.ts';

const { env, query } = useCliDatabase();
const invitations = () =>
  query('select github_login, role, invited_by_id, accepted_at from scrum.invitations order by id');

describe('huddle scrum invite', () => {
  it('invites the first admin, in nobody’s name, before anyone has signed in', async () => {
    const result = await huddle(['scrum', 'invite', 'Team-Lead', '--role', 'admin', '--json'], env);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(result.stdout)).toMatchObject({
      githubLogin: 'team-lead',
      role: 'admin',
      invitedById: null,
      acceptedAt: null,
    });
    const plain = await huddle(['scrum', 'invite', 'dev-one'], env);
    expect(plain.stdout).toBe('invited dev-one as developer: their first GitHub sign-in creates the user\n');
    expect(await invitations()).toEqual([
      { github_login: 'team-lead', role: 'admin', invited_by_id: null, accepted_at: null },
      { github_login: 'dev-one', role: 'developer', invited_by_id: null, accepted_at: null },
    ]);
  });

  it('refuses a login already invited, a malformed login and an unknown role with one line, inviting nobody', async () => {
    const before = await invitations();
    const cases: [string[], RegExp][] = [
      [['scrum', 'invite', 'TEAM-LEAD'], /^huddle: githubLogin: team-lead is already invited\n$/],
      [['scrum', 'invite', 'not a login'], /^huddle: githubLogin: must be a GitHub login .*\n$/],
      [['scrum', 'invite', 'someone', '--role', 'owner'], /^huddle: role: .*\n$/],
    ];
    for (const [args, stderr] of cases) {
      const result = await huddle(args, env);
      expect(result.code, args.join(' ')).toBe(1);
      expect(result.stderr, args.join(' ')).toMatch(stderr);
    }
    expect(await invitations()).toEqual(before);
  });
});

describe('huddle scrum invitations and uninvite', () => {
  it('lists the pending invitations, withdraws one, and refuses one that is not pending, changing nothing', async () => {
    const listed = await huddle(['scrum', 'invitations', '--json'], env);
    expect(listed).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(listed.stdout)).toMatchObject({
      items: [{ githubLogin: 'team-lead' }, { githubLogin: 'dev-one' }],
      nextCursor: null,
    });
    const withdrawn = await huddle(['scrum', 'uninvite', 'Dev-One'], env);
    expect(withdrawn).toEqual({
      code: 0,
      stdout: 'withdrew the invitation of dev-one (developer)\n',
      stderr: '',
    });
    const again = await huddle(['scrum', 'uninvite', 'dev-one'], env);
    expect(again).toEqual({
      code: 1,
      stdout: '',
      stderr: 'huddle: githubLogin: dev-one has no invitation\n',
    });
    expect(await invitations()).toEqual([
      { github_login: 'team-lead', role: 'admin', invited_by_id: null, accepted_at: null },
    ]);
    const plain = await huddle(['scrum', 'invitations'], env);
    expect(plain.stdout).toMatch(/^team-lead +admin +pending\n$/);
  });

  it('shows the module commands under huddle scrum --help, and a usage error for an unknown one', async () => {
    const help = await huddle(['scrum', '--help'], env);
    expect(help.stdout).toMatch(/invite \[options\] <github-login>/);
    expect(help.stdout).toMatch(/uninvite/);
    const unknown = await huddle(['scrum', 'evict', 'x'], env);
    expect(unknown).toMatchObject({ code: 1, stderr: "huddle: unknown command 'evict'\n" });
  });
});
