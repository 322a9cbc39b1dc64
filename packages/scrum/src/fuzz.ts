import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type Database,
  type FuzzFixtureGeneration,
  inRequestScope,
  type ModuleFuzzFixtures,
  runAsActor,
} from '@huddle/db';
import type { ScrumActor } from './actor.ts';
import { type ScrumResources, scrumModule } from './module.ts';
import type { GitHubOAuthConfig } from './services/github.ts';
import { reportIssue } from './services/triage.ts';
import { deactivateUser } from './services/users.ts';

/** Open triage items: a promotion or a status change closes one. */
const TRIAGE_ITEMS = 3;

/**
 * A GitHub stand-in that grants every code (a fuzzer cannot follow the browser's redirect to learn one) and
 * answers for one account, so `scrum.auth.githubCallback` with a `state` that `githubAuthorizeUrl` returned
 * gets through the exchange.
 */
async function githubGrantingStandIn(): Promise<{ config: GitHubOAuthConfig; close(): Promise<void> }> {
  const server = createServer((request, response) => {
    const json = (status: number, body: unknown) =>
      response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    request.resume();
    if (request.url === '/login/oauth/access_token') {
      return json(200, { access_token: 'fuzz-token', token_type: 'bearer', scope: 'read:user' });
    }
    if (request.url === '/api/v3/user') {
      // With its email: GitHub answers null for a private one, and the stand-in has no `/user/emails`.
      return json(200, {
        id: 424242,
        login: 'fuzz-octocat',
        name: 'Fuzz Octocat',
        email: 'octocat@example.com',
      });
    }
    json(404, { message: 'Not Found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    config: {
      clientId: 'huddle-fuzz',
      clientSecret: 'fuzz',
      redirectUri: 'http://127.0.0.1:1/auth/github/callback',
      authorizeUrl: `${base}/login/oauth/authorize`,
      tokenUrl: `${base}/login/oauth/access_token`,
      apiUrl: `${base}/api/v3`,
      signUpLogins: ['fuzz-octocat'],
      allowInsecureRequests: true,
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Scrum's first active admin, if any. */
async function activeAdmin(db: Database): Promise<ScrumActor | undefined> {
  const [admin] = await inRequestScope(db.orm, (em) =>
    em.execute<{ id: number | null }[]>(
      `select min(id) as id from scrum.users where role = 'admin' and is_active`,
    ),
  );
  return admin?.id ? { module: 'scrum', userId: admin.id, role: 'admin' } : undefined;
}

/**
 * Scrum's fixtures for the API's fuzz harness (`scrumModule.fuzz`), in a database seeded with the minimal
 * sample data: its first active admin as the token the harness tries first, GitHub sign-ins against a
 * stand-in on loopback (githubGrantingStandIn), and every generation open triage items reported by an admin
 * active then — a manager, so calls get past the role checks — for `triage.promote` and
 * `triage.changeStatus`, which each close one; one reported by someone else, so the first admin has a
 * notification of its own to mark read (an example); and a developer deactivated for `users.reactivate`.
 */
export async function scrumFuzzFixtures(db: Database): Promise<ModuleFuzzFixtures<ScrumResources>> {
  const first = await activeAdmin(db);
  const github = await githubGrantingStandIn();
  const generation = async (admin: ScrumActor): Promise<FuzzFixtureGeneration> => {
    const report = (actor: ScrumActor, title: string) =>
      runAsActor(db.orm, scrumModule, actor, (em, reporter) =>
        reportIssue(em, reporter, {
          title,
          description: 'Found by the fuzz harness.',
          priority: 'medium',
          category: 'issue',
        }),
      );
    const items: unknown[] = [];
    for (let index = 0; index < TRIAGE_ITEMS; index++)
      items.push((await report(admin, `Fuzz issue ${index}`)).id);
    const examples: Record<string, unknown[]> = {};
    const [colleague] = first
      ? await inRequestScope(db.orm, (em) =>
          em.execute<{ id: number }[]>(
            'select id from scrum.users where is_active and id <> ? order by id limit 1',
            [first.userId],
          ),
        )
      : [];
    if (first && colleague) {
      await report(
        { module: 'scrum', userId: colleague.id, role: 'developer' },
        'Fuzz issue for the first admin',
      );
      const notifications = await inRequestScope(db.orm, (em) =>
        em.execute<{ id: number }[]>(
          'select id from scrum.notifications where user_id = ? order by id desc limit 1',
          [first.userId],
        ),
      );
      examples['scrum.notifications.markRead'] = notifications.map((row) => ({ notificationId: row.id }));
    }
    // A developer deactivated, for `users.reactivate` (one per generation, while there are some).
    const [developer] = await inRequestScope(db.orm, (em) =>
      em.execute<{ id: number }[]>(
        `select id from scrum.users where is_active and role = 'developer' and id <> ? order by id desc limit 1`,
        [first?.userId ?? 0],
      ),
    );
    if (developer) {
      await runAsActor(db.orm, scrumModule, admin, (em, actor) =>
        deactivateUser(em, actor, { userId: developer.id }),
      );
      examples['scrum.users.reactivate'] = [{ userId: developer.id }];
    }
    // A pending item moves to review first (resolving takes a reviewed one).
    examples['scrum.triage.changeStatus'] = items.map((itemId) => ({ itemId, status: 'in_review' }));
    return { values: { itemId: items }, examples };
  };
  return {
    sources: [
      { fields: ['taskId', 'epicId', 'relatedTaskId'], sql: 'select id from scrum.tasks' },
      { fields: ['itemId'], sql: 'select id from scrum.triage_items order by id' },
      { fields: ['notificationId'], sql: 'select id from scrum.notifications' },
      { fields: ['messageId'], sql: 'select id from scrum.chat_messages' },
      {
        fields: ['userId', 'assigneeId', 'assignedUserId', 'recipientId'],
        sql: 'select id from scrum.users',
      },
    ],
    subjects: first ? [String(first.userId)] : [],
    // A sign-in flow is single use: a callback that presented the flow's state and secret consumes it even
    // when GitHub then refuses the code (OAuth's state is never good for a second try).
    usedUpWhenRefused: { 'scrum.auth.githubCallback': ['scrum.sign_in_flows'] },
    resources: { github: github.config },
    // The fuzzer may have deactivated the first admin since: an admin active now reports.
    generation: async () => {
      const admin = await activeAdmin(db);
      return admin ? generation(admin) : { values: {}, examples: {} };
    },
    remove: () => github.close(),
  };
}
