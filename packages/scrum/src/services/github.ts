import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import {
  type AnonymousTransactions,
  ConfigurationError,
  type EntityManager,
  NotConfiguredError,
  UnauthorizedError,
} from '@huddle/db';
import * as oauth from 'oauth4webapi';
import { z } from 'zod';
import { ScrumUser } from '../entities/user.ts';
import {
  type CurrentUser,
  type GitHubAuthorization,
  type GitHubCallbackInput,
  githubLoginSchema,
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
   * GitHub logins (lower-cased) that may join without an invitation, as FIRST_SIGN_IN_ROLE. Empty by
   * default: sign-up is closed, and only an invited login becomes a user.
   */
  signUpLogins: readonly string[];
  /** Plain-http endpoints (only the tests' loopback stand-in). */
  allowInsecureRequests?: boolean;
}

/** The role of a first-time user admitted by `signUpLogins` (an invitation names its own): the least privileged. */
export const FIRST_SIGN_IN_ROLE: UserRole = 'developer';

/** GitHub's authorization codes live 10 minutes; a sign-in that takes longer starts again. */
const SIGN_IN_FLOW_TTL_MS = 10 * 60 * 1000;

const GITHUB_DEFAULTS = {
  authorizeUrl: 'https://github.com/login/oauth/authorize',
  tokenUrl: 'https://github.com/login/oauth/access_token',
  apiUrl: 'https://api.github.com',
};

/** The logins of SCRUM_SIGN_UP_GITHUB_LOGINS (comma-separated), lower-cased; a malformed one stops the start. */
function signUpLoginsFromEnv(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((login) => login.trim())
    .filter(Boolean)
    .map((login) => {
      const parsed = githubLoginSchema.safeParse(login);
      if (!parsed.success) {
        throw new ConfigurationError(`SCRUM_SIGN_UP_GITHUB_LOGINS: "${login}" is not a GitHub login`);
      }
      return parsed.data;
    });
}

/**
 * Reads the configuration from GITHUB_CLIENT_ID, GITHUB_CLIENT_SECRET, GITHUB_REDIRECT_URI (required),
 * GITHUB_AUTHORIZE_URL, GITHUB_TOKEN_URL, GITHUB_API_URL (optional, GitHub Enterprise) and
 * SCRUM_SIGN_UP_GITHUB_LOGINS (optional, comma-separated); null when GitHub sign-in is not configured.
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
    signUpLogins: signUpLoginsFromEnv(env.SCRUM_SIGN_UP_GITHUB_LOGINS),
  };
}

/** The server's GitHub settings; a server started without them refuses GitHub sign-in, saying what to set. */
export function configuredGitHub(config: GitHubOAuthConfig | null): GitHubOAuthConfig {
  if (config) return config;
  throw new NotConfiguredError(
    'GITHUB_CLIENT_ID: GitHub sign-in is not configured on this server; its operator sets GITHUB_CLIENT_ID, GITHUB_CLIENT_SECRET and GITHUB_REDIRECT_URI',
  );
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

const sha256Hex = (value: string) => createHash('sha256').update(value, 'utf8').digest('hex');

const SEAL_PURPOSE = 'huddle scrum: github sign-in verifier';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** The key that seals a flow's verifier: derived from the flow secret, which only the client holds. */
function sealingKey(flowSecret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', flowSecret, new Uint8Array(0), SEAL_PURPOSE, 32));
}

/** AES-256-GCM, bound to the flow's `state` (additional data), as base64url `iv | ciphertext | tag`. */
function sealVerifier(flowSecret: string, state: string, codeVerifier: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', sealingKey(flowSecret), iv);
  cipher.setAAD(Buffer.from(state, 'utf8'));
  const sealed = Buffer.concat([cipher.update(codeVerifier, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, sealed, cipher.getAuthTag()]).toString('base64url');
}

function openVerifier(flowSecret: string, state: string, sealed: string): string {
  const bytes = Buffer.from(sealed, 'base64url');
  const decipher = createDecipheriv('aes-256-gcm', sealingKey(flowSecret), bytes.subarray(0, IV_BYTES));
  decipher.setAAD(Buffer.from(state, 'utf8'));
  decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
  return Buffer.concat([
    decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)),
    decipher.final(),
  ]).toString('utf8');
}

/**
 * Starts a sign-in: a fresh `state`, a PKCE (S256) verifier and a flow secret for the client that asked.
 * The verifier stays on the server, sealed under the flow secret in a `scrum.sign_in_flows` row keyed by
 * the state's hash (expired rows are purged by the same statement); the URL carries only the state and
 * the challenge. Runs as the owner: nobody is signed in yet.
 */
export async function githubAuthorizeUrl(
  em: EntityManager,
  config: GitHubOAuthConfig,
): Promise<GitHubAuthorization> {
  const state = oauth.generateRandomState();
  const flowSecret = randomBytes(32).toString('base64url');
  const codeVerifier = oauth.generateRandomCodeVerifier();
  const expiresAt = new Date(Date.now() + SIGN_IN_FLOW_TTL_MS);
  const url = new URL(config.authorizeUrl);
  url.searchParams.set('client_id', config.clientId);
  url.searchParams.set('redirect_uri', config.redirectUri);
  url.searchParams.set('scope', 'read:user user:email');
  url.searchParams.set('state', state);
  url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(codeVerifier));
  url.searchParams.set('code_challenge_method', 'S256');
  await em.execute(
    `with expired as (delete from scrum.sign_in_flows where expires_at <= now())
     insert into scrum.sign_in_flows (state_hash, client_hash, sealed_verifier, expires_at) values (?, ?, ?, ?)`,
    [sha256Hex(state), sha256Hex(flowSecret), sealVerifier(flowSecret, state, codeVerifier), expiresAt],
    'run',
  );
  return { url: url.toString(), state, flowSecret, expiresAt: expiresAt.toISOString() };
}

/**
 * Uses up the flow that `state` names, if the client presenting it started it (its flow secret) and it has
 * not expired, and returns its verifier. Anything else — an unknown or reused state, another client's
 * flow, an expired one — is refused the same way, and another client's attempt leaves the flow as it was.
 */
async function takeSignInFlow(em: EntityManager, callback: { state: string; flowSecret: string }) {
  const [flow] = await em.execute<{ sealedVerifier: string }[]>(
    `delete from scrum.sign_in_flows where state_hash = ? and client_hash = ? and expires_at > now()
     returning sealed_verifier as "sealedVerifier"`,
    [sha256Hex(callback.state), sha256Hex(callback.flowSecret)],
  );
  if (!flow) {
    throw new UnauthorizedError(
      'state: no sign-in started by this client has this state (or it expired, or was used); start the sign-in again',
      { field: 'state' },
    );
  }
  return flow.sealedVerifier;
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
 * A first sign-in (sign-up is closed): the GitHub login must hold an open invitation, which gives the role
 * and is accepted here, or be listed in `signUpLogins` (FIRST_SIGN_IN_ROLE). Anyone else is refused.
 */
async function signUp(
  em: EntityManager,
  config: GitHubOAuthConfig,
  githubUser: { githubId: string; login: string; email: string | null; avatarUrl: string | null },
): Promise<Record<string, unknown>> {
  const login = githubUser.login.toLowerCase();
  const [invitation] = await em.execute<{ id: number; role: UserRole }[]>(
    'select id, role from scrum.invitations where github_login = ? and accepted_at is null for update',
    [login],
  );
  const role = invitation?.role ?? (config.signUpLogins.includes(login) ? FIRST_SIGN_IN_ROLE : undefined);
  if (!role) {
    throw new UnauthorizedError(
      `code: GitHub user ${githubUser.login} is not invited to this team; ask an admin to invite them`,
      { field: 'code' },
    );
  }
  const [row] = await em.execute<Record<string, unknown>[]>(
    `insert into scrum.users (github_id, username, email, avatar_url, role) values (?, ?, ?, ?, ?) returning *`,
    [githubUser.githubId, githubUser.login, githubUser.email, githubUser.avatarUrl, role],
  );
  if (invitation) {
    await em.execute(
      'update scrum.invitations set accepted_at = now(), user_id = ? where id = ?',
      [row!.id, invitation.id],
      'run',
    );
  }
  return row!;
}

/**
 * The GitHub callback, in three steps so that no connection is held while GitHub answers: (1) takes the
 * flow `state` names, which must be this client's (`flowSecret`), unexpired and unused — used up even if
 * the rest fails; (2) exchanges the code with the flow's PKCE verifier and reads the GitHub user; (3)
 * updates the user with that `github_id` (username, email, avatar; never the role) or signs them up under
 * the sign-up policy (`signUp`). Runs as the owner (nobody is signed in yet); a deactivated user is refused
 * and nothing is changed. Every refusal is an UnauthorizedError naming `state` or `code`. The caller (the
 * API) turns the returned user into a token.
 */
export async function githubCallback(
  asOwner: AnonymousTransactions['asOwner'],
  config: GitHubOAuthConfig,
  callback: GitHubCallbackInput,
): Promise<CurrentUser> {
  const sealedVerifier = await asOwner((em) => takeSignInFlow(em, callback));
  let githubUser: Awaited<ReturnType<typeof fetchGitHubUser>>;
  try {
    const codeVerifier = openVerifier(callback.flowSecret, callback.state, sealedVerifier);
    githubUser = await fetchGitHubUser(config, callback, { state: callback.state, codeVerifier });
  } catch (error) {
    throw new UnauthorizedError(
      `code: GitHub sign-in failed: ${(error as Error).message}`,
      { field: 'code' },
      { cause: error },
    );
  }
  const profile = {
    githubId: String(githubUser.id),
    login: githubUser.login,
    email: githubUser.email ?? null,
    avatarUrl: githubUser.avatar_url ?? null,
  };
  return asOwner(async (em) => {
    const [existing] = await em.execute<Record<string, unknown>[]>(
      'update scrum.users set username = ?, email = ?, avatar_url = ? where github_id = ? returning *',
      [profile.login, profile.email, profile.avatarUrl, profile.githubId],
    );
    const user = em.map(ScrumUser, existing ?? (await signUp(em, config, profile)));
    if (!user.isActive) {
      throw new UnauthorizedError(`code: scrum user ${user.username} is deactivated; ask an admin`, {
        field: 'code',
      });
    }
    return toCurrentUser(user);
  });
}
