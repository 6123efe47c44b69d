import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signInThroughProvider } from '../support/oidc-sign-in.js';
import { ACCOUNTS, startPeopleWorld, startSignedRollout, type PeopleWorld } from './people-world.js';

/**
 * Issue 18, people: signing in with OpenID Connect against a real provider (oidc-provider) started
 * by the test, on a controller on Redis. Login → provider's form → callback → session cookie →
 * the admin API as that person, with the role their groups give.
 */
describe('signing in with OpenID Connect', { timeout: 60_000 }, () => {
  let w: PeopleWorld;

  beforeAll(async () => {
    w = await startPeopleWorld();
  });
  afterAll(() => w?.stop());

  it('tells the dashboard that OIDC sign-in is offered', async () => {
    const res = await fetch(`${w.t.url}/auth/config`);
    expect(await res.json()).toEqual({ oidc: true, loginUrl: '/auth/login', csrfHeader: 'X-CSRF-Token', signedIn: false });
    const vic = await w.signIn('vic');
    const signedIn = await fetch(`${w.t.url}/auth/config`, { headers: { cookie: vic.jar.header() } });
    expect(await signedIn.json()).toMatchObject({ oidc: true, signedIn: true });
  });

  it('login → provider → callback gives a session cookie, and the admin API knows the person by it', async () => {
    const outcome = await signInThroughProvider(w.t.url, 'alice', '/auth/login?returnTo=%23%2Fflags');
    expect(outcome.stoppedAt).toBeUndefined();
    // Back on the dashboard page asked for, under PUBLIC_URL.
    expect(outcome.landedAt!.href).toBe(`${w.publicUrl}/#/flags`);
    const secret = outcome.jar.get('rollout-session')!;
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const res = await fetch(`${w.t.url}/api/admin/me`, { headers: { cookie: `rollout-session=${secret}` } });
    expect(res.status).toBe(200);
    const me = await res.json();
    const host = new URL(w.provider.issuer).host;
    expect(me).toMatchObject({ id: `oidc:${host}:alice`, name: 'Alice Admin', email: 'alice@example.com', kind: 'person', via: 'session', role: 'admin' });
    expect(me.csrfToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(me.permissions).toContain('tokens:manage');
  });

  it('maps claims to roles: first matching rule wins; a person in no mapped group is refused with a page, not a session', async () => {
    const roles: Record<string, string> = {};
    for (const login of ['alice', 'rita', 'dev', 'vic']) roles[login] = (await w.signIn(login)).me.role;
    // alice is in rollout-admins and developers: the admin rule comes first.
    expect(roles).toEqual({ alice: 'admin', rita: 'release-manager', dev: 'editor', vic: 'viewer' });
    expect(ACCOUNTS.alice!.groups).toContain('developers');

    const nora = await signInThroughProvider(w.t.url, 'nora');
    expect(nora.landedAt).toBeUndefined();
    expect(nora.stoppedAt!.status).toBe(403);
    expect(nora.stoppedAt!.text).toContain('Nora Nobody signed in, but no role on this controller is given to you');
    expect(nora.stoppedAt!.text).toContain('<a href="/">Back to sign-in</a>');
    expect(nora.jar.get('rollout-session')).toBeUndefined();
  });

  it('separation of duties holds per person: who started a rollout cannot approve it; another release manager can, and is named', async () => {
    const [rita, rob, dev] = [await w.signIn('rita'), await w.signIn('rob'), await w.signIn('dev')];
    const started = await startSignedRollout(w, dev, rita, 'two-people', 'signed');
    expect(started.status).toBe(201);
    expect(started.body).toMatchObject({ state: 'awaiting_approval', startedBy: { id: rita.me.id, name: 'Rita Release', role: 'release-manager' } });
    const id = started.body.id;

    const self = await rita.api('POST', `/api/admin/rollouts/${id}/approve`, { step: 1 });
    expect(self).toMatchObject({ status: 403, body: { error: 'separation_of_duties' } });
    const editor = await dev.api('POST', `/api/admin/rollouts/${id}/approve`, { step: 1 });
    expect(editor).toMatchObject({ status: 403, body: { error: 'forbidden' } });

    const approved = await rob.api('POST', `/api/admin/rollouts/${id}/approve`, { step: 1, comment: 'go' });
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ state: 'running', percentage: 1 });
    expect(approved.body.approval).toMatchObject({ by: { id: rob.me.id, name: 'Rob Release', role: 'release-manager' }, step: 0, comment: 'go' });
    const audit = (await w.t.api('GET', '/api/admin/audit?limit=1000')).body.events;
    const approval = audit.findLast((e: any) => e.target?.id === id && e.action.includes('approve'));
    expect(approval.actor).toEqual({ type: 'person', id: rob.me.id, name: 'Rob Release' });
  });
});
