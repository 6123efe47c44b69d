import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestController, type TestController } from '../support/controller.js';
import { AM_FIRING, firing, resolved } from './alertmanager-payloads.js';
import { auditEvents, declarePolicies, deliver, flag, ok, RESUMING, rolling, rolloutOf } from './alert-world.js';

const AM = '/api/alerts/alertmanager';

/** Issue 16, incoming alerts: Alertmanager's webhook on a real Redis, through the HTTP API. */
describe('POST /api/alerts/alertmanager', () => {
  let t: TestController;
  let alertToken: string;

  beforeAll(async () => {
    t = await startTestController();
    await declarePolicies(t);
    alertToken = (await ok(t, 'POST', '/api/admin/tokens', { kind: 'alert', environments: ['production', 'staging'], name: 'alertmanager' })).secret;
  });
  afterAll(() => t.stop());

  it('pauses the rollout of the flag its labels name, exactly once, and keeps the alert in the history and the audit log', async () => {
    const id = await rolling(t, 'checkout-alerted');
    const first = await deliver(t, AM, AM_FIRING, alertToken);
    expect(first.status).toBe(200);
    expect(first.body.results).toEqual([
      expect.objectContaining({
        fingerprint: '5a8e3c1f0b2d4e6f',
        status: 'firing',
        target: { kind: 'flag', name: 'checkout-alerted' },
        environment: 'production',
        action: 'pause',
        outcome: 'acted',
        rolloutId: id,
        via: 'labels',
      }),
    ]);
    const paused = await rolloutOf(t, id);
    expect(paused.state).toBe('paused');
    expect(paused.history.at(-1)).toMatchObject({
      to: 'paused',
      actor: 'alertmanager',
      reason: expect.stringContaining('HighErrorRate (fingerprint 5a8e3c1f0b2d4e6f): checkout error rate above 5 %'),
      alert: {
        source: 'alertmanager',
        fingerprint: '5a8e3c1f0b2d4e6f',
        status: 'firing',
        alertname: 'HighErrorRate',
        startsAt: '2026-01-17T06:02:11.739Z',
        generatorURL: AM_FIRING.alerts[0]!.generatorURL,
        summary: 'checkout error rate above 5 %',
        description: 'checkout-v2 returns 7.2 % errors over 5 minutes',
        labels: { severity: 'critical', flag: 'checkout-alerted' },
      },
    });
    const audit = await auditEvents(t);
    const acted = audit.filter((e) => e.action === 'alert.acted');
    expect(acted).toHaveLength(1);
    expect(acted[0]).toMatchObject({ target: { type: 'flag', id: 'checkout-alerted', environment: 'production' }, after: { outcome: 'acted', rolloutId: id } });
    expect(acted[0].after.alert).toMatchObject({ fingerprint: '5a8e3c1f0b2d4e6f', summary: 'checkout error rate above 5 %' });
    expect(audit.filter((e) => e.action === 'rollout.pause' && e.target.id === id)).toHaveLength(1);

    // A person resumes; Alertmanager sends the same group again (group_interval, repeat_interval): nothing new.
    await ok(t, 'POST', `/api/admin/rollouts/${id}/resume`, { comment: 'looked at it' });
    const historyBefore = (await rolloutOf(t, id)).history.length;
    const again = await deliver(t, AM, AM_FIRING, alertToken);
    expect(again.status).toBe(200);
    expect(again.body.results).toEqual([expect.objectContaining({ outcome: 'duplicate', rolloutId: id })]);
    const after = await rolloutOf(t, id);
    expect(after.state).toBe('running');
    expect(after.history).toHaveLength(historyBefore);
    expect((await auditEvents(t)).filter((e) => e.action.startsWith('alert.'))).toHaveLength(1);
  });

  it('leaves a rollout paused when the alert resolves, unless its policy resumes on resolve', async () => {
    const held = await rolling(t, 'resolve-held');
    const heldAlert = firing({ flag: 'resolve-held' }, 'fp-held');
    expect((await deliver(t, AM, heldAlert, alertToken)).body.results[0].outcome).toBe('acted');
    const heldAnswer = await deliver(t, AM, resolved(heldAlert), alertToken);
    expect(heldAnswer.body.results).toEqual([
      expect.objectContaining({ status: 'resolved', action: 'resume', outcome: 'nothing_to_act_on', detail: expect.stringMatching(/resumeOnResolve/) }),
    ]);
    expect((await rolloutOf(t, held)).state).toBe('paused');

    const resuming = await rolling(t, 'resolve-resumes', RESUMING);
    const alert = firing({ flag: 'resolve-resumes' }, 'fp-resumes');
    expect((await deliver(t, AM, alert, alertToken)).body.results[0].outcome).toBe('acted');
    expect((await rolloutOf(t, resuming)).state).toBe('paused');
    const answer = await deliver(t, AM, resolved(alert), alertToken);
    expect(answer.body.results).toEqual([expect.objectContaining({ status: 'resolved', action: 'resume', outcome: 'acted', rolloutId: resuming })]);
    const back = await rolloutOf(t, resuming);
    expect(back.state).toBe('running');
    expect(back.history.find((h: any) => h.from === 'paused' && h.to === 'running')).toMatchObject({
      alert: { status: 'resolved', fingerprint: 'fp-resumes' },
    });
    // Resent, resolved and firing alike: nothing new (the firing one does not pause it again).
    expect((await deliver(t, AM, resolved(alert), alertToken)).body.results[0].outcome).toBe('duplicate');
    expect((await deliver(t, AM, alert, alertToken)).body.results[0].outcome).toBe('duplicate');
    expect((await rolloutOf(t, resuming)).state).toBe('running');
  });

  it('does not resume a rollout a person moved after the alert paused it', async () => {
    const id = await rolling(t, 'resolve-moved', RESUMING);
    const alert = firing({ flag: 'resolve-moved' }, 'fp-moved');
    await deliver(t, AM, alert, alertToken);
    await ok(t, 'POST', `/api/admin/rollouts/${id}/resume`, {});
    await ok(t, 'POST', `/api/admin/rollouts/${id}/pause`, { comment: 'holding for the release board' });
    const answer = await deliver(t, AM, resolved(alert), alertToken);
    expect(answer.body.results[0]).toMatchObject({ outcome: 'nothing_to_act_on', detail: expect.stringMatching(/changed since this alert paused it/) });
    expect((await rolloutOf(t, id)).pauseReason).toMatch(/release board/);
  });

  it('kills the flag with the kill action, once; a resolved alert does not restore it', async () => {
    await flag(t, 'kill-me');
    const alert = firing({ flag: 'kill-me', action: 'kill', environment: 'staging' }, 'fp-kill');
    const answer = await deliver(t, AM, alert, alertToken);
    expect(answer.body.results).toEqual([expect.objectContaining({ action: 'kill', outcome: 'acted', environment: 'staging' })]);
    const killed = await ok(t, 'GET', '/api/admin/flags/kill-me');
    expect(killed.killSwitches.staging).toMatchObject({ actor: 'alertmanager', reason: expect.stringContaining('HighErrorRate (fingerprint fp-kill)') });
    expect(killed.killSwitches.production).toBeUndefined();
    // A person restores it; the same delivery again kills nothing.
    await ok(t, 'POST', '/api/admin/flags/kill-me/environments/staging/restore', { reason: 'checked' });
    expect((await deliver(t, AM, alert, alertToken)).body.results[0].outcome).toBe('duplicate');
    expect((await ok(t, 'GET', '/api/admin/flags/kill-me')).killSwitches.staging).toBeUndefined();
    // Killed again by a person, then the alert resolves: it stays killed.
    await ok(t, 'POST', '/api/admin/flags/kill-me/environments/staging/kill', { reason: 'again' });
    const resolvedAnswer = await deliver(t, AM, resolved(alert), alertToken);
    expect(resolvedAnswer.body.results[0]).toMatchObject({ outcome: 'nothing_to_act_on', detail: expect.stringMatching(/a person restores/) });
    expect((await ok(t, 'GET', '/api/admin/flags/kill-me')).killSwitches.staging).toBeDefined();
    const events = (await auditEvents(t)).filter((e) => e.action === 'flag.kill' && e.target.id === 'kill-me');
    expect(events.map((e) => e.actor.name)).toEqual(['alertmanager', expect.not.stringMatching(/^alertmanager$/)]);
  });

  it('rolls the rollout back with the rollback action: the flag is killed and the rollout ends rolled_back', async () => {
    const id = await rolling(t, 'roll-me-back');
    const answer = await deliver(t, AM, firing({ flag: 'roll-me-back', action: 'rollback' }, 'fp-rollback'), alertToken);
    expect(answer.body.results[0]).toMatchObject({ action: 'rollback', outcome: 'acted', rolloutId: id });
    const r = await rolloutOf(t, id);
    expect(r.state).toBe('rolled_back');
    expect(r.history.at(-1)).toMatchObject({ to: 'rolled_back', alert: { fingerprint: 'fp-rollback' } });
    expect((await ok(t, 'GET', '/api/admin/flags/roll-me-back')).killSwitches.production).toMatchObject({ actor: `rollout ${id}` });
  });

  it('answers 200 per alert for what it cannot act on, so Alertmanager does not retry forever', async () => {
    await flag(t, 'idle-flag');
    const delivery = {
      ...AM_FIRING,
      alerts: [
        { ...AM_FIRING.alerts[0]!, fingerprint: 'fp-idle', labels: { alertname: 'A', flag: 'idle-flag', environment: 'production' } },
        { ...AM_FIRING.alerts[0]!, fingerprint: 'fp-nosuch', labels: { alertname: 'B', flag: 'no-such-flag', environment: 'production' } },
        { ...AM_FIRING.alerts[0]!, fingerprint: 'fp-release', labels: { alertname: 'C', release: 'supplier-module', environment: 'production' } },
        { ...AM_FIRING.alerts[0]!, fingerprint: 'fp-action', labels: { alertname: 'D', flag: 'idle-flag', environment: 'production', action: 'explode' } },
        { ...AM_FIRING.alerts[0]!, fingerprint: 'fp-nothing', labels: { alertname: 'E', environment: 'production' } },
      ],
    };
    const answer = await deliver(t, AM, delivery, alertToken);
    expect(answer.status).toBe(200);
    expect(answer.body.results.map((r: any) => [r.fingerprint, r.outcome])).toEqual([
      ['fp-idle', 'nothing_to_act_on'],
      ['fp-nosuch', 'unknown_target'],
      ['fp-release', 'unknown_target'],
      ['fp-action', 'invalid'],
      ['fp-nothing', 'unknown_target'],
    ]);
    expect(answer.body.results[2].detail).toMatch(/release "supplier-module" is unknown/);
    // Nothing to act on is recorded once: the resend is a duplicate.
    expect((await deliver(t, AM, delivery, alertToken)).body.results[0].outcome).toBe('duplicate');
    expect((await auditEvents(t)).filter((e) => e.action === 'alert.no_action' && e.target.id === 'idle-flag')).toHaveLength(1);
  });

  it('refuses a body that is not a delivery with 400 naming the field, and one over BODY_LIMIT_ALERTS with 413', async () => {
    const bad = await deliver(t, AM, { ...AM_FIRING, alerts: [{ ...AM_FIRING.alerts[0], labels: 'flag=x' }] }, alertToken);
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('alerts[0].labels');
    const noAlerts = await deliver(t, AM, { version: '4', status: 'firing' }, alertToken);
    expect(noAlerts.status).toBe(400);
    expect(noAlerts.body.message).toContain('alerts');
    const huge = await deliver(t, AM, { ...AM_FIRING, receiver: 'x'.repeat(1024 * 1024) }, alertToken);
    expect(huge.status).toBe(413);
    expect(huge.body.message).toContain('BODY_LIMIT_ALERTS');
  });
});
