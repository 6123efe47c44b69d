import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { emptyDir, startTestController, type TestController } from '../support/controller.js';
import {
  DEGRADED,
  ENV,
  FAST_ENV,
  HEALTHY,
  ROLLBACK_ABOVE,
  UNHEALTHY,
  adminPerson,
  auditEvents,
  expectStatus,
  getRollout,
  pollUntil,
  shortPolicy,
  startTraffic,
  stopAllTraffic,
  waitForAnalyses,
  waitForRollout,
  type AdminPerson,
} from '../rollouts/scenario-helpers.js';
import { verifyWebhookSignature } from '../../src/notifications/signature.js';
import type { RolloutEvent } from '../../src/notifications/events.js';
import { failFirstAttempt, startReceiver, type Receiver, type Received } from './receiver.js';
import { FAST_WEBHOOKS } from './sample-events.js';

/**
 * Webhooks end to end: a whole controller on the real test Redis, real rollouts driven by outcomes
 * posted through the API and approvals by people with their own tokens, and real HTTP receivers on
 * 127.0.0.1 that check every signature. Retries are compressed through the controller's settings (FAST_WEBHOOKS).
 */

const disabledFlag = { environments: { [ENV]: { enabled: false, strategies: [] } } };

/** The event in a request, after checking its signature, headers and body agree. */
function signedEvent(r: Received, secret: string): RolloutEvent {
  const verdict = verifyWebhookSignature({ secret, body: r.body, header: r.headers['x-rollout-signature'] as string });
  expect(verdict, `signature of ${r.headers['x-rollout-event']}`).toMatchObject({ ok: true });
  expect(r.headers['content-type']).toBe('application/json');
  const event = JSON.parse(r.body) as RolloutEvent;
  expect(r.headers['x-rollout-event-id']).toBe(event.id);
  expect(r.headers['x-rollout-event']).toBe(event.type);
  return event;
}

/** Requests grouped by event id, in arrival order. */
function byEvent(received: Received[]): Map<string, Received[]> {
  const groups = new Map<string, Received[]>();
  for (const r of received) {
    const id = r.headers['x-rollout-event-id'] as string;
    groups.set(id, [...(groups.get(id) ?? []), r]);
  }
  return groups;
}

/** The events a receiver accepted (2xx) for one rollout, oldest first. */
function accepted(receiver: Receiver, secret: string, rolloutId: string): RolloutEvent[] {
  return receiver.received
    .filter((r) => r.status < 300)
    .map((r) => signedEvent(r, secret))
    .filter((e) => e.rollout.id === rolloutId)
    .sort((a, b) => a.occurredAt.localeCompare(b.occurredAt));
}

const acceptedTypes = (receiver: Receiver, secret: string, id: string) => accepted(receiver, secret, id).map((e) => e.type);

describe('webhook notifications on a live controller', () => {
  let t: TestController;
  let client: string;
  let editor: AdminPerson;
  let releaseManager: AdminPerson;
  let viewer: AdminPerson;
  const receivers: Receiver[] = [];

  const receiver = async (answer?: Parameters<typeof startReceiver>[0]) => {
    const r = await startReceiver(answer);
    receivers.push(r);
    return r;
  };
  const putWebhook = (id: string, body: object, status = 201, token?: string) => expectStatus(t, status, 'PUT', `/api/admin/webhooks/${id}`, body, token);
  const deliveriesOf = async (webhook: string, token?: string): Promise<any[]> =>
    (await expectStatus(t, 200, 'GET', `/api/admin/webhooks/${webhook}/deliveries`, undefined, token)).deliveries;
  const start = async (flag: string, policy: string): Promise<string> =>
    (await expectStatus(t, 201, 'POST', '/api/admin/rollouts', { flag, environment: ENV, policy }, editor.secret)).id;
  const command = (id: string, kind: string, comment?: string) =>
    expectStatus(t, 200, 'POST', `/api/admin/rollouts/${id}/${kind}`, comment ? { comment } : {}, releaseManager.secret);

  beforeAll(async () => {
    t = await startTestController({ env: { ...FAST_ENV, ...FAST_WEBHOOKS, POLICIES_DIR: emptyDir() } });
    client = await t.token({ kind: 'client', environment: ENV });
    editor = await adminPerson(t, 'editor', 'erin-editor');
    releaseManager = await adminPerson(t, 'release-manager', 'rita-release-manager');
    viewer = await adminPerson(t, 'viewer', 'vic-viewer');
    await expectStatus(t, 201, 'PUT', '/api/admin/policies/short', shortPolicy('short'));
  });

  afterEach(async () => {
    await stopAllTraffic();
  });

  afterAll(async () => {
    await stopAllTraffic();
    await t?.stop();
    await Promise.all(receivers.map((r) => r.close()));
  });

  it('admin API: the secret is generated and shown once, never read back, kept out of the audit log; only admins manage webhooks', async () => {
    const created = await putWebhook('api-check', {
      url: 'https://hooks.example.com/services/T000/B000/credential-in-path',
      format: 'slack',
      environments: [ENV],
    });
    expect(created).toMatchObject({
      id: 'api-check',
      url: 'https://hooks.example.com/services/T000/B000/credential-in-path',
      format: 'slack',
      environments: [ENV],
    });
    const secret: string = created.secret;
    expect(secret).toMatch(/^whsec_/);
    expect(created.secretHint).toBe(`${secret.slice(0, 10)}…`);

    const listed = await expectStatus(t, 200, 'GET', '/api/admin/webhooks');
    expect(listed.webhooks.find((w: any) => w.id === 'api-check')).toEqual({ ...created, secret: undefined });
    expect(JSON.stringify(listed)).not.toContain(secret);
    // Readers see where it goes, but not the path (a Slack URL's path is a credential).
    const seenByViewer = await expectStatus(t, 200, 'GET', '/api/admin/webhooks/api-check', undefined, viewer.secret);
    expect(seenByViewer.url).toBe('https://hooks.example.com/…');
    expect(JSON.stringify(seenByViewer)).not.toContain(secret);

    // Changing it without a secret keeps the secret and does not show it; rotating shows the new one once.
    const updated = await putWebhook(
      'api-check',
      { url: 'https://hooks.example.com/services/T000/B000/credential-in-path', format: 'json', events: ['rollout.rolled_back'] },
      200,
    );
    expect(updated).toMatchObject({ format: 'json', events: ['rollout.rolled_back'], secretHint: created.secretHint, createdAt: created.createdAt });
    expect(updated.secret).toBeUndefined();
    expect(updated.environments).toBeUndefined();
    const rotated = await putWebhook('api-check', { url: 'https://hooks.example.com/x', rotateSecret: true }, 200);
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(secret);
    const own = await putWebhook('api-check', { url: 'https://hooks.example.com/x', secret: 'my-own-secret-of-24-chars' }, 200);
    expect(own.secret).toBeUndefined();
    expect(own.secretHint).toBe('my-own-sec…');

    // Only admins change webhooks; the API names a bad field.
    await putWebhook('api-check', { url: 'https://hooks.example.com/x' }, 403, editor.secret);
    await putWebhook('api-check', { url: 'https://hooks.example.com/x' }, 403, releaseManager.secret);
    await expectStatus(t, 403, 'DELETE', '/api/admin/webhooks/api-check', undefined, viewer.secret);
    const badUrl = await putWebhook('api-check', { url: 'ftp://hooks.example.com/x' }, 400);
    expect(badUrl.message).toMatch(/^invalid body: url: /);
    const badEvent = await putWebhook('api-check', { url: 'https://hooks.example.com/x', events: ['rollout.exploded'] }, 400);
    expect(badEvent.message).toMatch(/^invalid body: events\[0\]: /);

    // The audit log has each change, with no secret in it.
    const audit = (await auditEvents(t)).filter((e) => e.target.type === 'webhook');
    expect(audit.map((e) => [e.action, e.reason])).toEqual([
      ['webhook.create', undefined],
      ['webhook.update', undefined],
      ['webhook.update', 'signing secret replaced'],
      ['webhook.update', 'signing secret replaced'],
    ]);
    const text = JSON.stringify(audit);
    for (const s of [secret, rotated.secret, 'my-own-secret-of-24-chars']) expect(text).not.toContain(s);
    expect(text).not.toContain('credential-in-path');

    await expectStatus(t, 204, 'DELETE', '/api/admin/webhooks/api-check');
    await expectStatus(t, 404, 'GET', '/api/admin/webhooks/api-check');
    await expectStatus(t, 404, 'GET', '/api/admin/webhooks/api-check/deliveries');
  });

  it('a rollout 1% → 100%: every event signed, retried after a 500 with the same event id, delivered once; filters by environment and policy', async () => {
    const json = await receiver(failFirstAttempt);
    const slack = await receiver();
    const staging = await receiver();
    const { secret } = await putWebhook('ops-json', { url: `${json.url}/hooks/ops`, format: 'json', environments: [ENV] });
    const slackSecret = 'slack-side-secret-0123456789';
    await putWebhook('team-slack', {
      url: `${slack.url}/slack`,
      format: 'slack',
      policies: ['short'],
      events: ['rollout.awaiting_approval', 'rollout.completed'],
      secret: slackSecret,
    });
    await putWebhook('staging-only', { url: `${staging.url}/staging`, environments: ['staging'] });

    const flag = 'wh-checkout';
    await expectStatus(t, 201, 'PUT', `/api/admin/flags/${flag}`, disabledFlag, editor.secret);
    startTraffic(t, client, flag, HEALTHY);
    const id = await start(flag, 'short');
    for (const pct of [10, 50, 100]) {
      await waitForRollout(t, id, (r) => r.state === 'awaiting_approval', `awaiting approval for ${pct}%`);
      await command(id, 'approve', `go to ${pct}%`);
    }
    const done = await waitForRollout(t, id, (r) => r.state === 'completed', 'completed');
    const expected = [
      'rollout.started',
      'rollout.awaiting_approval',
      'rollout.step_advanced',
      'rollout.awaiting_approval',
      'rollout.step_advanced',
      'rollout.awaiting_approval',
      'rollout.step_advanced',
      'rollout.completed',
    ];
    await json.waitFor(() => acceptedTypes(json, secret, id).length === expected.length, 'every event accepted by the JSON receiver');
    await slack.waitFor((got) => got.length === 4, 'the Slack receiver’s four messages');

    // Each event: a 500, then the same event (same id, same bytes) again, accepted; never a third time.
    const groups = byEvent(json.received);
    expect(groups.size).toBe(expected.length);
    for (const [eventId, attempts] of groups) {
      expect(
        attempts.map((r) => r.status),
        eventId,
      ).toEqual([500, 200]);
      expect(attempts.map((r) => r.headers['x-rollout-delivery-attempt'])).toEqual(['1', '2']);
      expect(attempts[1]!.body).toBe(attempts[0]!.body);
      expect(attempts.every((r) => r.path === '/hooks/ops' && r.headers['user-agent'] === 'rollout-controller/0.1.0')).toBe(true);
    }

    // What they said: the whole ramp, in order, with the values behind each step.
    const events = accepted(json, secret, id);
    expect(events.map((e) => e.type)).toEqual(expected);
    expect(events.map((e) => [e.rollout.state, e.rollout.percentage])).toEqual([
      ['running', 1],
      ['awaiting_approval', 1],
      ['running', 10],
      ['awaiting_approval', 10],
      ['running', 50],
      ['awaiting_approval', 50],
      ['running', 100],
      ['completed', 100],
    ]);
    for (const e of events) expect(e.rollout).toMatchObject({ id, flag, environment: ENV, policy: 'short' });
    expect(events[0]!.details).toEqual({ startedBy: editor.name, percentage: 1, reason: 'rollout started' });
    const advances = events.filter((e) => e.type === 'rollout.step_advanced');
    expect(advances.map((e) => e.details)).toMatchObject(
      [10, 50, 100].map((to, i) => ({
        fromPercentage: [1, 10, 50][i],
        toPercentage: to,
        step: i + 2,
        steps: 4,
        by: releaseManager.name,
        approvals: [{ by: releaseManager.name, comment: `go to ${to}%` }],
      })),
    );
    // The times are the history's: the events are views of the recorded transitions.
    expect(events.map((e) => e.occurredAt)).toEqual(done.history.map((h: any) => h.at));
    const waiting = events.find((e) => e.type === 'rollout.awaiting_approval')!;
    expect(waiting.details).toMatchObject({ nextPercentage: 10, approvalsNeeded: 1, roles: ['release-manager'] });
    expect((waiting.details as any).gates.map((g: any) => g.verdict)).toEqual(['pass', 'pass', 'pass']);

    // The delivery record agrees (once written: the receiver answers before the outcome is stored): each job delivered on its second attempt.
    const ours = await pollUntil(
      async () => (await deliveriesOf('ops-json', viewer.secret)).filter((d: any) => d.event.rollout.id === id),
      (jobs) => jobs.length === expected.length && jobs.every((d: any) => d.status !== 'pending'),
      'every delivery of the rollout recorded',
    );
    for (const d of ours) {
      expect(d).toMatchObject({ webhookId: 'ops-json', status: 'delivered', started: 2 });
      expect(d.attempts.map((a: any) => [a.attempt, a.status])).toEqual([
        [1, 500],
        [2, 200],
      ]);
      expect(d.claim).toBeUndefined();
    }

    // Slack: only what it asked for, readable, signed with the secret it chose.
    const messages = slack.received.map((r) => {
      expect(verifyWebhookSignature({ secret: slackSecret, body: r.body, header: r.headers['x-rollout-signature'] as string })).toMatchObject({ ok: true });
      return { type: r.headers['x-rollout-event'], ...(JSON.parse(r.body) as { text: string; blocks: unknown[] }) };
    });
    expect(messages.map((m) => m.type).sort()).toEqual([
      'rollout.awaiting_approval',
      'rollout.awaiting_approval',
      'rollout.awaiting_approval',
      'rollout.completed',
    ]);
    expect(messages.map((m) => m.text)).toContain(`${flag} in ${ENV} completed at 100%`);
    expect(messages.map((m) => m.text)).toContain(`${flag} in ${ENV} is waiting for approval to go to 50% (1 approval needed from release-manager)`);
    for (const m of messages) expect(m.blocks).toHaveLength(3);

    // Another environment's webhook was never given a job.
    expect(await deliveriesOf('staging-only')).toEqual([]);
    expect(staging.received).toEqual([]);
  });

  it('paused, resumed, gates failing (told once while they stay failing) and rolled back with the breach values', async () => {
    const json = await receiver(failFirstAttempt);
    const { secret } = await putWebhook('ops-rollback', { url: `${json.url}/hooks/rb`, environments: [ENV], policies: ['short'] });
    const flag = 'wh-payments';
    await expectStatus(t, 201, 'PUT', `/api/admin/flags/${flag}`, disabledFlag, editor.secret);
    const id = await start(flag, 'short');
    await command(id, 'pause', 'waiting for the on-call');
    // Degraded traffic (15% errors: gates fail, the 20% rollback rule does not) from the resumed step on.
    const traffic = startTraffic(t, client, flag, DEGRADED);
    await traffic.nextBatch();
    await command(id, 'resume');
    await waitForRollout(t, id, (r) => r.stepVerdict.kind === 'failing', 'gates failing');
    await json.waitFor(() => acceptedTypes(json, secret, id).includes('rollout.gate_failing'), 'gate_failing accepted');
    // Three more analyses that still find the gates failing tell nobody anything new.
    await waitForAnalyses(t, id, 3, (r) => expect([r.state, r.stepVerdict.kind]).toEqual(['running', 'failing']));

    traffic.set(UNHEALTHY);
    const rolledBack = await waitForRollout(t, id, (r) => r.state === 'rolled_back', 'rolled back');
    await json.waitFor(() => acceptedTypes(json, secret, id).includes('rollout.rolled_back'), 'rolled_back accepted');
    await traffic.stop();

    const events = accepted(json, secret, id);
    expect(events.map((e) => e.type)).toEqual(['rollout.started', 'rollout.paused', 'rollout.resumed', 'rollout.gate_failing', 'rollout.rolled_back']);
    // The reason as written, and the wording it was filled from (for a receiver that says it in another language).
    expect(events[1]!.details).toEqual({
      by: releaseManager.name,
      reason: `paused by ${releaseManager.name}: waiting for the on-call`,
      reasonWording: { template: 'paused by {name}: {comment}', values: { name: releaseManager.name, comment: 'waiting for the on-call' } },
    });
    expect(events[2]!.details).toEqual({ by: releaseManager.name });
    const failing = events[3]!.details as Extract<RolloutEvent, { type: 'rollout.gate_failing' }>['details'];
    expect(failing.failing.length).toBeGreaterThan(0);
    for (const gate of failing.failing) expect(gate.verdict).toBe('fail');
    expect(failing.failing.find((g) => g.rule === 'error_rate(treatment) <= 0.05')?.value).toBeGreaterThan(0.05);

    // The breach as the rollout recorded it at the kill: the same rule, value and sample count.
    const kill = rolledBack.history.at(-1);
    const back = events[4]! as Extract<RolloutEvent, { type: 'rollout.rolled_back' }>;
    expect(back.rollout).toMatchObject({ state: 'rolled_back', percentage: 1 });
    expect(back.occurredAt).toBe(kill.at);
    expect(kill.reasonWording.template).toMatch(/^rollback rule \{rule\} breached/);
    expect(back.details).toEqual({
      reason: kill.reason,
      reasonWording: kill.reasonWording,
      breaches: kill.rollbackChecks.filter((c: any) => c.verdict === 'fail'),
      killed: [flag],
      samples: kill.samples,
    });
    expect(back.details.breaches[0]).toMatchObject({ rule: 'error_rate(treatment) > 0.2 for 500ms', verdict: 'fail' });
    expect(back.details.breaches[0]!.value).toBeGreaterThan(ROLLBACK_ABOVE);
    // Every event arrived twice (500, then 200) and not a third time.
    for (const attempts of byEvent(json.received).values()) expect(attempts.map((r) => r.status)).toEqual([500, 200]);
    expect((await getRollout(t, id)).state).toBe('rolled_back');
  });

  it('survives a restart: a notification the receiver refused while the controller ran is delivered by its successor, with the same event id', async () => {
    const down = await receiver(() => 503);
    const { secret } = await putWebhook('ops-restart', { url: `${down.url}/hooks/restart`, events: ['rollout.paused'] });
    const flag = 'wh-restart';
    await expectStatus(t, 201, 'PUT', `/api/admin/flags/${flag}`, disabledFlag, editor.secret);
    const id = await start(flag, 'short');
    await command(id, 'pause', 'before the restart');
    await down.waitFor((got) => got.length >= 2, 'two refused attempts');
    await t.stop();

    down.answerWith(() => 200);
    const refused = down.received.length;
    t = await startTestController({ prefix: t.prefix, env: { ...FAST_ENV, ...FAST_WEBHOOKS, POLICIES_DIR: emptyDir() } });
    await down.waitFor((got) => got.some((r) => r.status === 200), 'delivery by the new controller');

    const attempts = down.received;
    expect(attempts.slice(0, refused).every((r) => r.status === 503)).toBe(true);
    expect(attempts.slice(refused).map((r) => r.status)).toEqual([200]);
    const ids = new Set(attempts.map((r) => signedEvent(r, secret).id));
    expect(ids.size).toBe(1);
    const event = signedEvent(attempts.at(-1)!, secret);
    expect(event).toMatchObject({ type: 'rollout.paused', rollout: { id, state: 'paused' } });
    // Attempts are counted across both processes (one cut short by the shutdown may not have reached the receiver).
    const numbers = attempts.map((r) => Number(r.headers['x-rollout-delivery-attempt']));
    expect(numbers[0]).toBe(1);
    expect(numbers.every((n, i) => i === 0 || n > numbers[i - 1]!)).toBe(true);
    const deliveries = await pollUntil(
      () => deliveriesOf('ops-restart'),
      (jobs) => jobs[0]?.status !== 'pending',
      'the delivery recorded',
    );
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]).toMatchObject({ status: 'delivered', event: { id: event.id } });
    expect(deliveries[0].attempts.at(-1)).toMatchObject({ status: 200 });
  });
});
