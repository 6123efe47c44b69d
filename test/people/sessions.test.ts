import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_SESSIONS_PER_PERSON } from '../../src/people/session-model.js';
import { startTestController, type TestController } from '../support/controller.js';
import { asSignedIn, startPeopleWorld, type PeopleWorld, type SignedIn } from './people-world.js';

const flag = (enabled = false) => ({ environments: { production: { enabled, strategies: [] } } });

/**
 * Sessions of people signed in with OpenID Connect, on a controller on Redis with a real provider:
 * the cookie's attributes, CSRF on every write, roles, sign-out on every replica, and a token
 * in Authorization always deciding over a cookie that happens to be there.
 */
describe('sessions over http (PUBLIC_URL http://…)', { timeout: 60_000 }, () => {
  let w: PeopleWorld;
  let dev: SignedIn;
  let vic: SignedIn;

  beforeAll(async () => {
    w = await startPeopleWorld();
    [dev, vic] = [await w.signIn('dev'), await w.signIn('vic')];
  });
  afterAll(() => w?.stop());

  it('sets HttpOnly, SameSite=Lax cookies, without Secure over plain http: the session on /, the sign-in state only for /auth/callback', async () => {
    const lines = dev.jar.controllerSetCookies;
    const login = lines.find((l) => l.startsWith('rollout-login=') && !l.startsWith('rollout-login=;'))!;
    expect(login).toMatch(/; Max-Age=600; Path=\/auth\/callback; HttpOnly; SameSite=Lax$/);
    const session = lines.find((l) => l.startsWith('rollout-session='))!;
    expect(session).toMatch(/^rollout-session=[A-Za-z0-9_-]{43}; Max-Age=43200; Path=\/; HttpOnly; SameSite=Lax$/);
    // The sign-in state is cleared once used.
    expect(lines).toContain('rollout-login=; Max-Age=0; Path=/auth/callback; HttpOnly; SameSite=Lax');
  });

  it('a write with the session cookie needs the CSRF token: refused without it and with a wrong one, accepted with the right one', async () => {
    const missing = await dev.api('PUT', '/api/admin/flags/csrf-flag', flag(), null);
    expect(missing).toMatchObject({ status: 403, body: { error: 'csrf_token_missing' } });
    const wrong = await dev.api('PUT', '/api/admin/flags/csrf-flag', flag(), vic.me.csrfToken);
    expect(wrong).toMatchObject({ status: 403, body: { error: 'csrf_token_invalid' } });
    expect((await w.t.api('GET', '/api/admin/flags/csrf-flag')).status).toBe(404);
    const right = await dev.api('PUT', '/api/admin/flags/csrf-flag', flag());
    expect(right.status).toBe(201);
    // Reads need no CSRF token.
    expect((await dev.api('GET', '/api/admin/flags/csrf-flag', undefined, null)).status).toBe(200);
    // The audit log names the person, as a person.
    const audit = (await w.t.api('GET', '/api/admin/audit?limit=200')).body;
    const put = audit.events.find((e: any) => e.target?.id === 'csrf-flag');
    expect(put.actor).toEqual({ type: 'person', id: dev.me.id, name: 'Dev Eloper' });
  });

  it('a session of a role that may not do a write gets 403, with its CSRF token', async () => {
    const refused = await vic.api('PUT', '/api/admin/flags/viewer-flag', flag());
    expect(refused).toMatchObject({ status: 403, body: { error: 'forbidden', message: 'role viewer may not flags:write' } });
    expect((await vic.api('GET', '/api/admin/flags')).status).toBe(200);
  });

  it('a token in Authorization decides, whatever cookie comes with it (SDKs and automation are unchanged)', async () => {
    const client = await w.t.token({ kind: 'client', environment: 'production' });
    const withToken = (authorization: string) =>
      fetch(`${w.t.url}/api/admin/flags/token-flag`, {
        method: 'PUT',
        headers: { authorization, cookie: dev.jar.header(), 'content-type': 'application/json' },
        body: JSON.stringify(flag()),
      });
    // The admin token writes without any CSRF token; the client token is refused though the cookie is an editor's.
    expect((await withToken(`Bearer ${w.t.adminToken}`)).status).toBe(201);
    const res = await withToken(client);
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ error: 'forbidden', details: { tokenKind: 'client' } });
  });

  it('the callback refuses a sign-in it did not start, or one whose answer does not match, with a page', async () => {
    const stray = await fetch(`${w.t.url}/auth/callback?code=abc&state=xyz`);
    expect(stray.status).toBe(400);
    expect(stray.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await stray.text()).toContain('this sign-in expired or was started in another window or browser');

    const started = await fetch(`${w.t.url}/auth/login`, { redirect: 'manual' });
    expect(started.status).toBe(302);
    const authorize = new URL(started.headers.get('location')!);
    expect(authorize.origin).toBe(w.provider.issuer);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('response_type')).toBe('code');
    expect(authorize.searchParams.get('redirect_uri')).toBe(`${w.publicUrl}/auth/callback`);
    for (const p of ['state', 'nonce', 'code_challenge']) expect(authorize.searchParams.get(p)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const loginCookie = started.headers.getSetCookie()[0]!.split(';')[0]!;
    const forged = await fetch(`${w.t.url}/auth/callback?code=abc&state=not-the-state&iss=${encodeURIComponent(w.provider.issuer)}`, {
      headers: { cookie: loginCookie },
    });
    expect(forged.status).toBe(400);
    expect(await forged.text()).toContain('the sign-in could not be completed');

    const refused = await fetch(
      `${w.t.url}/auth/callback?error=access_denied&state=${authorize.searchParams.get('state')}&iss=${encodeURIComponent(w.provider.issuer)}`,
      {
        headers: { cookie: loginCookie },
      },
    );
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain('your identity provider refused the sign-in (access_denied)');
  });

  it(`keeps at most ${MAX_SESSIONS_PER_PERSON} sessions per person: one more sign-in ends the oldest`, async () => {
    const signIns: SignedIn[] = [];
    for (let i = 0; i <= MAX_SESSIONS_PER_PERSON; i++) signIns.push(await w.signIn('alice'));
    const stored = (await w.t.controller.store.list<{ person: { id: string } }>('sessions')).filter((d) => d.value.person.id === signIns[0]!.me.id);
    expect(stored).toHaveLength(MAX_SESSIONS_PER_PERSON);
    expect(await signIns[0]!.api('GET', '/api/admin/me')).toMatchObject({ status: 401, body: { error: 'session_ended' } });
    for (const later of signIns.slice(1)) expect((await later.api('GET', '/api/admin/me')).status).toBe(200);
    // Only the hash of each secret is stored.
    for (const later of signIns) expect(stored.map((d) => d.id)).not.toContain(later.jar.get('rollout-session'));
  });

  it('only sends people back to a dashboard route', async () => {
    for (const returnTo of ['https://evil.example.com/', '//evil.example.com', '/api/admin/tokens']) {
      const res = await fetch(`${w.t.url}/auth/login?returnTo=${encodeURIComponent(returnTo)}`, { redirect: 'manual' });
      expect(res.status, returnTo).toBe(400);
    }
  });
});

describe('sessions on every replica, over https, with expiry', { timeout: 60_000 }, () => {
  let w: PeopleWorld;
  let replica: TestController;
  let clock = Date.now();

  beforeAll(async () => {
    w = await startPeopleWorld({ publicUrl: (port) => `https://127.0.0.1:${port}`, env: { OIDC_SESSION_TTL: '30m' }, now: () => new Date(clock) });
    // A second replica on the same store, behind the same PUBLIC_URL.
    replica = await startTestController({ prefix: w.t.prefix, env: { ...w.env, PORT: '0' }, now: () => new Date(clock) });
  });
  afterAll(async () => {
    await replica?.stop();
    await w?.stop();
  });

  it('over https the cookies are Secure and prefixed (__Host-, __Secure-)', async () => {
    const rita = await w.signIn('rita');
    const lines = rita.jar.controllerSetCookies;
    expect(lines.find((l) => l.startsWith('__Secure-rollout-login=') && !l.startsWith('__Secure-rollout-login=;'))).toMatch(
      /; Max-Age=600; Path=\/auth\/callback; HttpOnly; Secure; SameSite=Lax$/,
    );
    expect(lines.find((l) => l.startsWith('__Host-rollout-session='))).toMatch(
      /^__Host-rollout-session=[A-Za-z0-9_-]{43}; Max-Age=1800; Path=\/; HttpOnly; Secure; SameSite=Lax$/,
    );
    // The plain name is not taken for a session over https.
    const plain = await fetch(`${w.t.url}/api/admin/me`, { headers: { cookie: `rollout-session=${rita.jar.get('__Host-rollout-session')}` } });
    expect(plain.status).toBe(401);
  });

  it('every replica knows a session; signing out on one ends it on all, and needs the CSRF token', async () => {
    const rob = await w.signIn('rob');
    const onReplica = await asSignedIn(replica.url, 'rob', rob.jar);
    expect(onReplica.me).toMatchObject({ id: rob.me.id, role: 'release-manager', csrfToken: rob.me.csrfToken });

    expect(await rob.api('POST', '/auth/logout', undefined, null)).toMatchObject({ status: 403, body: { error: 'csrf_token_missing' } });
    const out = await fetch(`${w.t.url}/auth/logout`, { method: 'POST', headers: { cookie: rob.jar.header(), 'x-csrf-token': rob.me.csrfToken } });
    expect(out.status).toBe(204);
    expect(out.headers.getSetCookie()).toEqual(['__Host-rollout-session=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax']);
    for (const url of [w.t.url, replica.url]) {
      const after = await fetch(`${url}/api/admin/me`, { headers: { cookie: rob.jar.header() } });
      expect(after.status, url).toBe(401);
      expect(await after.json()).toMatchObject({ error: 'session_ended' });
    }
    // An ended session's cookie signs nobody in, and signing out with it again just clears it.
    expect(await (await fetch(`${replica.url}/auth/config`, { headers: { cookie: rob.jar.header() } })).json()).toMatchObject({ signedIn: false });
    const again = await fetch(`${replica.url}/auth/logout`, { method: 'POST', headers: { cookie: rob.jar.header() } });
    expect(again.status).toBe(204);
    expect(again.headers.getSetCookie()[0]).toMatch(/^__Host-rollout-session=; Max-Age=0;/);
    const audit = (await w.t.api('GET', '/api/admin/audit?limit=200')).body;
    const actions = audit.events.filter((e: any) => e.target?.id === rob.me.id).map((e: any) => e.action);
    expect(actions).toEqual(['session.start', 'session.end']);
  });

  it('a session ends when its lifetime is over', async () => {
    const vic = await w.signIn('vic');
    clock += 29 * 60_000;
    expect((await vic.api('GET', '/api/admin/me')).status).toBe(200);
    clock += 2 * 60_000;
    expect(await vic.api('GET', '/api/admin/me')).toMatchObject({ status: 401, body: { error: 'session_ended' } });
  });
});

describe('without OIDC configured', () => {
  let t: TestController;
  beforeAll(async () => {
    t = await startTestController();
  });
  afterAll(() => t?.stop());

  it('says so, and /auth/login answers 404', async () => {
    expect(await (await fetch(`${t.url}/auth/config`)).json()).toEqual({ oidc: false, csrfHeader: 'X-CSRF-Token', signedIn: false });
    const login = await fetch(`${t.url}/auth/login`, { redirect: 'manual' });
    expect(login.status).toBe(404);
    expect(await login.json()).toMatchObject({ error: 'oidc_not_configured' });
    // A session cookie means nothing here: admin routes want a token.
    expect((await fetch(`${t.url}/api/admin/me`, { headers: { cookie: `rollout-session=${'a'.repeat(43)}` } })).status).toBe(401);
  });
});
