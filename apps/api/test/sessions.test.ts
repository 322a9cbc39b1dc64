import { createHuddleClient, type HuddleClient, type HuddleSession } from '@huddle/client';
import { domainModules, issueSessionToken, issueToken } from '@huddle/composition';
import { inRequestScope } from '@huddle/db';
import { useTestDatabase } from '@huddle/testing';
import type { TRPCClientError } from '@trpc/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppRouter } from '../src/router.ts';
import type { ApiServer } from '../src/server.ts';
import { failure, startTestServer, TEST_SECRET } from './helpers.ts';

/**
 * Sessions, refresh tokens and service keys from the attacker's side: every credential that should have
 * ended is refused over HTTP, and an open subscription under it ends with UNAUTHORIZED.
 */

const database = useTestDatabase(domainModules);
let server: ApiServer;
let anonymous: HuddleClient;

const sql = <Row>(query: string, params: unknown[] = []) =>
  inRequestScope(database.db.orm, (em) => em.execute<Row[]>(query, params));

beforeAll(async () => {
  server = await startTestServer(database.db);
  anonymous = createHuddleClient(server.url, undefined, { retries: 0 });
});
afterAll(() => server?.close());

let joins = 0;
/** A poker player signed in with a fresh session, and a poker session of theirs to subscribe to. */
async function pokerPlayer() {
  joins += 1;
  const signedIn = await anonymous.poker.join.mutate({ name: `P${joins}`, email: `p${joins}@example.com` });
  const client = createHuddleClient(server.url, signedIn.token, { retries: 0 });
  const room = await client.poker.sessions.create.mutate({ name: 'Room' });
  return { signedIn, client, roomId: room.id };
}

/** Subscribes and resolves with the error the stream ends with (after it said it was subscribed). */
function streamEnd(
  subscribe: (handlers: {
    onData(message: unknown): void;
    onError(error: TRPCClientError<AppRouter>): void;
  }) => { unsubscribe(): void },
) {
  let subscribed: () => void;
  const ready = new Promise<void>((resolve) => (subscribed = resolve));
  const ended = new Promise<TRPCClientError<AppRouter>>((resolve) => {
    subscribe({
      onData: (message) => {
        if ((message as { type?: string }).type === 'subscribed') subscribed();
      },
      onError: resolve,
    });
  });
  return { ready, ended };
}

const SESSION_ENDED = 'authorization: the session has ended';

describe('sessions', () => {
  it('a sign-in opens a session row; the access token is short-lived and names it', async () => {
    const { signedIn } = await pokerPlayer();
    const [row] = await sql<{ module: string; subject: string; client_address: string; user_agent: string }>(
      'select module, subject, client_address, user_agent from huddle.sessions where id = ?',
      [signedIn.sessionId],
    );
    expect(row).toMatchObject({ module: 'poker', subject: String(signedIn.user.id) });
    expect(row!.client_address).toBe('127.0.0.1');
    expect(Date.parse(signedIn.expiresAt) - Date.now()).toBeLessThanOrEqual(10 * 60_000);
  });

  it('refresh rotates; the rotated-out refresh token used again revokes the whole session', async () => {
    const { signedIn, roomId } = await pokerPlayer();
    const refreshed = await anonymous.auth.refresh.mutate({ refreshToken: signedIn.refreshToken });
    expect(refreshed.refreshToken).not.toBe(signedIn.refreshToken);
    const next = createHuddleClient(server.url, refreshed.token, { retries: 0 });
    await next.poker.sessions.get.query({ sessionId: roomId });
    const stream = streamEnd((handlers) => next.poker.events.subscribe({ sessionId: roomId }, handlers));
    await stream.ready;

    const reused = await failure(anonymous.auth.refresh.mutate({ refreshToken: signedIn.refreshToken }));
    expect(reused.data?.code).toBe('UNAUTHORIZED');
    expect(reused.message).toContain('was already used');
    // The thief's (or the owner's) newer tokens die with the session: HTTP and the open stream.
    const refused = await failure(next.poker.sessions.get.query({ sessionId: roomId }));
    expect([refused.data?.code, refused.message]).toEqual([
      'UNAUTHORIZED',
      expect.stringContaining(SESSION_ENDED),
    ]);
    expect((await stream.ended).data?.code).toBe('UNAUTHORIZED');
    const stale = await failure(anonymous.auth.refresh.mutate({ refreshToken: refreshed.refreshToken }));
    expect(stale.data?.code).toBe('UNAUTHORIZED');
    const [row] = await sql<{ revoked_reason: string }>(
      'select revoked_reason from huddle.sessions where id = ?',
      [signedIn.sessionId],
    );
    expect(row!.revoked_reason).toBe('refresh_token_reused');
  });

  it('sign-out ends the session: its token, its refresh token and its open stream', async () => {
    const { signedIn, client, roomId } = await pokerPlayer();
    const stream = streamEnd((handlers) => client.poker.events.subscribe({ sessionId: roomId }, handlers));
    await stream.ready;
    expect(await client.auth.signOut.mutate({ module: 'poker' })).toEqual({ signedOut: true });
    const ended = await stream.ended;
    expect([ended.data?.code, ended.message]).toEqual([
      'UNAUTHORIZED',
      expect.stringContaining(SESSION_ENDED),
    ]);
    expect((await failure(client.poker.sessions.get.query({ sessionId: roomId }))).data?.code).toBe(
      'UNAUTHORIZED',
    );
    const refresh = await failure(anonymous.auth.refresh.mutate({ refreshToken: signedIn.refreshToken }));
    expect(refresh.data?.code).toBe('UNAUTHORIZED');
  });

  it("lists and revokes one's own sessions, a page at a time; another user's session is not one's own", async () => {
    const { signedIn, client, roomId } = await pokerPlayer();
    // The same player signs in again on another device (with their token): a second session.
    const other = await client.poker.join.mutate({
      name: signedIn.user.name,
      email: `p${joins}@example.com`,
    });
    const page = await client.auth.sessions.list.query({ module: 'poker', limit: 1 });
    expect(page.items).toHaveLength(1);
    const rest = await client.auth.sessions.list.query({ module: 'poker', cursor: page.nextCursor! });
    const ids = [...page.items, ...rest.items].map((session) => session.id);
    expect(ids.sort()).toEqual([signedIn.sessionId, other.sessionId].sort());
    expect([...page.items, ...rest.items].find((session) => session.current)?.id).toBe(signedIn.sessionId);
    const stranger = await pokerPlayer();
    const notMine = await failure(
      stranger.client.auth.sessions.revoke.mutate({ module: 'poker', sessionId: other.sessionId }),
    );
    expect(notMine.data?.code).toBe('NOT_FOUND');
    await client.auth.sessions.revoke.mutate({ module: 'poker', sessionId: other.sessionId });
    const revoked = createHuddleClient(server.url, other.token, { retries: 0 });
    expect((await failure(revoked.poker.sessions.get.query({ sessionId: roomId }))).data?.code).toBe(
      'UNAUTHORIZED',
    );
  });

  it('an expired access token is refused; the typed client refreshes on that refusal and before expiry', async () => {
    const { signedIn, roomId } = await pokerPlayer();
    const expired = await issueToken(
      TEST_SECRET,
      { module: 'poker', subject: String(signedIn.user.id), sessionId: signedIn.sessionId },
      -60_000,
    );
    const stale = createHuddleClient(server.url, expired.token, { retries: 0 });
    const refused = await failure(stale.poker.sessions.get.query({ sessionId: roomId }));
    expect([refused.data?.code, refused.message]).toEqual([
      'UNAUTHORIZED',
      expect.stringContaining('token has expired; refresh it'),
    ]);
    // The client believes the token fresh (its clock says so), the API refuses it: refresh, then send again.
    const heard: HuddleSession[] = [];
    const believed = {
      token: expired.token,
      expiresAt: signedIn.expiresAt,
      refreshToken: signedIn.refreshToken,
    };
    const client = createHuddleClient(server.url, believed, { onRefresh: (session) => heard.push(session) });
    expect((await client.poker.sessions.get.query({ sessionId: roomId })).id).toBe(roomId);
    expect(heard).toHaveLength(1);
    // Past its expiry by the client's clock: refreshed before the call goes out.
    const ahead = createHuddleClient(server.url, { ...heard[0]!, expiresAt: new Date(0).toISOString() });
    await ahead.poker.sessions.get.query({ sessionId: roomId });
    const [row] = await sql<{ revoked_at: Date | null }>(
      'select revoked_at from huddle.sessions where id = ?',
      [signedIn.sessionId],
    );
    expect(row!.revoked_at).toBeNull();
  });

  it('an open stream ends when the token it was opened with expires', async () => {
    const { signedIn, roomId } = await pokerPlayer();
    const shortLived = await issueToken(
      TEST_SECRET,
      { module: 'poker', subject: String(signedIn.user.id), sessionId: signedIn.sessionId },
      1_500,
    );
    const client = createHuddleClient(server.url, shortLived.token);
    const stream = streamEnd((handlers) => client.poker.events.subscribe({ sessionId: roomId }, handlers));
    await stream.ready;
    const ended = await stream.ended;
    expect([ended.data?.code, ended.message]).toEqual([
      'UNAUTHORIZED',
      expect.stringContaining('token has expired'),
    ]);
  });
});

describe('users ended by their module, and admins', () => {
  let admin: { id: number; client: HuddleClient };

  async function scrumUser(username: string, role: string) {
    const [row] = await sql<{ id: number }>(
      'insert into scrum.users (github_id, username, role) values (?, ?, ?) returning id',
      [`${username}-gh`, username, role],
    );
    const { token, sessionId } = await issueSessionToken(database.db, TEST_SECRET, {
      module: 'scrum',
      subject: String(row!.id),
    });
    return { id: row!.id, token, sessionId, client: createHuddleClient(server.url, token, { retries: 0 }) };
  }

  beforeAll(async () => {
    admin = await scrumUser('ada', 'admin');
  });

  it("a deactivated user's token and open stream end; reactivation revives neither", async () => {
    const dev = await scrumUser('dev', 'developer');
    const stream = streamEnd((handlers) =>
      dev.client.scrum.notifications.events.subscribe(undefined, handlers),
    );
    await stream.ready;
    await admin.client.scrum.users.deactivate.mutate({ userId: dev.id });
    expect((await stream.ended).data?.code).toBe('UNAUTHORIZED');
    await admin.client.scrum.users.reactivate.mutate({ userId: dev.id });
    const refused = await failure(dev.client.scrum.users.me.query());
    expect([refused.data?.code, refused.message]).toEqual([
      'UNAUTHORIZED',
      expect.stringContaining(SESSION_ENDED),
    ]);
  });

  it("a deleted decisions user's token stays dead after a restore", async () => {
    const [director, member] = await sql<{ id: number }>(
      `insert into decisions.users (email, name, role, password_hash) values
         ('dir@example.com', 'Dir', 'director', 'x'), ('mem@example.com', 'Mem', 'member', 'x') returning id`,
    );
    const tokenOf = async (id: number) =>
      (await issueSessionToken(database.db, TEST_SECRET, { module: 'decisions', subject: String(id) })).token;
    const directorClient = createHuddleClient(server.url, await tokenOf(director!.id), { retries: 0 });
    const memberClient = createHuddleClient(server.url, await tokenOf(member!.id), { retries: 0 });
    await memberClient.decisions.users.me.query();
    await directorClient.decisions.users.delete.mutate({ userId: member!.id });
    await directorClient.decisions.users.restore.mutate({ userId: member!.id });
    const refused = await failure(memberClient.decisions.users.me.query());
    expect([refused.data?.code, refused.message]).toEqual([
      'UNAUTHORIZED',
      expect.stringContaining(SESSION_ENDED),
    ]);
  });

  it("an admin revokes another user's sessions; a non-admin may not", async () => {
    const dev = await scrumUser('dev2', 'developer');
    const refused = await failure(
      dev.client.auth.sessions.revokeUser.mutate({ module: 'scrum', subject: String(admin.id) }),
    );
    expect(refused.data?.code).toBe('FORBIDDEN');
    expect(
      await admin.client.auth.sessions.revokeUser.mutate({ module: 'scrum', subject: String(dev.id) }),
    ).toEqual({ revoked: 1 });
    expect((await failure(dev.client.scrum.users.me.query())).data?.code).toBe('UNAUTHORIZED');
  });

  it('a read-only service key reads, may not write, is listed with its last use, and dies when revoked', async () => {
    const created = await admin.client.auth.keys.create.mutate({
      module: 'scrum',
      name: 'reporting',
      access: 'read',
    });
    expect(created.key.startsWith('hk_scrum.')).toBe(true);
    const program = createHuddleClient(server.url, created.key, { retries: 0 });
    expect((await program.scrum.users.me.query()).id).toBe(admin.id);
    const write = await failure(program.scrum.notifications.markAllRead.mutate());
    expect([write.data?.code, write.message]).toEqual(['FORBIDDEN', expect.stringContaining('read-only')]);
    // A key edited to claim write access no longer matches its row.
    const forged = createHuddleClient(server.url, created.key.replace('.r.', '.w.'), { retries: 0 });
    expect((await failure(forged.scrum.users.me.query())).data?.code).toBe('UNAUTHORIZED');
    const listed = await admin.client.auth.keys.list.query({ module: 'scrum' });
    expect(listed.items.find((key) => key.id === created.id)).toMatchObject({
      name: 'reporting',
      readOnly: true,
    });
    const [stored] = await sql<{ secret_hash: string }>(
      'select secret_hash from huddle.sessions where id = ?',
      [created.id],
    );
    expect(stored!.secret_hash).not.toContain(created.key.split('.').at(-1));

    const stream = streamEnd((handlers) => program.scrum.notifications.events.subscribe(undefined, handlers));
    await stream.ready;
    await admin.client.auth.keys.revoke.mutate({ module: 'scrum', id: created.id });
    expect((await stream.ended).data?.code).toBe('UNAUTHORIZED');
    expect((await failure(program.scrum.users.me.query())).data?.code).toBe('UNAUTHORIZED');
  });
});
