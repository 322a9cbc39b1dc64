import { type EntityManager, parseInput, UnauthorizedError } from '@huddle/db';
import * as oauth from 'oauth4webapi';
import { z } from 'zod';
import { ScrumUser } from '../entities/user.ts';
import {
  type CurrentUser,
  type GitHubAuthorization,
  type GitHubCallbackInput,
  githubCallbackInputSchema,
  type UserRole,
} from '../schemas.ts';
import { toCurrentUser } from './outputs.ts';

/**
 * Sign-in with GitHub (OAuth 2.0 web flow with state and PKCE, through oauth4webapi). The endpoints are
 * configurable for GitHub Enterprise, and for the tests' local stand-in of GitHub.
 */
export interface GitHubOAuthConfig {
  clientId: string;
  clientSecret: string;
  /** Where GitHub sends the browser back with `code` and `state` (registered with the OAuth app). */
  redirectUri: string;
  /** Default `https://github.com/login/oauth/authorize`. */
  authorizeUrl: string;
  /** Default `https://github.com/login/oauth/access_token`. */
  tokenUrl: string;
  /** The REST API root: default `https://api.github.com` (Enterprise: `https://HOST/api/v3`). */
  apiUrl: string;
  /**
   * GitHub user ids (numeric, as strings) that become admins when they first sign in: how a new team gets its
   * first admin. Everyone else starts as a developer; admins change roles afterwards.
   */
  initialAdminIds: readonly string[];
  /** Plain-http endpoints (only the tests' loopback stand-in). */
  allowInsecureRequests?: boolean;
}

/** The role of a first-time user who is not listed in `initialAdminIds`: the least privileged team role. */
export const FIRST_SIGN_IN_ROLE: UserRole = 'developer';

const GITHUB_DEFAULTS = {
  authorizeUrl: 'https://github.com/login/oauth/authorize',
  tokenUrl: 'https://github.com/login/oauth/access_token',
  apiUrl: 'https://api.github.com',
};

/**
 * Reads the configuration from GITHUB_CLIENT_ID, GITHUB_CLIENT_SECRET, GITHUB_REDIRECT_URI (required),
 * GITHUB_AUTHORIZE_URL, GITHUB_TOKEN_URL, GITHUB_API_URL (optional, GitHub Enterprise) and
 * SCRUM_INITIAL_ADMIN_GITHUB_IDS (optional, comma-separated); null when GitHub sign-in is not configured.
 */
export function githubOAuthConfigFromEnv(env: NodeJS.ProcessEnv = process.env): GitHubOAuthConfig | null {
  const { GITHUB_CLIENT_ID, GITHUB_CLIENT_SECRET, GITHUB_REDIRECT_URI } = env;
  if (!GITHUB_CLIENT_ID || !GITHUB_CLIENT_SECRET || !GITHUB_REDIRECT_URI) return null;
  return {
    clientId: GITHUB_CLIENT_ID,
    clientSecret: GITHUB_CLIENT_SECRET,
    redirectUri: GITHUB_REDIRECT_URI,
    authorizeUrl: env.GITHUB_AUTHORIZE_URL || GITHUB_DEFAULTS.authorizeUrl,
    tokenUrl: env.GITHUB_TOKEN_URL || GITHUB_DEFAULTS.tokenUrl,
    apiUrl: env.GITHUB_API_URL || GITHUB_DEFAULTS.apiUrl,
    initialAdminIds: (env.SCRUM_INITIAL_ADMIN_GITHUB_IDS ?? '')
      .split(',')
      .map((id) => id.trim())
      .filter(Boolean),
  };
}

function authorizationServer(config: GitHubOAuthConfig): oauth.AuthorizationServer {
  return {
    issuer: new URL(config.authorizeUrl).origin,
    authorization_endpoint: config.authorizeUrl,
    token_endpoint: config.tokenUrl,
  };
}

const requestOptions = (config: GitHubOAuthConfig) => ({
  [oauth.allowInsecureRequests]: config.allowInsecureRequests === true,
  signal: AbortSignal.timeout(10_000),
});

/**
 * The URL to send the browser to, with a fresh state and a PKCE (S256) challenge. The caller keeps `state`
 * and `codeVerifier` (server-side, or in an httpOnly cookie) for the callback; the verifier never goes to
 * the browser's address bar.
 */
export async function githubAuthorizeUrl(config: GitHubOAuthConfig): Promise<GitHubAuthorization> {
  const state = oauth.generateRandomState();
  const codeVerifier = oauth.generateRandomCodeVerifier();
  const url = new URL(config.authorizeUrl);
  url.searchParams.set('client_id', config.clientId);
  url.searchParams.set('redirect_uri', config.redirectUri);
  url.searchParams.set('scope', 'read:user user:email');
  url.searchParams.set('state', state);
  url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(codeVerifier));
  url.searchParams.set('code_challenge_method', 'S256');
  return { url: url.toString(), state, codeVerifier };
}

const githubUserSchema = z.object({
  id: z.number().int().positive(),
  login: z.string().min(1).max(100),
  email: z.string().max(255).nullish(),
  avatar_url: z.string().max(500).nullish(),
});
const githubEmailsSchema = z.array(
  z.object({ email: z.string(), primary: z.boolean(), verified: z.boolean() }),
);

async function githubApi(config: GitHubOAuthConfig, accessToken: string, path: string): Promise<unknown> {
  const headers = new Headers({ accept: 'application/vnd.github+json', 'user-agent': 'huddle-scrum' });
  const response = await oauth.protectedResourceRequest(
    accessToken,
    'GET',
    new URL(`${config.apiUrl.replace(/\/$/, '')}${path}`),
    headers,
    null,
    requestOptions(config),
  );
  if (!response.ok) throw new Error(`GitHub ${path} answered ${response.status}`);
  return response.json();
}

/** Exchanges the code (state and PKCE checked) and reads the GitHub user, with their primary verified email. */
async function fetchGitHubUser(
  config: GitHubOAuthConfig,
  callback: { code: string; state: string },
  pending: { state: string; codeVerifier: string },
) {
  const as = authorizationServer(config);
  const client: oauth.Client = { client_id: config.clientId };
  const returned = new URL(config.redirectUri);
  returned.searchParams.set('code', callback.code);
  returned.searchParams.set('state', callback.state);
  const params = oauth.validateAuthResponse(as, client, returned, pending.state);
  const response = await oauth.authorizationCodeGrantRequest(
    as,
    client,
    oauth.ClientSecretPost(config.clientSecret),
    params,
    config.redirectUri,
    pending.codeVerifier,
    requestOptions(config),
  );
  const { access_token: accessToken } = await oauth.processAuthorizationCodeResponse(as, client, response);
  const user = githubUserSchema.parse(await githubApi(config, accessToken, '/user'));
  if (user.email) return user;
  const emails = githubEmailsSchema.parse(await githubApi(config, accessToken, '/user/emails'));
  return { ...user, email: emails.find((entry) => entry.primary && entry.verified)?.email ?? null };
}

/**
 * The GitHub callback: checks `state` against the one issued (`pending`), exchanges the code with its PKCE
 * verifier, reads the GitHub user and creates or updates `scrum.users` by `github_id` (username, email,
 * avatar; a new user gets FIRST_SIGN_IN_ROLE, or admin when listed in `initialAdminIds`). Runs as the owner
 * (nobody is signed in yet); a deactivated user is refused and nothing is changed. Every failure of the
 * exchange is an UnauthorizedError. The caller (the API) turns the returned user into a token.
 */
export async function githubCallback(
  em: EntityManager,
  config: GitHubOAuthConfig,
  input: GitHubCallbackInput,
  pending: { state: string; codeVerifier: string },
): Promise<CurrentUser> {
  const callback = parseInput(githubCallbackInputSchema, input);
  let githubUser: Awaited<ReturnType<typeof fetchGitHubUser>>;
  try {
    githubUser = await fetchGitHubUser(config, callback, pending);
  } catch (error) {
    const field =
      error instanceof oauth.OperationProcessingError && /state/i.test(error.message) ? 'state' : 'code';
    throw new UnauthorizedError(
      `${field}: GitHub sign-in failed: ${(error as Error).message}`,
      { field },
      { cause: error },
    );
  }
  const githubId = String(githubUser.id);
  const role: UserRole = config.initialAdminIds.includes(githubId) ? 'admin' : FIRST_SIGN_IN_ROLE;
  const [row] = await em.execute<Record<string, unknown>[]>(
    `insert into scrum.users (github_id, username, email, avatar_url, role) values (?, ?, ?, ?, ?)
     on conflict (github_id) do update
       set username = excluded.username, email = excluded.email, avatar_url = excluded.avatar_url
     returning *`,
    [githubId, githubUser.login, githubUser.email ?? null, githubUser.avatar_url ?? null, role],
  );
  const user = em.map(ScrumUser, row!);
  if (!user.isActive) {
    throw new UnauthorizedError(`code: scrum user ${user.username} is deactivated; ask an admin`, {
      field: 'code',
    });
  }
  return toCurrentUser(user);
}
