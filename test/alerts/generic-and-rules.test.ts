import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestController, type TestController } from '../support/controller.js';
import { AM_FIRING } from './alertmanager-payloads.js';
import { auditEvents, declarePolicies, deliver, flag, ok, rolling, rolloutOf } from './alert-world.js';

const AM = '/api/alerts/alertmanager';
const GENERIC = '/api/alerts/generic';

describe('POST /api/alerts/generic (issue 16)', () => {
  let t: TestController;
  let token: string;

  beforeAll(async () => {
    t = await startTestController();
    await declarePolicies(t);
    token = (await ok(t, 'POST', '/api/admin/tokens', { kind: 'alert', environments: ['production'], name: 'apm' })).secret;
  });
  afterAll(() => t.stop());

  it('pauses once per fingerprint, with the reason in the history', async () => {
    const id = await rolling(t, 'generic-pause');
    const body = { flag: 'generic-pause', environment: 'production', action: 'pause', reason: 'load > 80 %', fingerprint: 'apm-4711' };
    const first = await deliver(t, GENERIC, body, token);
    expect(first.status).toBe(200);
    expect(first.body.results).toEqual([
      expect.objectContaining({ fingerprint: 'apm-4711', target: { kind: 'flag', name: 'generic-pause' }, action: 'pause', outcome: 'acted', via: 'request' }),
    ]);
    const r = await rolloutOf(t, id);
    expect(r.history.at(-1)).toMatchObject({
      to: 'paused',
      reason: expect.stringContaining('load > 80 %'),
      alert: { source: 'generic', summary: 'load > 80 %' },
    });
    await ok(t, 'POST', `/api/admin/rollouts/${id}/resume`, {});
    expect((await deliver(t, GENERIC, body, token)).body.results[0].outcome).toBe('duplicate');
    expect((await rolloutOf(t, id)).state).toBe('running');
  });

  it('acts every time when no fingerprint is given (nothing to recognise a resend by)', async () => {
    const id = await rolling(t, 'generic-unidentified');
    const body = { flag: 'generic-unidentified', environment: 'production', action: 'pause', reason: 'P0 bug' };
    expect((await deliver(t, GENERIC, body, token)).body.results[0]).toMatchObject({ outcome: 'acted', fingerprint: expect.stringMatching(/^unidentified-/) });
    await ok(t, 'POST', `/api/admin/rollouts/${id}/resume`, {});
    expect((await deliver(t, GENERIC, body, token)).body.results[0].outcome).toBe('acted');
    expect((await rolloutOf(t, id)).state).toBe('paused');
  });

  it('kills a flag, and answers an unknown release as unknown', async () => {
    await flag(t, 'generic-kill');
    const answer = await deliver(t, GENERIC, { flag: 'generic-kill', environment: 'production', action: 'kill', reason: 'P0', fingerprint: 'k1' }, token);
    expect(answer.body.results[0]).toMatchObject({ outcome: 'acted', action: 'kill' });
    expect((await ok(t, 'GET', '/api/admin/flags/generic-kill')).killSwitches.production).toMatchObject({ reason: expect.stringContaining('P0') });
    const release = await deliver(t, GENERIC, { release: 'supplier-module', environment: 'production', action: 'rollback', reason: 'P0' }, token);
    expect(release.body.results[0]).toMatchObject({ target: { kind: 'release', name: 'supplier-module' }, outcome: 'unknown_target' });
  });

  it('refuses a bad body with 400 naming the field', async () => {
    const cases: Array<[unknown, string]> = [
      [{ flag: 'a', release: 'b', environment: 'production', action: 'pause', reason: 'r' }, 'release: exactly one of flag and release'],
      [{ flag: 'a', environment: 'production', action: 'stop', reason: 'r' }, 'action'],
      [{ flag: 'a', environment: 'production', action: 'pause' }, 'reason'],
      [{ flag: 'a', environment: 'production', action: 'pause', reason: 'r', extra: 1 }, 'extra'],
    ];
    for (const [body, says] of cases) {
      const res = await deliver(t, GENERIC, body, token);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.message).toContain(says);
    }
  });
});

describe('routing rules for alerts (issue 16)', () => {
  let t: TestController;
  let token: string;

  beforeAll(async () => {
    t = await startTestController();
    await declarePolicies(t);
    token = (await ok(t, 'POST', '/api/admin/tokens', { kind: 'alert', environments: ['production'], name: 'alertmanager' })).secret;
  });
  afterAll(() => t.stop());

  it('are written by admins only, audited, and named in a 400 when wrong', async () => {
    const rule = { name: 'checkout-errors', matchers: ['alertname="HighErrorRate"', 'service=~"checkout|cart"'], flags: ['rule-a', 'rule-b'], action: 'pause' };
    const editor = await t.token({ kind: 'admin', role: 'editor' });
    expect((await t.api('PUT', '/api/admin/alert-routes/checkout-errors', rule, editor)).status).toBe(403);
    expect((await t.api('PUT', '/api/admin/alert-routes/checkout-errors', rule)).status).toBe(201);
    expect((await t.api('PUT', '/api/admin/alert-routes/checkout-errors', rule)).status).toBe(200);
    expect((await t.api('GET', '/api/admin/alert-routes', undefined, editor)).body.routes).toEqual([expect.objectContaining({ name: 'checkout-errors' })]);
    const bad = await t.api('PUT', '/api/admin/alert-routes/broken', { name: 'broken', matchers: ['service=~"(checkout"'], flags: ['x'] });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('matchers[0]');
    const undeclared = await t.api('PUT', '/api/admin/alert-routes/typo', { name: 'typo', matchers: ['a="b"'], flags: ['x'], environments: ['prodution'] });
    expect(undeclared.status).toBe(404);
    expect((await auditEvents(t)).filter((e) => e.action === 'alert-route.put').map((e) => e.target.id)).toEqual(['checkout-errors', 'checkout-errors']);
  });

  it('map an alert without flag or release labels to every flag of the rules it matches', async () => {
    const a = await rolling(t, 'rule-a');
    const b = await rolling(t, 'rule-b');
    const other = await rolling(t, 'rule-other');
    await ok(t, 'PUT', '/api/admin/alert-routes/p0-kill', { name: 'p0-kill', matchers: ['severity="P0"'], flags: ['rule-b'], action: 'kill' });
    const labels = { alertname: 'HighErrorRate', service: 'cart', environment: 'production', severity: 'P0' };
    const answer = await deliver(t, AM, { ...AM_FIRING, alerts: [{ ...AM_FIRING.alerts[0]!, labels, fingerprint: 'fp-rules' }] }, token);
    expect(answer.status).toBe(200);
    expect(answer.body.results.map((r: any) => [r.target.name, r.action, r.outcome, r.via])).toEqual([
      ['rule-a', 'pause', 'acted', 'rule checkout-errors'],
      ['rule-b', 'kill', 'acted', 'rule p0-kill'],
    ]);
    expect((await rolloutOf(t, a)).state).toBe('paused');
    expect((await ok(t, 'GET', '/api/admin/flags/rule-b')).killSwitches.production).toBeDefined();
    expect((await rolloutOf(t, b)).state).toBe('running');
    expect((await rolloutOf(t, other)).state).toBe('running');
    // An alert the rules do not match names no target.
    const unmatched = { ...labels, service: 'search', severity: 'warning' };
    const none = await deliver(t, AM, { ...AM_FIRING, alerts: [{ ...AM_FIRING.alerts[0]!, labels: unmatched, fingerprint: 'fp-none' }] }, token);
    expect(none.body.results).toEqual([
      expect.objectContaining({ target: null, outcome: 'unknown_target', detail: expect.stringMatching(/no routing rule matches/) }),
    ]);
    // Deleted, a rule routes nothing.
    expect((await t.api('DELETE', '/api/admin/alert-routes/p0-kill?reason=done')).status).toBe(204);
    expect((await t.api('GET', '/api/admin/alert-routes/p0-kill')).status).toBe(404);
  });
});
