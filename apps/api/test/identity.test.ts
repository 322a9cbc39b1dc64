import { createHuddleClient, type HuddleClient } from '@huddle/client';
import { domainModules, issueSessionToken } from '@huddle/composition';
import { inRequestScope, seed } from '@huddle/db';
import { useTestDatabase } from '@huddle/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiServer } from '../src/server.ts';
import { failure, startTestServer, TEST_SECRET } from './helpers.ts';

/**
 * Per-module identity over HTTP, from the attacker's side too: a poker player coming back on a new device, a
 * decisions password reset, scrum invitations, planner operators (issue 23).
 */
const database = useTestDatabase(domainModules);
let server: ApiServer;

const rows = (sql: string, params: unknown[] = []) =>
  inRequestScope(database.db.orm, (em) => em.execute<Record<string, unknown>[]>(sql, params));
const tokenFor = async (module: 'planner' | 'scrum', subject: string) =>
  (await issueSessionToken(database.db, TEST_SECRET, { module, subject }, '5m')).token;
const anonymous = () => createHuddleClient(server.url);

beforeAll(async () => {
  await seed(database.db, 'minimal', { module: 'decisions' });
  await seed(database.db, 'minimal', { module: 'scrum' });
  server = await startTestServer(database.db);
});
afterAll(async () => {
  await server?.close();
});

describe('poker: coming back on a new device', () => {
  it('a second join with the email says what to do; a device link from the signed-in device lets the player in, once', async () => {
    const first = await anonymous().poker.join.mutate({ name: 'Ann', email: 'ann@example.com' });
    const refused = await failure(anonymous().poker.join.mutate({ name: 'Ann', email: 'ann@example.com' }));
    expect(refused.data).toMatchObject({ code: 'CONFLICT', field: 'email' });
    expect(refused.message).toMatch(/make a device link \(poker\.deviceLink\) where they are signed in/);

    const signedIn = createHuddleClient(server.url, { poker: first.token });
    const link = await signedIn.poker.deviceLink.mutate();
    const newDevice = await anonymous().poker.join.mutate({
      name: 'Ann',
      email: 'ann@example.com',
      deviceLink: link.code,
    });
    expect(newDevice.user.id).toBe(first.user.id);
    expect((await createHuddleClient(server.url, { poker: newDevice.token }).poker.me.query()).id).toBe(
      first.user.id,
    );
    const replayed = await failure(
      anonymous().poker.join.mutate({ name: 'Mallory', email: 'ann@example.com', deviceLink: link.code }),
    );
    expect(replayed.data).toMatchObject({ code: 'UNAUTHORIZED', field: 'deviceLink' });
    expect(
      await rows('select count(*)::int as n from poker.users where email = ?', ['ann@example.com']),
    ).toEqual([{ n: 1 }]);
  });
});

describe('decisions: password reset', () => {
  it('a director makes a link, anyone holding it sets the password once, and a member cannot make one', async () => {
    const { token } = await anonymous().decisions.auth.signIn.mutate({
      email: 'test@example.com',
      password: 'password',
    });
    const director = createHuddleClient(server.url, { decisions: token });
    const user = await director.decisions.users.create.mutate({
      email: 'reset.me@example.com',
      name: 'Reset Me',
      password: 'forgotten-1',
    });
    const member = createHuddleClient(server.url, {
      decisions: (
        await anonymous().decisions.auth.signIn.mutate({
          email: 'reset.me@example.com',
          password: 'forgotten-1',
        })
      ).token,
    });
    expect(
      (await failure(member.decisions.users.createPasswordReset.mutate({ userId: user.id }))).data,
    ).toMatchObject({ code: 'FORBIDDEN', field: 'userId' });
    const reset = await director.decisions.users.createPasswordReset.mutate({ userId: user.id });
    expect(
      await anonymous().decisions.auth.resetPassword.mutate({
        token: reset.token,
        newPassword: 'remembered-2',
      }),
    ).toMatchObject({ id: user.id });
    // The sessions signed in with the old password ended with it.
    expect((await failure(member.decisions.projects.mine.query({}))).data?.code).toBe('UNAUTHORIZED');
    const again = await failure(
      anonymous().decisions.auth.resetPassword.mutate({ token: reset.token, newPassword: 'attacker-3' }),
    );
    expect(again.data).toMatchObject({ code: 'UNAUTHORIZED', field: 'token' });
    await failure(
      anonymous().decisions.auth.signIn.mutate({ email: 'reset.me@example.com', password: 'forgotten-1' }),
    );
    expect(
      (
        await anonymous().decisions.auth.signIn.mutate({
          email: 'reset.me@example.com',
          password: 'remembered-2',
        })
      ).user.id,
    ).toBe(user.id);
  });
});

describe('scrum: invitations', () => {
  it('an admin lists and withdraws pending invitations; a developer sees none and withdraws nothing', async () => {
    const [admin] = await rows(
      `select id from scrum.users where role = 'admin' and is_active order by id limit 1`,
    );
    const [developer] = await rows(`select id from scrum.users where role = 'developer' order by id limit 1`);
    const adminClient: HuddleClient = createHuddleClient(server.url, {
      scrum: await tokenFor('scrum', String(admin!.id)),
    });
    const developerClient = createHuddleClient(server.url, {
      scrum: await tokenFor('scrum', String(developer!.id)),
    });
    await adminClient.scrum.users.invite.mutate({ githubLogin: 'new-hire', role: 'tester' });
    expect(
      (await adminClient.scrum.users.invitations.query()).items.map((item) => item.githubLogin),
    ).toContain('new-hire');
    expect((await failure(developerClient.scrum.users.invitations.query())).data?.code).toBe('FORBIDDEN');
    expect(
      (await failure(developerClient.scrum.users.revokeInvitation.mutate({ githubLogin: 'new-hire' }))).data
        ?.code,
    ).toBe('FORBIDDEN');
    expect(await adminClient.scrum.users.revokeInvitation.mutate({ githubLogin: 'new-hire' })).toMatchObject({
      githubLogin: 'new-hire',
      role: 'tester',
    });
    expect(await rows(`select 1 from scrum.invitations where github_login = 'new-hire'`)).toEqual([]);
  });
});

describe('planner: operators are real', () => {
  it('refuses a token of an unknown operator; an admin adds one, whose token works until disabled', async () => {
    const stranger = createHuddleClient(server.url, { planner: await tokenFor('planner', 'anyone-at-all') });
    const unknown = await failure(stranger.planner.repositories.list.query());
    expect(unknown.data?.code).toBe('UNAUTHORIZED');
    expect(unknown.message).toMatch(/^subject: planner operator anyone-at-all does not exist/);

    await rows(`insert into planner.operators (name, is_admin) values ('lead', true)`);
    const lead = createHuddleClient(server.url, { planner: await tokenFor('planner', 'lead') });
    const added = await lead.planner.operators.add.mutate({ operator: 'helper' });
    expect(added).toMatchObject({ name: 'helper', isAdmin: false, createdBy: 'lead', disabledAt: null });
    const helper = createHuddleClient(server.url, { planner: await tokenFor('planner', 'helper') });
    expect(await helper.planner.repositories.list.query()).toEqual({ items: [], nextCursor: null });
    expect((await failure(helper.planner.operators.add.mutate({ operator: 'sneaky' }))).data?.code).toBe(
      'FORBIDDEN',
    );

    await lead.planner.operators.disable.mutate({ operator: 'helper' });
    const disabled = await failure(helper.planner.repositories.list.query());
    expect(disabled.data?.code).toBe('UNAUTHORIZED');
    expect(disabled.message).toBe('subject: planner operator helper is disabled');
    // Its sessions ended with it: enabling it again revives none of them.
    await lead.planner.operators.enable.mutate({ operator: 'helper' });
    expect((await failure(helper.planner.repositories.list.query())).data?.code).toBe('UNAUTHORIZED');
  });
});
