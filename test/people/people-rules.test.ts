import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { judgeSignIn } from '../../src/people/identity.js';
import { LOGIN_WINDOW_MS, LoginStateSeal } from '../../src/people/login-state.js';
import { oidcSettingsOf } from '../../src/people/oidc-config.js';
import { claimValues, MAX_ROLE_RULES, parseRoleMap, roleFor } from '../../src/people/role-map.js';
import { csrfTokenMatches, csrfTokenOf, newSessionSecret, personId, sessionDocumentId } from '../../src/people/session-model.js';

const rules = (text: string) => {
  const parsed = parseRoleMap(text);
  if (!parsed.ok) throw new Error(parsed.problem);
  return parsed.rules;
};

describe('the role map (OIDC_ROLE_MAP)', () => {
  const map = rules('rollout-admins=admin, release-managers=release-manager,developers=editor,*=viewer');

  it('gives the role of the first rule the person’s claim holds, and anyone the * rule', () => {
    expect(roleFor({ groups: ['developers', 'rollout-admins'] }, 'groups', map)).toBe('admin');
    expect(roleFor({ groups: ['developers', 'release-managers'] }, 'groups', map)).toBe('release-manager');
    expect(roleFor({ groups: 'developers' }, 'groups', map)).toBe('editor');
    expect(roleFor({ groups: ['sales'] }, 'groups', map)).toBe('viewer');
    expect(roleFor({}, 'groups', map)).toBe('viewer');
  });

  it('without a * rule, a person none of whose values is mapped gets no role', () => {
    const strict = rules('rollout-admins=admin,developers=editor');
    expect(roleFor({ groups: ['sales'] }, 'groups', strict)).toBeUndefined();
    expect(roleFor({ groups: 'rollout-admins-2' }, 'groups', strict)).toBeUndefined();
    expect(roleFor({ groups: [42, { name: 'developers' }] }, 'groups', strict)).toBeUndefined();
  });

  it('reads nested claims by a dotted path, and claim names that hold dots as they are', () => {
    expect(claimValues({ realm_access: { roles: ['a', 'b'] } }, 'realm_access.roles')).toEqual(['a', 'b']);
    expect(claimValues({ 'https://example.com/roles': ['x'] }, 'https://example.com/roles')).toEqual(['x']);
    expect(claimValues({ realm_access: 'flat' }, 'realm_access.roles')).toEqual([]);
  });

  it('names the rule that is wrong and why', () => {
    expect(parseRoleMap('a=admin,b=boss')).toEqual({ ok: false, problem: 'rule 2 "b=boss": "boss" is not a role (viewer, editor, release-manager, admin)' });
    expect(parseRoleMap('admins')).toEqual({ ok: false, problem: 'rule 1 "admins": write it as value=role' });
    expect(parseRoleMap('a=admin,a=viewer')).toEqual({ ok: false, problem: 'rule 2 "a=viewer": "a" is mapped twice' });
    expect(parseRoleMap('*=viewer,a=admin')).toEqual({
      ok: false,
      problem: 'rule 1 "*": the rule for anyone must come last, or the rules after it never apply',
    });
    expect(parseRoleMap(' , ')).toMatchObject({ ok: false, problem: expect.stringMatching(/^no rules/) });
    const many = Array.from({ length: MAX_ROLE_RULES + 1 }, (_, i) => `g${i}=viewer`).join(',');
    expect(parseRoleMap(many)).toEqual({ ok: false, problem: `${MAX_ROLE_RULES + 1} rules, at most ${MAX_ROLE_RULES}` });
  });
});

describe('OIDC configuration: bad configuration stops start-up with one line naming the variable', () => {
  const good = {
    OIDC_ISSUER: 'https://login.example.com/realms/main',
    OIDC_CLIENT_ID: 'rollouts',
    OIDC_CLIENT_SECRET: 'a-client-secret-of-some-length',
    OIDC_ROLE_MAP: 'rollout-admins=admin,*=viewer',
    PUBLIC_URL: 'https://rollouts.example.com/',
  };
  const problem = (env: Record<string, string | undefined>) => {
    try {
      loadConfig({ ...good, ...env } as Record<string, string>);
      return 'accepted';
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return (err as Error).message;
    }
  };

  it('accepts a whole configuration and derives the redirect URI, the scopes and secure cookies from it', () => {
    const settings = oidcSettingsOf(loadConfig(good))!;
    expect(settings).toMatchObject({
      clientId: 'rollouts',
      scopes: ['openid', 'profile', 'email'],
      roleClaim: 'groups',
      sessionTtlMs: 12 * 3_600_000,
      redirectUri: 'https://rollouts.example.com/auth/callback',
      secureCookies: true,
    });
    expect(oidcSettingsOf(loadConfig({}))).toBeUndefined();
  });

  it.each([
    [{ OIDC_CLIENT_ID: undefined }, 'invalid configuration: OIDC_CLIENT_ID: required with OIDC_ISSUER'],
    [{ OIDC_CLIENT_SECRET: 'short' }, 'invalid configuration: OIDC_CLIENT_SECRET: at least 16 characters'],
    [{ OIDC_ROLE_MAP: undefined }, /^invalid configuration: OIDC_ROLE_MAP: required with OIDC_ISSUER: which claim values give which role/],
    [
      { OIDC_ROLE_MAP: 'devs=developer' },
      'invalid configuration: OIDC_ROLE_MAP: rule 1 "devs=developer": "developer" is not a role (viewer, editor, release-manager, admin)',
    ],
    [{ PUBLIC_URL: undefined }, /^invalid configuration: PUBLIC_URL: required with OIDC_ISSUER/],
    [{ OIDC_ISSUER: 'http://login.example.com' }, 'invalid configuration: OIDC_ISSUER: an https:// URL (plain http:// only for a provider on localhost)'],
    [{ OIDC_ISSUER: 'login.example.com' }, 'invalid configuration: OIDC_ISSUER: a URL, e.g. https://login.example.com/realms/main'],
    [{ OIDC_ISSUER: undefined }, /^invalid configuration: OIDC_ISSUER: OIDC_CLIENT_ID is set but OIDC_ISSUER is not/],
    [{ OIDC_SESSION_TTL: '2m' }, 'invalid configuration: OIDC_SESSION_TTL: at least 5m'],
    [{ OIDC_SESSION_TTL: '31d' }, 'invalid configuration: OIDC_SESSION_TTL: at most 30d'],
    [{ OIDC_SESSION_TTL: 'a day' }, 'invalid configuration: OIDC_SESSION_TTL: a duration such as 30m, 12h or 7d'],
    [{ OIDC_SCOPES: 'openid  groups' }, 'invalid configuration: OIDC_SCOPES: scopes separated by single spaces, e.g. "openid profile email groups"'],
  ])('%o → %s', (env, expected) => {
    if (typeof expected === 'string') expect(problem(env)).toBe(expected);
    else expect(problem(env)).toMatch(expected);
  });

  it('takes plain http for a provider on this machine only, and always asks for openid', () => {
    expect(problem({ OIDC_ISSUER: 'http://localhost:8080' })).toBe('accepted');
    expect(oidcSettingsOf(loadConfig({ ...good, OIDC_SCOPES: 'groups email' }))!.scopes).toEqual(['openid', 'groups', 'email']);
  });
});

describe('who signs in', () => {
  const issuer = new URL('https://login.example.com/realms/main/');
  const map = rules('release-managers=release-manager');

  it('is known by issuer and subject, named by their name, username, e-mail or subject', () => {
    expect(judgeSignIn({ sub: 'u-1', name: ' Rita ', email: 'r@x.com', groups: ['release-managers'] }, issuer, 'groups', map)).toEqual({
      kind: 'admitted',
      role: 'release-manager',
      person: { id: 'oidc:login.example.com/realms/main:u-1', issuer: issuer.href, subject: 'u-1', name: 'Rita', email: 'r@x.com' },
    });
    expect(judgeSignIn({ sub: 'u-2', preferred_username: 'rob' }, issuer, 'groups', map)).toMatchObject({ kind: 'no-role', person: { name: 'rob' } });
    expect(judgeSignIn({ sub: 'u-3', email: 'e@x.com' }, issuer, 'groups', map)).toMatchObject({ person: { name: 'e@x.com' } });
    expect(judgeSignIn({ sub: 'u-4', name: 'x'.repeat(500) }, issuer, 'groups', map).person.name).toHaveLength(200);
    expect(personId(new URL('http://127.0.0.1:9000'), 'alice')).toBe('oidc:127.0.0.1:9000:alice');
  });
});

describe('session secrets and CSRF tokens', () => {
  it('stores a hash of the secret, and derives a CSRF token only the secret’s holder can have', () => {
    const [a, b] = [newSessionSecret(), newSessionSecret()];
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(sessionDocumentId(a)).toMatch(/^[0-9a-f]{64}$/);
    expect(sessionDocumentId(a)).not.toContain(a);
    expect(csrfTokenOf(a)).not.toBe(csrfTokenOf(b));
    expect(csrfTokenMatches(a, csrfTokenOf(a))).toBe(true);
    expect(csrfTokenMatches(a, csrfTokenOf(b))).toBe(false);
    expect(csrfTokenMatches(a, '')).toBe(false);
    expect(csrfTokenMatches(a, `${csrfTokenOf(a)}x`)).toBe(false);
  });
});

describe('the sealed sign-in state', () => {
  const pending = { state: 's', nonce: 'n', codeVerifier: 'v', returnTo: '#/rollouts' };
  const now = new Date('2026-05-01T10:00:00Z');

  it('opens what it sealed, within the sign-in window only', async () => {
    const seal = new LoginStateSeal('client-secret-0123456789');
    const sealed = await seal.seal(pending, now);
    expect(sealed).not.toContain('codeVerifier');
    expect(await seal.open(sealed, new Date(now.getTime() + LOGIN_WINDOW_MS - 1_000))).toEqual(pending);
    expect(await seal.open(sealed, new Date(now.getTime() + LOGIN_WINDOW_MS + 1_000))).toBeUndefined();
  });

  it('does not open what another secret sealed, nor a changed seal', async () => {
    const sealed = await new LoginStateSeal('client-secret-0123456789').seal(pending, now);
    expect(await new LoginStateSeal('another-secret-0123456789').open(sealed, now)).toBeUndefined();
    const parts = sealed.split('.');
    parts[3] = `${parts[3]!.slice(0, -2)}AA`;
    expect(await new LoginStateSeal('client-secret-0123456789').open(parts.join('.'), now)).toBeUndefined();
    expect(await new LoginStateSeal('client-secret-0123456789').open('not a seal', now)).toBeUndefined();
  });
});
