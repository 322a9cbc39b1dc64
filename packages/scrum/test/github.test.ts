import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InvalidInputError, inRequestScope, UnauthorizedError } from '@huddle/db';
import { useTestDatabase } from '@huddle/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scrumModule } from '../src/module.ts';
import { currentUserSchema } from '../src/schemas.ts';
import {
  FIRST_SIGN_IN_ROLE,
  type GitHubOAuthConfig,
  githubAuthorizeUrl,
  githubCallback,
  githubOAuthConfigFromEnv,
} from '../src/services/github.ts';
import { expectHuddleError, useSqlClient } from './helpers.ts';

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
  const state = { signingIn: undefined as GitHubAccount | undefined, userEndpointFails: false };
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
      SCRUM_INITIAL_ADMIN_GITHUB_IDS: '9001, 9002',
    })!,
    allowInsecureRequests: true,
  };
});

afterAll(async () => {
  await new Promise((resolve) => standIn.server.close(resolve));
});

/** The browser's part: follow the authorize URL as `account`, read code and state off the redirect. */
async function authorizeAs(account: GitHubAccount) {
  standIn.state.signingIn = account;
  const authorization = await githubAuthorizeUrl(config);
  const redirect = await fetch(authorization.url, { redirect: 'manual' });
  const back = new URL(redirect.headers.get('location')!);
  return {
    authorization,
    callback: { code: back.searchParams.get('code')!, state: back.searchParams.get('state')! },
  };
}

function signIn(callback: { code: string; state: string }, pending: { state: string; codeVerifier: string }) {
  return inRequestScope(test.db.orm, (em) => githubCallback(em, config, callback, pending));
}

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

describe('sign-in with GitHub', () => {
  it('the authorize URL carries the client, redirect, a fresh state and an S256 PKCE challenge', async () => {
    const first = await githubAuthorizeUrl(config);
    const second = await githubAuthorizeUrl(config);
    const url = new URL(first.url);
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      client_id: 'huddle-test',
      redirect_uri: config.redirectUri,
      state: first.state,
      code_challenge: createHash('sha256').update(first.codeVerifier).digest('base64url'),
      code_challenge_method: 'S256',
    });
    expect(url.searchParams.get('code_verifier')).toBeNull();
    expect(second.state).not.toBe(first.state);
  });

  it('creates the user by github_id as a developer, then updates name, email and avatar on the next sign-in', async () => {
    const { authorization, callback } = await authorizeAs(octo);
    const user = await signIn(callback, authorization);
    expect(currentUserSchema.parse(user)).toEqual(user);
    expect(user).toMatchObject({
      githubId: '583231',
      username: 'octocat',
      email: 'octocat@github.test',
      role: FIRST_SIGN_IN_ROLE,
    });

    await postgres.client.query(`update scrum.users set role = 'tester' where github_id = '583231'`);
    const renamed = { ...octo, login: 'octo-renamed', avatar_url: 'https://avatars.test/u/583231?v=2' };
    const again = await authorizeAs(renamed);
    const updated = await signIn(again.callback, again.authorization);
    expect(updated).toMatchObject({ id: user.id, username: 'octo-renamed', role: 'tester' });
    expect(await storedUsers()).toEqual([
      {
        github_id: '583231',
        username: 'octo-renamed',
        email: 'octocat@github.test',
        avatar_url: 'https://avatars.test/u/583231?v=2',
        role: 'tester',
        is_active: true,
      },
    ]);
  });

  it('reads the primary verified email when the profile hides it, and makes a listed first user an admin', async () => {
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
    const { authorization, callback } = await authorizeAs(lead);
    expect(await signIn(callback, authorization)).toMatchObject({ email: 'lead@lead.test', role: 'admin' });
  });

  it('refuses a callback whose state is not the one issued, writing nothing', async () => {
    const before = await storedUsers();
    const { authorization, callback } = await authorizeAs({ ...octo, id: 111, login: 'mallory' });
    const error = await expectHuddleError(
      signIn({ ...callback, state: 'forged' }, authorization),
      UnauthorizedError,
    );
    expect(error.constraint.field).toBe('state');
    expect(await storedUsers()).toEqual(before);
  });

  it('refuses when GitHub refuses the code (wrong PKCE verifier, reused code) or its API fails', async () => {
    const before = await storedUsers();
    const { authorization, callback } = await authorizeAs({ ...octo, id: 222, login: 'eve' });
    const wrongVerifier = { ...authorization, codeVerifier: (await githubAuthorizeUrl(config)).codeVerifier };
    expect(
      (await expectHuddleError(signIn(callback, wrongVerifier), UnauthorizedError)).constraint.field,
    ).toBe('code');
    // The code was spent on the failed attempt: GitHub refuses it a second time.
    await expectHuddleError(signIn(callback, authorization), UnauthorizedError);
    standIn.state.userEndpointFails = true;
    try {
      const next = await authorizeAs({ ...octo, id: 333, login: 'trent' });
      await expectHuddleError(signIn(next.callback, next.authorization), UnauthorizedError);
    } finally {
      standIn.state.userEndpointFails = false;
    }
    expect(await storedUsers()).toEqual(before);
    await expectHuddleError(signIn({ code: '', state: 'x' }, authorization), InvalidInputError);
  });

  it('refuses a deactivated user, leaving their row as it was', async () => {
    await postgres.client.query(`update scrum.users set is_active = false where github_id = '583231'`);
    const before = await storedUsers();
    const { authorization, callback } = await authorizeAs({ ...octo, login: 'octo-back' });
    const error = await expectHuddleError(signIn(callback, authorization), UnauthorizedError);
    expect(error.message).toMatch(/deactivated/);
    expect(await storedUsers()).toEqual(before);
  });
});
