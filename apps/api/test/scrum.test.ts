import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHuddleClient, type HuddleClient } from '@huddle/client';
import { domainModules, issueSessionToken } from '@huddle/composition';
import { inRequestScope, ModuleResources, runJob } from '@huddle/db';
import { type ChatEvent, githubOAuthConfigFromEnv, type NotificationEvent, scrumModule } from '@huddle/scrum';
import { useTestDatabase } from '@huddle/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiServer, startApiServer } from '../src/server.ts';
import { collect, failure, startTestServer, TEST_LOGGER, TEST_SECRET } from './helpers.ts';

const database = useTestDatabase(domainModules);

interface GitHubAccount {
  id: number;
  login: string;
  email: string;
  avatar_url: string;
}

/**
 * A stand-in for GitHub's authorize, token and user endpoints on 127.0.0.1 (as in @huddle/scrum's own
 * tests): `authorize` redirects back with a one-time code for `signingIn`, bound to the PKCE challenge;
 * the token endpoint answers a code it did not issue, or the wrong verifier, with GitHub's error.
 */
function gitHubStandIn() {
  const codes = new Map<string, { account: GitHubAccount; challenge: string }>();
  const tokens = new Map<string, GitHubAccount>();
  const state = {
    signingIn: undefined as GitHubAccount | undefined,
    /** How many code exchanges reached the token endpoint. */
    exchanges: 0,
  };
  const server: Server = createServer(async (request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const json = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    if (url.pathname === '/login/oauth/authorize') {
      const code = randomBytes(8).toString('hex');
      codes.set(code, { account: state.signingIn!, challenge: url.searchParams.get('code_challenge') ?? '' });
      const back = new URL(url.searchParams.get('redirect_uri')!);
      back.searchParams.set('code', code);
      back.searchParams.set('state', url.searchParams.get('state') ?? '');
      response.writeHead(302, { location: back.toString() }).end();
      return;
    }
    if (url.pathname === '/login/oauth/access_token' && request.method === 'POST') {
      state.exchanges += 1;
      let body = '';
      for await (const chunk of request) body += chunk;
      const form = new URLSearchParams(body);
      const grant = codes.get(form.get('code') ?? '');
      codes.delete(form.get('code') ?? '');
      const challenge = createHash('sha256')
        .update(form.get('code_verifier') ?? '')
        .digest('base64url');
      // GitHub answers token errors with 200 and an `error` field.
      if (!grant || grant.challenge !== challenge)
        return json(200, { error: 'bad_verification_code', error_description: 'The code is wrong.' });
      const token = randomBytes(8).toString('hex');
      tokens.set(token, grant.account);
      return json(200, { access_token: token, token_type: 'bearer', scope: 'read:user,user:email' });
    }
    const account = tokens.get((request.headers.authorization ?? '').replace(/^Bearer /i, ''));
    if (url.pathname === '/api/v3/user' && account) return json(200, account);
    json(401, { message: 'Bad credentials' });
  });
  return { server, state };
}

const standIn = gitHubStandIn();
let server: ApiServer;
let anonymous: HuddleClient;
const seeded = {} as Record<'pm' | 'dev2' | 'admin', { id: number; client: HuddleClient }>;

async function sql<Row>(query: string, params: unknown[] = []): Promise<Row[]> {
  return inRequestScope(database.db.orm, (em) => em.execute<Row[]>(query, params));
}

/** A scrum user written directly (setup, not the point of the test) and a client with a token for them. */
async function seedUser(githubId: string, username: string, role: string) {
  const [row] = await sql<{ id: number }>(
    'insert into scrum.users (github_id, username, role) values (?, ?, ?) returning id',
    [githubId, username, role],
  );
  const { token } = await issueSessionToken(database.db, TEST_SECRET, {
    module: 'scrum',
    subject: String(row!.id),
  });
  return { id: row!.id, client: createHuddleClient(server.url, token) };
}

beforeAll(async () => {
  await new Promise<void>((resolve) => standIn.server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(standIn.server.address() as AddressInfo).port}`;
  const githubOAuth = {
    ...githubOAuthConfigFromEnv({
      GITHUB_CLIENT_ID: 'huddle-test',
      GITHUB_CLIENT_SECRET: 'shh',
      GITHUB_REDIRECT_URI: 'http://127.0.0.1:1/auth/github/callback',
      GITHUB_AUTHORIZE_URL: `${base}/login/oauth/authorize`,
      GITHUB_TOKEN_URL: `${base}/login/oauth/access_token`,
      GITHUB_API_URL: `${base}/api/v3`,
    })!,
    allowInsecureRequests: true,
  };
  server = await startApiServer({
    db: database.db,
    secret: TEST_SECRET,
    moduleResources: (await ModuleResources.fromEnv(database.db.modules, { HUDDLE_PLANNER_ROOTS: '' })).with(
      scrumModule,
      {
        github: githubOAuth,
      },
    ),
    port: 0,
    host: '127.0.0.1',
    logger: TEST_LOGGER,
  });
  anonymous = createHuddleClient(server.url);
  seeded.pm = await seedUser('pm-gh', 'pam', 'project_manager');
  seeded.dev2 = await seedUser('dev2-gh', 'dana', 'developer');
  seeded.admin = await seedUser('admin-gh', 'ada', 'admin');
});
afterAll(async () => {
  await server?.close();
  await new Promise((resolve) => standIn.server.close(resolve));
});

/**
 * A client's sign-in as `account` up to the callback: start it (keeping the flow secret), follow the
 * authorize URL, read code and state off the redirect; what it then sends to `githubCallback`.
 */
async function authorizeAs(account: GitHubAccount) {
  standIn.state.signingIn = account;
  const { url, state, flowSecret } = await anonymous.scrum.auth.githubAuthorizeUrl.mutate();
  expect(url).not.toContain(flowSecret);
  const redirect = await fetch(url, { redirect: 'manual' });
  const back = new URL(redirect.headers.get('location')!);
  expect(back.searchParams.get('state')).toBe(state);
  return { code: back.searchParams.get('code')!, state, flowSecret };
}

const octo: GitHubAccount = {
  id: 583231,
  login: 'octocat',
  email: 'octocat@github.test',
  avatar_url: 'https://avatars.test/u/583231',
};
const week = { startDate: '2026-01-05T09:00:00Z', endDate: '2026-01-12T17:00:00Z' };

describe('scrum over HTTP with the typed client', () => {
  it('signs in with GitHub, then a task is assigned and completed, a DM sent and a triage item promoted', async () => {
    const invitation = await seeded.admin.client.scrum.users.invite.mutate({ githubLogin: 'OctoCat' });
    expect(invitation).toMatchObject({
      githubLogin: 'octocat',
      role: 'developer',
      invitedById: seeded.admin.id,
    });
    const signedIn = await anonymous.scrum.auth.githubCallback.mutate(await authorizeAs(octo));
    expect(signedIn.user).toMatchObject({ username: 'octocat', githubId: '583231', role: 'developer' });
    const dev = createHuddleClient(server.url, signedIn.token);
    expect(await dev.scrum.users.me.query()).toMatchObject({ id: signedIn.user.id, email: octo.email });
    const pm = seeded.pm.client;

    const devNotifications = collect<NotificationEvent>((handlers) =>
      dev.scrum.notifications.events.subscribe(undefined, handlers),
    );
    const otherNotifications = collect<NotificationEvent>((handlers) =>
      seeded.dev2.client.scrum.notifications.events.subscribe(undefined, handlers),
    );
    const pmChat = collect<ChatEvent>((handlers) => pm.scrum.chat.events.subscribe({}, handlers));
    const otherChat = collect<ChatEvent>((handlers) =>
      seeded.dev2.client.scrum.chat.events.subscribe({ channel: 'general' }, handlers),
    );
    await Promise.all([devNotifications.ready, otherNotifications.ready, pmChat.ready, otherChat.ready]);

    const task = await pm.scrum.tasks.create.mutate({
      title: 'Wire the GitHub callback page',
      description: 'The page GitHub sends the browser back to',
      assignedRole: 'developer',
      assignedUserId: signedIn.user.id,
      epicId: 'AUTH',
      ...week,
    });
    expect(await devNotifications.next()).toMatchObject({
      userId: signedIn.user.id,
      notification: { type: 'task_assigned', relatedTaskId: task.id },
    });
    await dev.scrum.tasks.changeStatus.mutate({ taskId: task.id, status: 'in_progress' });
    const done = await dev.scrum.tasks.changeStatus.mutate({ taskId: task.id, status: 'done' });
    expect(done.completedAt).not.toBeNull();
    expect(await dev.scrum.tasks.mine.query({ status: 'done' })).toEqual({ items: [done], nextCursor: null });
    expect((await pm.scrum.notifications.unread.query()).items.map((n) => n.type)).toEqual([
      'task_completed',
    ]);

    const dm = await dev.scrum.chat.sendDirect.mutate({
      recipientId: seeded.pm.id,
      message: 'Done, have a look',
    });
    expect(await pmChat.next()).toEqual({ type: 'message_sent', message: dm });
    expect((await pm.scrum.chat.conversation.query({ userId: signedIn.user.id })).messages).toEqual([dm]);

    const item = await dev.scrum.triage.report.mutate({
      title: 'Callback page flickers',
      description: 'A white flash before the redirect',
    });
    const promoted = await pm.scrum.triage.promote.mutate({
      itemId: item.id,
      assignedRole: 'developer',
      assignedUserId: signedIn.user.id,
      ...week,
    });
    expect(promoted.item).toMatchObject({ id: item.id, taskId: promoted.task.id });
    expect(promoted.task).toMatchObject({ title: item.title, assignedUserId: signedIn.user.id });

    // The other developer's streams carried none of that: the first event each gets is its own.
    const channelMessage = await pm.scrum.chat.sendChannel.mutate({
      channel: 'general',
      message: 'Stand-up!',
    });
    expect(await otherChat.next()).toEqual({ type: 'message_sent', message: channelMessage });
    // JSON-escaped, this text is 9,000 bytes, past NOTIFY's limit: the event carries the id, the server reads it.
    const controls = await pm.scrum.chat.sendChannel.mutate({
      channel: 'general',
      message: '\u0001'.repeat(1_500),
    });
    expect(await otherChat.next()).toEqual({ type: 'message_sent', message: controls });
    await pm.scrum.tasks.assign.mutate({
      taskId: promoted.task.id,
      assignedRole: 'developer',
      assignedUserId: seeded.dev2.id,
    });
    expect(await otherNotifications.next()).toMatchObject({
      userId: seeded.dev2.id,
      notification: { type: 'task_assigned', relatedTaskId: promoted.task.id },
    });
    for (const subscription of [devNotifications, otherNotifications, pmChat, otherChat]) subscription.stop();

    expect(
      await sql(
        `select t.title, t.status, t.completed_at is not null as completed, u.username as assignee
         from scrum.tasks t join scrum.users u on u.id = t.assigned_user_id order by t.id`,
      ),
    ).toEqual([
      { title: task.title, status: 'done', completed: true, assignee: 'octocat' },
      { title: item.title, status: 'todo', completed: false, assignee: 'dana' },
    ]);
    expect(await sql('select task_id from scrum.triage_items')).toEqual([{ task_id: promoted.task.id }]);
    expect(
      await sql('select sender_id, recipient_id, message from scrum.chat_messages where channel is null'),
    ).toEqual([{ sender_id: signedIn.user.id, recipient_id: seeded.pm.id, message: 'Done, have a look' }]);
  });

  it('refuses a bad input naming the field, a developer creating a task, and a poker token', async () => {
    const before = await sql('select count(*)::int as tasks from scrum.tasks');
    const newTask = { title: 'Mine', description: 'x', assignedRole: 'developer', ...week } as const;
    const badInput = await failure(seeded.pm.client.scrum.tasks.create.mutate({ ...newTask, title: ' ' }));
    expect(badInput.data).toMatchObject({ code: 'BAD_REQUEST', field: 'title' });
    const developer = await failure(seeded.dev2.client.scrum.tasks.create.mutate(newTask));
    expect(developer.data?.code).toBe('FORBIDDEN');
    const { token } = await issueSessionToken(database.db, TEST_SECRET, {
      module: 'poker',
      subject: String(seeded.pm.id),
    });
    const poker = await failure(createHuddleClient(server.url, { scrum: token }).scrum.users.me.query());
    expect(poker.data?.code).toBe('UNAUTHORIZED');
    expect(poker.message).toMatch(/token is for module poker/);
    expect(await sql('select count(*)::int as tasks from scrum.tasks')).toEqual(before);
  });
});

describe('the rest of scrum.* over HTTP: each procedure answers, and each area refuses', () => {
  it('users: the directory, role changes and deactivation by an admin; a developer may not change roles', async () => {
    const { admin } = seeded;
    let { dev2 } = seeded;
    const changed = await admin.client.scrum.users.changeRole.mutate({ userId: dev2.id, role: 'tester' });
    expect(changed).toMatchObject({ id: dev2.id, role: 'tester' });
    expect(await admin.client.scrum.users.deactivate.mutate({ userId: dev2.id })).toMatchObject({
      isActive: false,
    });
    expect((await admin.client.scrum.users.directory.query()).items.map((user) => user.id)).not.toContain(
      dev2.id,
    );
    await admin.client.scrum.users.reactivate.mutate({ userId: dev2.id });
    // The deactivation ended the user's sessions; reactivated, they sign in afresh.
    expect((await failure(dev2.client.scrum.users.me.query())).data?.code).toBe('UNAUTHORIZED');
    const { token } = await issueSessionToken(database.db, TEST_SECRET, {
      module: 'scrum',
      subject: String(dev2.id),
    });
    dev2 = seeded.dev2 = { id: dev2.id, client: createHuddleClient(server.url, token) };
    await admin.client.scrum.users.changeRole.mutate({ userId: dev2.id, role: 'developer' });
    expect((await dev2.client.scrum.users.directory.query({ role: 'developer' })).items).toContainEqual(
      expect.objectContaining({ id: dev2.id, username: 'dana' }),
    );
    const refused = await failure(
      dev2.client.scrum.users.changeRole.mutate({ userId: admin.id, role: 'developer' }),
    );
    expect(refused.data?.code).toBe('FORBIDDEN');
    expect(await sql('select role, is_active from scrum.users where id = ?', [dev2.id])).toEqual([
      { role: 'developer', is_active: true },
    ]);
  });

  it('tasks, notifications, chat and triage: the remaining procedures, and a refusal each', async () => {
    const { pm, dev2 } = seeded;
    const task = await pm.client.scrum.tasks.create.mutate({
      title: 'Overdue work',
      description: 'Planned for a past week',
      assignedRole: 'developer',
      assignedUserId: dev2.id,
      epicId: 'OPS',
      ...week,
    });
    const updated = await pm.client.scrum.tasks.update.mutate({ taskId: task.id, priority: 5 });
    expect(updated.priority).toBe(5);
    expect(await dev2.client.scrum.tasks.get.query({ taskId: task.id })).toEqual(updated);
    expect(
      (await pm.client.scrum.tasks.byRole.query({ role: 'developer' })).items.map((t) => t.id),
    ).toContain(task.id);
    expect((await pm.client.scrum.tasks.byEpic.query({ epicId: 'OPS' })).items.map((t) => t.id)).toEqual([
      task.id,
    ]);
    // Its end date has passed and it is not done: the delay job marks it, and the list shows it.
    await runJob(database.db, 'scrum.detect-delays');
    expect((await pm.client.scrum.tasks.delayed.query()).items.map((t) => t.id)).toContain(task.id);
    const overlong = await failure(pm.client.scrum.tasks.byEpic.query({ epicId: 'x'.repeat(51) }));
    expect(overlong.data).toMatchObject({ code: 'BAD_REQUEST', field: 'epicId' });

    const { unread } = await dev2.client.scrum.notifications.unreadCount.query();
    expect(unread).toBeGreaterThan(0);
    const {
      items: [first],
      nextCursor,
    } = await dev2.client.scrum.notifications.unread.query({ limit: 1 });
    if (unread > 1) {
      const next = await dev2.client.scrum.notifications.unread.query({ limit: 1, cursor: nextCursor! });
      expect(next.items.map((n) => n.id)).not.toContain(first!.id);
    }
    expect(
      await dev2.client.scrum.notifications.markRead.mutate({ notificationId: first!.id }),
    ).toMatchObject({
      isRead: true,
    });
    expect(await dev2.client.scrum.notifications.markAllRead.mutate()).toEqual({ marked: unread - 1 });
    expect(await dev2.client.scrum.notifications.unreadCount.query()).toEqual({ unread: 0 });
    const notMine = await failure(
      pm.client.scrum.notifications.markRead.mutate({ notificationId: first!.id }),
    );
    expect(notMine.data?.code).toBe('NOT_FOUND');

    const sent = await dev2.client.scrum.chat.sendChannel.mutate({ channel: 'ops', message: 'on it' });
    const edited = await dev2.client.scrum.chat.edit.mutate({ messageId: sent.id, message: 'on it now' });
    expect(edited).toMatchObject({ isEdited: true, message: 'on it now' });
    expect((await pm.client.scrum.chat.channelHistory.query({ channel: 'ops' })).messages).toEqual([edited]);
    const noLink = await failure(
      dev2.client.scrum.chat.sendDirect.mutate({
        recipientId: pm.id,
        message: 'see file',
        messageType: 'file',
      }),
    );
    expect(noLink.data).toMatchObject({ code: 'BAD_REQUEST', field: 'fileUrl' });

    const item = await dev2.client.scrum.triage.report.mutate({
      title: 'Slow page',
      description: 'Takes 5 s',
    });
    expect(await pm.client.scrum.triage.assign.mutate({ itemId: item.id, assigneeId: pm.id })).toMatchObject({
      assignedTo: pm.id,
    });
    await pm.client.scrum.triage.changeStatus.mutate({ itemId: item.id, status: 'in_review' });
    const unresolved = await failure(
      pm.client.scrum.triage.changeStatus.mutate({ itemId: item.id, status: 'resolved' }),
    );
    expect(unresolved.data).toMatchObject({ code: 'BAD_REQUEST', field: 'resolution' });
    const resolved = await pm.client.scrum.triage.changeStatus.mutate({
      itemId: item.id,
      status: 'resolved',
      resolution: 'Cached the query',
    });
    expect(resolved.resolvedAt).not.toBeNull();
    expect(await pm.client.scrum.triage.get.query({ itemId: item.id })).toEqual(resolved);
    // The first test's promoted item is resolved too.
    const { items: resolvedItems } = await pm.client.scrum.triage.list.query({ status: 'resolved' });
    expect(resolvedItems.map((listed) => listed.status)).toEqual(resolvedItems.map(() => 'resolved'));
    expect(resolvedItems.map((listed) => listed.id)).toContain(item.id);
    expect(await sql('select status, resolution from scrum.triage_items where id = ?', [item.id])).toEqual([
      { status: 'resolved', resolution: 'Cached the query' },
    ]);
  });
});

describe('scrum tasks over HTTP: all of mine, delays when read, history', () => {
  it('tasks.mine without a status, a delay before the job ran, and a task’s history by whom and when; refusals by field', async () => {
    const { pm, dev2 } = seeded;
    const task = await pm.client.scrum.tasks.create.mutate({
      title: 'Tracked work',
      description: 'Its history is kept',
      assignedRole: 'developer',
      assignedUserId: dev2.id,
      ...week,
    });
    // Past its end date and not done: delayed in every answer, though no job has flagged it.
    expect(task.isDelayed).toBe(true);
    expect((await pm.client.scrum.tasks.delayed.query({ limit: 100 })).items.map((t) => t.id)).toContain(
      task.id,
    );
    expect(await sql('select is_delayed from scrum.tasks where id = ?', [task.id])).toEqual([
      { is_delayed: false },
    ]);

    const started = await dev2.client.scrum.tasks.changeStatus.mutate({
      taskId: task.id,
      status: 'in_progress',
    });
    const mine = await dev2.client.scrum.tasks.mine.query();
    expect(mine.items).toContainEqual(started);
    expect(await dev2.client.scrum.tasks.mine.query({})).toEqual(mine);
    expect(new Set(mine.items.map((t) => t.assignedUserId))).toEqual(new Set([dev2.id]));

    const { items, nextCursor } = await pm.client.scrum.tasks.history.query({ taskId: task.id });
    expect(nextCursor).toBeNull();
    expect(items).toEqual([
      {
        id: expect.any(Number),
        taskId: task.id,
        actorId: dev2.id,
        field: 'status',
        oldValue: 'todo',
        newValue: 'in_progress',
        changedAt: expect.any(String),
      },
    ]);
    expect(await dev2.client.scrum.tasks.history.query({ taskId: task.id })).toEqual({ items, nextCursor });
    expect(await sql('select field, actor_id from scrum.task_activity where task_id = ?', [task.id])).toEqual(
      [{ field: 'status', actor_id: dev2.id }],
    );
    const missing = await failure(pm.client.scrum.tasks.history.query({ taskId: 999_999 }));
    expect(missing.data).toMatchObject({ code: 'NOT_FOUND', field: 'taskId' });
    const badStatus = await failure(
      dev2.client.scrum.tasks.mine.query({ status: 'later' as unknown as 'todo' }),
    );
    expect(badStatus.data).toMatchObject({ code: 'BAD_REQUEST', field: 'status' });
  });
});

describe('scrum lists over HTTP', () => {
  it('every list answers a bounded page with a cursor, and refuses a page over 200 or a forged cursor, naming the field', async () => {
    const { admin, pm } = seeded;
    const lists = {
      'users.directory': (input: { limit?: number; cursor?: string }) =>
        admin.client.scrum.users.directory.query(input),
      'tasks.mine': (input: { limit?: number; cursor?: string }) =>
        pm.client.scrum.tasks.mine.query({ status: 'todo', ...input }),
      'tasks.byRole': (input: { limit?: number; cursor?: string }) =>
        pm.client.scrum.tasks.byRole.query({ role: 'developer', ...input }),
      'tasks.byEpic': (input: { limit?: number; cursor?: string }) =>
        pm.client.scrum.tasks.byEpic.query({ epicId: 'OPS', ...input }),
      'tasks.delayed': (input: { limit?: number; cursor?: string }) =>
        pm.client.scrum.tasks.delayed.query(input),
      'notifications.unread': (input: { limit?: number; cursor?: string }) =>
        pm.client.scrum.notifications.unread.query(input),
      'triage.list': (input: { limit?: number; cursor?: string }) => pm.client.scrum.triage.list.query(input),
    };
    for (const [name, list] of Object.entries(lists)) {
      const page = await list({ limit: 1 });
      expect(page.items.length, name).toBeLessThanOrEqual(1);
      if (page.nextCursor !== null) {
        const next = await list({ limit: 1, cursor: page.nextCursor });
        expect(
          next.items.map((item) => item.id),
          name,
        ).not.toContain(page.items[0]!.id);
      }
      expect((await failure(list({ limit: 201 }))).data, name).toMatchObject({
        code: 'BAD_REQUEST',
        field: 'limit',
      });
      const forged = await failure(list({ cursor: 'bm90LWEtY3Vyc29y' }));
      expect(forged.data, name).toMatchObject({ code: 'BAD_REQUEST', field: 'cursor' });
      expect(forged.message, name).toBe('cursor: must be a nextCursor this list returned');
    }
  });
});

describe('sign-in with GitHub over HTTP', () => {
  const users = () => sql('select github_id, username, is_active from scrum.users order by id');

  it('closed sign-up: a GitHub account nobody invited is refused and becomes no user', async () => {
    const before = await users();
    const stranger = await failure(
      anonymous.scrum.auth.githubCallback.mutate(await authorizeAs({ ...octo, id: 4141, login: 'stranger' })),
    );
    expect(stranger.data).toMatchObject({ code: 'UNAUTHORIZED', field: 'code' });
    expect(stranger.message).toBe(
      'code: GitHub user stranger is not invited to this team; ask an admin to invite them',
    );
    expect(await users()).toEqual(before);
    const developer = await failure(
      seeded.dev2.client.scrum.users.invite.mutate({ githubLogin: 'stranger' }),
    );
    expect(developer.data).toMatchObject({ code: 'FORBIDDEN', field: 'githubLogin' });
    expect(await sql(`select 1 from scrum.invitations where github_login = 'stranger'`)).toEqual([]);
  });

  it('binds a sign-in to the client that started it: a replayed callback URL and login CSRF are refused, and a flow is used once', async () => {
    await seeded.admin.client.scrum.users.invite.mutate({ githubLogin: 'victim' });
    await seeded.admin.client.scrum.users.invite.mutate({ githubLogin: 'mallory' });
    const victim = await authorizeAs({ ...octo, id: 5151, login: 'victim' });
    const attacker = await authorizeAs({ ...octo, id: 6161, login: 'mallory' });
    const exchanges = standIn.state.exchanges;
    // The victim's leaked code and state, from the attacker's client (with its own flow secret, or none).
    for (const flowSecret of [attacker.flowSecret, 'guessed']) {
      const replayed = await failure(anonymous.scrum.auth.githubCallback.mutate({ ...victim, flowSecret }));
      expect(replayed.data).toMatchObject({ code: 'UNAUTHORIZED', field: 'state' });
    }
    const noSecret = await failure(
      anonymous.scrum.auth.githubCallback.mutate({ code: victim.code, state: victim.state } as typeof victim),
    );
    expect(noSecret.data).toMatchObject({ code: 'BAD_REQUEST', field: 'flowSecret' });
    // The attacker's code and state, completed from the victim's client (login CSRF).
    const csrf = await failure(
      anonymous.scrum.auth.githubCallback.mutate({ ...attacker, flowSecret: victim.flowSecret }),
    );
    expect(csrf.data).toMatchObject({ code: 'UNAUTHORIZED', field: 'state' });
    expect(standIn.state.exchanges).toBe(exchanges);
    expect(await sql(`select username from scrum.users where username in ('victim', 'mallory')`)).toEqual([]);

    // Each client completes its own sign-in, once.
    const signedIn = await anonymous.scrum.auth.githubCallback.mutate(victim);
    expect(signedIn.user).toMatchObject({ username: 'victim', role: 'developer' });
    const again = await failure(anonymous.scrum.auth.githubCallback.mutate(victim));
    expect(again.data).toMatchObject({ code: 'UNAUTHORIZED', field: 'state' });
    expect(standIn.state.exchanges).toBe(exchanges + 1);
    expect(await sql(`select username from scrum.users where username in ('victim', 'mallory')`)).toEqual([
      { username: 'victim' },
    ]);
  });

  it('refuses a state this server did not issue, an expired flow, a code GitHub refuses, and a deactivated user', async () => {
    const before = await users();
    const eve = { ...octo, id: 4242, login: 'eve' };
    await seeded.admin.client.scrum.users.invite.mutate({ githubLogin: 'eve' });
    const sent = await authorizeAs(eve);
    const forged = await failure(
      anonymous.scrum.auth.githubCallback.mutate({ ...sent, state: 'forged-state' }),
    );
    expect(forged.data).toMatchObject({ code: 'UNAUTHORIZED', field: 'state' });

    const late = await authorizeAs(eve);
    await sql(
      `update scrum.sign_in_flows set expires_at = now() - interval '1 second' where state_hash = encode(sha256(convert_to(?, 'UTF8')), 'hex')`,
      [late.state],
    );
    const expired = await failure(anonymous.scrum.auth.githubCallback.mutate(late));
    expect(expired.data).toMatchObject({ code: 'UNAUTHORIZED', field: 'state' });

    const spent = await authorizeAs(eve);
    const wrongCode = await failure(
      anonymous.scrum.auth.githubCallback.mutate({ ...spent, code: 'not-issued' }),
    );
    expect(wrongCode.data).toMatchObject({ code: 'UNAUTHORIZED', field: 'code' });
    expect(wrongCode.message).toMatch(/^code: GitHub sign-in failed/);
    expect(await users()).toEqual(before);

    await sql(`update scrum.users set is_active = false where github_id = '583231'`);
    const deactivatedBefore = await users();
    const deactivated = await failure(
      anonymous.scrum.auth.githubCallback.mutate(await authorizeAs({ ...octo, login: 'octo-back' })),
    );
    expect(deactivated.data?.code).toBe('UNAUTHORIZED');
    expect(deactivated.message).toMatch(/deactivated/);
    expect(await users()).toEqual(deactivatedBefore);
    expect(deactivatedBefore).toContainEqual({ github_id: '583231', username: 'octocat', is_active: false });
  });

  it('answers PRECONDITION_FAILED, not a server error, when GitHub sign-in is not configured', async () => {
    const unconfigured = await startTestServer(database.db);
    try {
      const client = createHuddleClient(unconfigured.url);
      const error = await failure(client.scrum.auth.githubAuthorizeUrl.mutate());
      expect(error.data).toMatchObject({ code: 'PRECONDITION_FAILED', httpStatus: 412 });
      expect(error.message).toMatch(/GITHUB_CLIENT_ID/);
    } finally {
      await unconfigured.close();
    }
  });
});
