import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestController, type TestController } from '../support/controller.js';
import { AM_FIRING, firing } from './alertmanager-payloads.js';
import { declarePolicies, deliver, ok, rolling, rolloutOf } from './alert-world.js';

const AM = '/api/alerts/alertmanager';
const GENERIC = '/api/alerts/generic';

/** Issue 16: the `alert` token kind, bound to environments, good for /api/alerts/* and nothing else. */
describe('alert tokens', () => {
  let t: TestController;
  let staging: string;
  let both: string;

  beforeAll(async () => {
    t = await startTestController();
    await declarePolicies(t);
    staging = (await ok(t, 'POST', '/api/admin/tokens', { kind: 'alert', environments: ['staging'], name: 'staging-monitor' })).secret;
    both = (await ok(t, 'POST', '/api/admin/tokens', { kind: 'alert', environments: ['staging', 'production'], name: 'both-monitor' })).secret;
  });
  afterAll(() => t.stop());

  it('are created with their environments, listed without a secret, and kept only as a hash', async () => {
    const created = await t.api('POST', '/api/admin/tokens', { kind: 'alert', environments: ['production', 'test'], name: 'apm' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      kind: 'alert',
      environments: ['production', 'test'],
      name: 'apm',
      hint: expect.stringMatching(/^alert:production\+1\./),
    });
    expect(created.body.secret).toMatch(/^alert:production\+1\.[0-9a-f]{48}$/);
    const listed = (await ok(t, 'GET', '/api/admin/tokens')).tokens.find((x: any) => x.id === created.body.id);
    expect(listed).toMatchObject({ kind: 'alert', environments: ['production', 'test'] });
    expect(JSON.stringify(listed)).not.toContain(created.body.secret.split('.')[1]);
    const backup = await (await fetch(`${t.url}/api/admin/backup`, { headers: { Authorization: t.adminToken } })).text();
    expect(backup).toContain(created.body.id);
    expect(backup).not.toContain(created.body.secret.split('.')[1]);
  });

  it('need at least one declared environment, each once, under `environments`', async () => {
    const cases: Array<[unknown, number, string]> = [
      [{ kind: 'alert', name: 'x', environments: [] }, 400, 'environments'],
      [{ kind: 'alert', name: 'x' }, 400, 'environments'],
      [{ kind: 'alert', name: 'x', environments: ['production', 'production'] }, 400, 'each environment once'],
      [{ kind: 'alert', name: 'x', environments: ['prodution'] }, 404, 'prodution'],
    ];
    for (const [body, status, says] of cases) {
      const res = await t.api('POST', '/api/admin/tokens', body);
      expect(res.status, JSON.stringify(body)).toBe(status);
      expect(JSON.stringify(res.body)).toContain(says);
    }
  });

  it('answer 403 for an alert in an environment the token is not bound to, and act on none of the delivery', async () => {
    const id = await rolling(t, 'prod-only');
    const delivery = {
      ...AM_FIRING,
      alerts: [
        { ...AM_FIRING.alerts[0]!, fingerprint: 'fp-st', labels: { alertname: 'A', flag: 'prod-only', environment: 'staging' } },
        { ...AM_FIRING.alerts[0]!, fingerprint: 'fp-pr', labels: { alertname: 'A', flag: 'prod-only', environment: 'production' } },
      ],
    };
    const refused = await deliver(t, AM, delivery, staging);
    expect(refused.status).toBe(403);
    expect(refused.body.message).toMatch(/bound to staging, not to production: nothing of this delivery was acted on/);
    expect((await rolloutOf(t, id)).state).toBe('running');
    const generic = await deliver(t, GENERIC, { flag: 'prod-only', environment: 'production', action: 'kill', reason: 'P0' }, staging);
    expect(generic.status).toBe(403);
    expect((await ok(t, 'GET', '/api/admin/flags/prod-only')).killSwitches).toEqual({});
    // With a token for both, the same delivery acts.
    const accepted = await deliver(t, AM, delivery, both);
    expect(accepted.body.results.map((r: any) => r.outcome)).toEqual(['nothing_to_act_on', 'acted']);
  });

  it('take the environment from the token when it has one and the alert says none', async () => {
    const id = await rolling(t, 'staging-default', undefined, 'staging');
    const { environment: _e, ...labels } = firing({ flag: 'staging-default' }, 'fp-default').alerts[0]!.labels;
    const answer = await deliver(t, AM, { ...AM_FIRING, alerts: [{ ...AM_FIRING.alerts[0]!, labels, fingerprint: 'fp-default' }] }, staging);
    expect(answer.body.results[0]).toMatchObject({ environment: 'staging', outcome: 'acted', rolloutId: id });
    const ambiguous = await deliver(t, AM, { ...AM_FIRING, alerts: [{ ...AM_FIRING.alerts[0]!, labels, fingerprint: 'fp-ambiguous' }] }, both);
    expect(ambiguous.body.results[0]).toMatchObject({ outcome: 'invalid', detail: expect.stringMatching(/no environment label/) });
  });

  it('are refused everywhere but /api/alerts/*, and other kinds are refused there (401 without a known token)', async () => {
    const client = await t.token({ kind: 'client', environment: 'production' });
    const frontend = await t.token({ kind: 'frontend', environment: 'production' });
    const release = await t.token({ kind: 'admin', role: 'release-manager' });
    const call = (path: string, token?: string, method = 'GET', body?: unknown) =>
      fetch(`${t.url}${path}`, {
        method,
        headers: { ...(token ? { Authorization: token } : {}), 'Content-Type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      }).then((r) => r.status);
    expect(await call('/api/client/features', both)).toBe(403);
    expect(await call('/api/frontend', both)).toBe(403);
    expect(await call('/ofrep/v1/evaluate/flags', both, 'POST', { context: { targetingKey: 'u' } })).toBe(403);
    expect(await call('/api/admin/flags', both)).toBe(403);
    expect(await call('/api/admin/alert-routes', both)).toBe(403);
    for (const path of [AM, GENERIC]) {
      expect(await call(path, undefined, 'POST', AM_FIRING)).toBe(401);
      expect(await call(path, 'Bearer not-a-token', 'POST', AM_FIRING)).toBe(401);
      for (const token of [client, frontend, release, t.adminToken]) expect(await call(path, token, 'POST', AM_FIRING), `${path}`).toBe(403);
    }
  });

  it('stop working on revocation', async () => {
    const created = await ok(t, 'POST', '/api/admin/tokens', { kind: 'alert', environments: ['production'], name: 'doomed' });
    const body = { flag: 'nothing-here', environment: 'production', action: 'pause', reason: 'test' };
    expect((await deliver(t, GENERIC, body, created.secret)).status).toBe(200);
    await ok(t, 'DELETE', `/api/admin/tokens/${created.id}`);
    expect((await deliver(t, GENERIC, body, created.secret)).status).toBe(401);
  });
});
