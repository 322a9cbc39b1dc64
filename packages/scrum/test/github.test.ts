import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type EntityManager, InvalidInputError, parseInput, UnauthorizedError } from '@huddle/db';
import { useTestDatabase } from '@huddle/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scrumModule } from '../src/module.ts';
import {
  currentUserSchema,
  githubCallbackInputSchema,
  inviteUserInputSchema,
  type UserRole,
} from '../src/schemas.ts';
import {
  FIRST_SIGN_IN_ROLE,
  type GitHubOAuthConfig,
  githubAuthorizeUrl,
  githubCallback,
  githubOAuthConfigFromEnv,
} from '../src/services/github.ts';
import { inviteUserAsOperator } from '../src/services/users.ts';
import { expectHuddleError, inRequest, useSqlClient } from './helpers.ts';

const test = useTestDatabase([scrumModule]);
const postgres = useSqlClient(test);

interface GitHubAccount {
  id: number;
  login: string;
  email: string | null;
  avatar_url: string;
  emails?: { email: string; primary: boolean; verified: boolean }[];
}

/**
 * A stand-in for GitHub's authorize, token and user endpoints on 127.0.0.1: `authorize` redirects back with
 * a code bound to the PKCE challenge; the token endpoint checks client secret, redirect URI and verifier.
 */
function gitHubStandIn() {
  const codes = new Map<string, { account: GitHubAccount; challenge: string; redirectUri: string }>();
  const tokens = new Map<string, GitHubAccount>();
  const state = {
    signingIn: undefined as GitHubAccount | undefined,
    userEndpointFails: false,
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
      codes.set(code, {
        account: state.signingIn!,
        challenge: url.searchParams.get('code_challenge') ?? '',
        redirectUri: url.searchParams.get('redirect_uri') ?? '',
      });
      const back = new URL(url.searchParams.get('redirect_uri')!);
      back.searchParams.set('code', code);
      back.searchParams.set('state', url.searchParams.get('state') ?? '');
      response.writeHead(302, { location: back.toString() });
      response.end();
      return;
    }
    if (url.pathname === '/login/oauth/access_token' && request.method === 'POST') {
      state.exchanges += 1;
      let body = '';
      for await (const chunk of request) body += chunk;
      const form = new URLSearchParams(body);
      const grant = codes.get(form.get('code') ?? '');
      codes.delete(form.get('code') ?? '');
      const verifier = form.get('code_verifier') ?? '';
      const challenge = createHash('sha256').update(verifier).digest('base64url');
      // GitHub answers token errors with 200 and an `error` field.
      if (
        !grant ||
        form.get('client_secret') !== 'shh' ||
        grant.challenge !== challenge ||
        grant.redirectUri !== form.get('redirect_uri')
      ) {
        json(200, {
          error: 'bad_verification_code',
          error_description: 'The code passed is incorrect or expired.',
        });
        return;
      }
      const token = randomBytes(8).toString('hex');
      tokens.set(token, grant.account);
      json(200, { access_token: token, token_type: 'bearer', scope: 'read:user,user:email' });
      return;
    }
    const account = tokens.get((request.headers.authorization ?? '').replace(/^Bearer /i, ''));
    if (!account) return json(401, { message: 'Bad credentials' });
    if (url.pathname === '/api/v3/user') {
      if (state.userEndpointFails) return json(502, { message: 'Server Error' });
      const { emails: _, ...user } = account;
      return json(200, user);
    }
    if (url.pathname === '/api/v3/user/emails') return json(200, account.emails ?? []);
    json(404, { message: 'Not Found' });
  });
  return { server, state };
}

const standIn = gitHubStandIn();
let config: GitHubOAuthConfig;

beforeAll(async () => {
  await new Promise<void>((resolve) => standIn.server.listen(0, '127.0.0.1', resolve));
  const { port } = standIn.server.address() as AddressInfo;
  const base = `http://127.0.0.1:${port}`;
  config = {
    ...githubOAuthConfigFromEnv({
      GITHUB_CLIENT_ID: 'huddle-test',
      GITHUB_CLIENT_SECRET: 'shh',
      GITHUB_REDIRECT_URI: 'http://127.0.0.1:1/auth/github/callback',
      GITHUB_AUTHORIZE_URL: `${base}/login/oauth/authorize`,
      GITHUB_TOKEN_URL: `${base}/login/oauth/access_token`,
      GITHUB_API_URL: `${base}/api/v3`,
      SCRUM_SIGN_UP_GITHUB_LOGINS: 'Lead, trent',
    })!,
    allowInsecureRequests: true,
  };
});

afterAll(async () => {
  await new Promise((resolve) => standIn.server.close(resolve));
});

/** A client's part up to the callback: start a sign-in, follow the URL as `account`, read code and state. */
async function authorizeAs(account: GitHubAccount) {
  standIn.state.signingIn = account;
  const authorization = await inRequest(test.db, (em) => githubAuthorizeUrl(em, config));
  const redirect = await fetch(authorization.url, { redirect: 'manual' });
  const back = new URL(redirect.headers.get('location')!);
  return {
    authorization,
    /** What the client sends to the callback: GitHub's code and state, and the flow secret it kept. */
    callback: {
      code: back.searchParams.get('code')!,
      state: back.searchParams.get('state')!,
      flowSecret: authorization.flowSecret,
    },
  };
}

/** The callback as the API makes it: the input parsed at the edge, each step a transaction as the owner. */
async function signIn(callback: { code: string; state: string; flowSecret: string }) {
  const asOwner = <T>(work: (em: EntityManager) => Promise<T>) => inRequest(test.db, work);
  return githubCallback(asOwner, config, parseInput(githubCallbackInputSchema, callback));
}

/** The operator's invitation as `huddle scrum invite` makes it: the login parsed (lower-cased) at that edge. */
const invite = (githubLogin: string, role: UserRole = 'developer') =>
  inRequest(test.db, (em) =>
    inviteUserAsOperator(em, parseInput(inviteUserInputSchema, { githubLogin, role })),
  );

const octo: GitHubAccount = {
  id: 583231,
  login: 'octocat',
  email: 'octocat@github.test',
  avatar_url: 'https://avatars.test/u/583231',
};

async function storedUsers() {
  const result = await postgres.client.query(
    'select github_id, username, email, avatar_url, role, is_active from scrum.users order by id',
  );
  return result.rows;
}

const flowCount = async () =>
  (await postgres.client.query<{ n: number }>('select count(*)::int as n from scrum.sign_in_flows')).rows[0]!
    .n;

describe('sign-in with GitHub', () => {
  it('the URL carries the client, redirect, a fresh state and an S256 challenge; the server keeps only hashes and a sealed verifier', async () => {
    const { authorization: first } = await authorizeAs(octo);
    const second = await inRequest(test.db, (em) => githubAuthorizeUrl(em, config));
    const url = new URL(first.url);
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      client_id: 'huddle-test',
      redirect_uri: config.redirectUri,
      state: first.state,
      code_challenge_method: 'S256',
    });
    expect(url.searchParams.get('code_verifier')).toBeNull();
    expect(first.url).not.toContain(first.flowSecret);
    expect(second.state).not.toBe(first.state);
    expect(second.flowSecret).not.toBe(first.flowSecret);
    const { rows } = await postgres.client.query(
      'select state_hash, client_hash, sealed_verifier, expires_at from scrum.sign_in_flows where state_hash = $1',
      [createHash('sha256').update(first.state).digest('hex')],
    );
    expect(rows).toEqual([
      {
        state_hash: createHash('sha256').update(first.state).digest('hex'),
        client_hash: createHash('sha256').update(first.flowSecret).digest('hex'),
        sealed_verifier: expect.any(String),
        expires_at: new Date(first.expiresAt),
      },
    ]);
    expect(JSON.stringify(rows)).not.toContain(first.state);
    expect(JSON.stringify(rows)).not.toContain(first.flowSecret);
  });

  it('closed by default: a GitHub account nobody invited becomes no user, and its flow is used up', async () => {
    const { callback } = await authorizeAs({ ...octo, id: 444, login: 'stranger' });
    const error = await expectHuddleError(signIn(callback), UnauthorizedError);
    expect(error.message).toBe(
      'code: GitHub user stranger is not invited to this team; ask an admin to invite them',
    );
    expect(await storedUsers()).toEqual([]);
    await expectHuddleError(signIn(callback), UnauthorizedError);
  });

  it('an invited login (any case) becomes a user with the invitation’s role, accepting it; the next sign-in updates the profile only', async () => {
    const invitation = await invite('OctoCat', 'tester');
    expect(invitation).toMatchObject({
      githubLogin: 'octocat',
      role: 'tester',
      invitedById: null,
      userId: null,
    });
    const { callback } = await authorizeAs(octo);
    const user = await signIn(callback);
    expect(currentUserSchema.parse(user)).toEqual(user);
    expect(user).toMatchObject({
      githubId: '583231',
      username: 'octocat',
      email: 'octocat@github.test',
      role: 'tester',
    });
    const accepted = await postgres.client.query(
      'select user_id, accepted_at is not null as accepted from scrum.invitations where id = $1',
      [invitation.id],
    );
    expect(accepted.rows).toEqual([{ user_id: user.id, accepted: true }]);

    await postgres.client.query(`update scrum.users set role = 'designer' where github_id = '583231'`);
    const renamed = { ...octo, login: 'octo-renamed', avatar_url: 'https://avatars.test/u/583231?v=2' };
    const again = await authorizeAs(renamed);
    expect(await signIn(again.callback)).toMatchObject({
      id: user.id,
      username: 'octo-renamed',
      role: 'designer',
    });
    expect(await storedUsers()).toEqual([
      {
        github_id: '583231',
        username: 'octo-renamed',
        email: 'octocat@github.test',
        avatar_url: 'https://avatars.test/u/583231?v=2',
        role: 'designer',
        is_active: true,
      },
    ]);
  });

  it('a login on SCRUM_SIGN_UP_GITHUB_LOGINS joins uninvited, as a developer; the primary verified email is read when the profile hides it', async () => {
    const lead: GitHubAccount = {
      id: 9001,
      login: 'lead',
      email: null,
      avatar_url: 'https://avatars.test/u/9001',
      emails: [
        { email: 'old@lead.test', primary: false, verified: true },
        { email: 'lead@lead.test', primary: true, verified: true },
      ],
    };
    expect(config.signUpLogins).toEqual(['lead', 'trent']);
    const { callback } = await authorizeAs(lead);
    expect(await signIn(callback)).toMatchObject({ email: 'lead@lead.test', role: FIRST_SIGN_IN_ROLE });
    expect(() =>
      githubOAuthConfigFromEnv({ ...envOf(config), SCRUM_SIGN_UP_GITHUB_LOGINS: 'ok, not a login' }),
    ).toThrow('SCRUM_SIGN_UP_GITHUB_LOGINS: "not a login" is not a GitHub login');
  });

  it('a leaked callback URL replayed from another client is refused before GitHub is asked; the victim still signs in', async () => {
    await invite('victim');
    const victim = await authorizeAs({ ...octo, id: 555, login: 'victim' });
    const attacker = await inRequest(test.db, (em) => githubAuthorizeUrl(em, config));
    const exchanges = standIn.state.exchanges;
    for (const flowSecret of [attacker.flowSecret, 'guessed']) {
      const error = await expectHuddleError(signIn({ ...victim.callback, flowSecret }), UnauthorizedError);
      expect(error.constraint.field).toBe('state');
    }
    expect(standIn.state.exchanges).toBe(exchanges);
    expect((await storedUsers()).map((user) => user.username)).not.toContain('victim');
    expect(await signIn(victim.callback)).toMatchObject({ username: 'victim' });
  });

  it('login CSRF: completing the attacker’s code and state from the victim’s client is refused', async () => {
    await invite('mallory');
    const attacker = await authorizeAs({ ...octo, id: 666, login: 'mallory' });
    const victimsFlow = await inRequest(test.db, (em) => githubAuthorizeUrl(em, config));
    const before = await storedUsers();
    const error = await expectHuddleError(
      signIn({ ...attacker.callback, flowSecret: victimsFlow.flowSecret }),
      UnauthorizedError,
    );
    expect(error.constraint.field).toBe('state');
    expect(await storedUsers()).toEqual(before);
  });

  it('a flow is used once: the same callback again, or after it expired, is refused without asking GitHub', async () => {
    await invite('once');
    const first = await authorizeAs({ ...octo, id: 777, login: 'once' });
    await signIn(first.callback);
    const exchanges = standIn.state.exchanges;
    expect((await expectHuddleError(signIn(first.callback), UnauthorizedError)).message).toMatch(
      /^state: no sign-in started by this client has this state/,
    );
    const late = await authorizeAs({ ...octo, id: 777, login: 'once' });
    await postgres.client.query(
      `update scrum.sign_in_flows set expires_at = now() - interval '1 second' where state_hash = $1`,
      [createHash('sha256').update(late.callback.state).digest('hex')],
    );
    await expectHuddleError(signIn(late.callback), UnauthorizedError);
    expect(standIn.state.exchanges).toBe(exchanges);
    // Starting a sign-in purges expired flows.
    const flows = await flowCount();
    await inRequest(test.db, (em) => githubAuthorizeUrl(em, config));
    expect(await flowCount()).toBe(flows);
  });

  it('refuses when GitHub refuses the code or its API fails, writing nothing', async () => {
    await invite('eve');
    const before = await storedUsers();
    const { callback } = await authorizeAs({ ...octo, id: 222, login: 'eve' });
    expect(
      (await expectHuddleError(signIn({ ...callback, code: 'not-issued' }), UnauthorizedError)).constraint
        .field,
    ).toBe('code');
    standIn.state.userEndpointFails = true;
    try {
      const next = await authorizeAs({ ...octo, id: 222, login: 'eve' });
      await expectHuddleError(signIn(next.callback), UnauthorizedError);
    } finally {
      standIn.state.userEndpointFails = false;
    }
    expect(await storedUsers()).toEqual(before);
    await expectHuddleError(signIn({ ...callback, code: '' }), InvalidInputError);
    await expectHuddleError(signIn({ ...callback, flowSecret: '' }), InvalidInputError);
  });

  it('refuses a deactivated user, leaving their row as it was', async () => {
    await postgres.client.query(`update scrum.users set is_active = false where github_id = '583231'`);
    const before = await storedUsers();
    const { callback } = await authorizeAs({ ...octo, login: 'octo-back' });
    const error = await expectHuddleError(signIn(callback), UnauthorizedError);
    expect(error.message).toMatch(/deactivated/);
    expect(await storedUsers()).toEqual(before);
  });
});

/** The environment a config was read from (for re-reading it with one variable changed). */
function envOf(from: GitHubOAuthConfig): NodeJS.ProcessEnv {
  return {
    GITHUB_CLIENT_ID: from.clientId,
    GITHUB_CLIENT_SECRET: from.clientSecret,
    GITHUB_REDIRECT_URI: from.redirectUri,
  };
}
