import { expect } from 'vitest';
import { startTestController, type TestController } from '../support/controller.js';
import { startOidcProvider, type TestAccount, type TestOidcProvider } from '../support/oidc-provider.js';
import { CookieJar, signInThroughProvider } from '../support/oidc-sign-in.js';
import { freePort } from '../support/redis-server.js';

/**
 * A controller on the run's Redis whose people sign in through a real OpenID Connect provider
 * (oidc-provider) started for the test, with the accounts below. The role map is the README's
 * example without a rule for anyone, so that a person in none of the groups gets no role.
 */

export const ACCOUNTS: Record<string, TestAccount> = {
  alice: { name: 'Alice Admin', email: 'alice@example.com', groups: ['rollout-admins', 'developers'] },
  rita: { name: 'Rita Release', email: 'rita@example.com', groups: ['release-managers'] },
  rob: { name: 'Rob Release', email: 'rob@example.com', groups: ['release-managers', 'observers'] },
  dev: { name: 'Dev Eloper', email: 'dev@example.com', groups: ['developers'] },
  vic: { name: 'Vic Viewer', email: 'vic@example.com', groups: ['observers'] },
  nora: { name: 'Nora Nobody', email: 'nora@example.com', groups: ['contractors'] },
};

export const ROLE_MAP = 'rollout-admins=admin,release-managers=release-manager,developers=editor,observers=viewer';

export interface SignedIn {
  login: string;
  jar: CookieJar;
  /** GET /api/admin/me as this person. */
  me: { id: string; name: string; kind: string; via: string; role: string; email?: string; csrfToken: string; expiresAt: string; permissions: string[] };
  /** Calls the controller with the session cookie; the CSRF token is sent unless `csrf` says otherwise (null: none). */
  api(method: string, route: string, body?: unknown, csrf?: string | null): Promise<{ status: number; body: any }>;
}

export interface PeopleWorld {
  t: TestController;
  provider: TestOidcProvider;
  publicUrl: string;
  /** The controller's environment variables besides the test defaults (for starting a replica like it). */
  env: Record<string, string>;
  signIn(login: string): Promise<SignedIn>;
  stop(): Promise<void>;
}

export async function startPeopleWorld(
  options: { env?: Record<string, string>; publicUrl?: (port: number) => string; now?: () => Date } = {},
): Promise<PeopleWorld> {
  const port = await freePort();
  const publicUrl = options.publicUrl?.(port) ?? `http://127.0.0.1:${port}`;
  const provider = await startOidcProvider({ redirectUris: [`${publicUrl}/auth/callback`], accounts: ACCOUNTS });
  const env = {
    PORT: String(port),
    PUBLIC_URL: publicUrl,
    OIDC_ISSUER: provider.issuer,
    OIDC_CLIENT_ID: provider.clientId,
    OIDC_CLIENT_SECRET: provider.clientSecret,
    OIDC_SCOPES: 'openid profile email groups',
    OIDC_ROLE_MAP: ROLE_MAP,
    ...options.env,
  };
  const t = await startTestController({ env, now: options.now }).catch(async (err) => {
    await provider.stop();
    throw err;
  });
  const signIn = async (login: string): Promise<SignedIn> => {
    const outcome = await signInThroughProvider(t.url, login);
    expect(outcome.stoppedAt, `${login} signs in`).toBeUndefined();
    return asSignedIn(t.url, login, outcome.jar);
  };
  return {
    t,
    provider,
    publicUrl,
    env,
    signIn,
    async stop() {
      await t.stop();
      await provider.stop();
    },
  };
}

/** A person with a cookie jar holding their session. */
export async function asSignedIn(url: string, login: string, jar: CookieJar): Promise<SignedIn> {
  const api: SignedIn['api'] = async (method, route, body, csrf) => {
    const headers: Record<string, string> = { cookie: jar.header() };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const token = csrf === undefined ? me?.csrfToken : csrf;
    if (token !== null && token !== undefined) headers['x-csrf-token'] = token;
    const res = await fetch(`${url}${route}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), redirect: 'manual' });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  let me: SignedIn['me'] | undefined;
  const answer = await api('GET', '/api/admin/me');
  expect(answer.status, `GET /api/admin/me as ${login}: ${JSON.stringify(answer.body)}`).toBe(200);
  me = answer.body;
  return { login, jar, me: me!, api };
}

/**
 * A rollout that waits for a release manager's approval before its first step: `editor` creates
 * the flag, `starter` starts the rollout under a policy of that name (created by the admin token).
 */
export async function startSignedRollout(
  w: PeopleWorld,
  editor: SignedIn,
  starter: SignedIn,
  flag: string,
  policy: string,
): Promise<{ status: number; body: any }> {
  expect((await editor.api('PUT', `/api/admin/flags/${flag}`, { environments: { production: { enabled: false, strategies: [] } } })).status).toBe(201);
  const signed = {
    name: policy,
    steps: [1, 10, 100],
    stepDefaults: { minDuration: '1h', minSamples: 0, approval: { required: 1, roles: ['release-manager'] } },
  };
  expect((await w.t.api('PUT', `/api/admin/policies/${policy}`, signed)).status).toBe(201);
  return starter.api('POST', '/api/admin/rollouts', { flag, environment: 'production', policy });
}
