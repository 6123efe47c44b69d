import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emptyDir, startTestController, type TestController } from '../support/controller.js';
import { quickPolicy } from '../support/fast-rollout.js';
import { adminPerson, expectStatus, FAST_ENV, pollUntil, type AdminPerson } from '../rollouts/scenario-helpers.js';
import { verifyWebhookSignature } from '../../src/notifications/signature.js';
import type { FlagEvent } from '../../src/notifications/events.js';
import { startReceiver, type Receiver, type Received } from './receiver.js';
import { FAST_WEBHOOKS, PUBLIC_URL } from './sample-events.js';

/**
 * Kill switches people flip are told to webhooks (flag.killed, flag.restored) once per switch that
 * moved, never for a no-op; every notification links to the dashboard at PUBLIC_URL. A whole
 * controller on the test Redis, real receivers on 127.0.0.1 checking every signature.
 */

const ENV = 'production';

function signed(r: Received, secret: string): any {
  expect(verifyWebhookSignature({ secret, body: r.body, header: r.headers['x-rollout-signature'] as string })).toMatchObject({ ok: true });
  return JSON.parse(r.body);
}

describe('kill switch notifications and dashboard links', () => {
  let t: TestController;
  let manager: AdminPerson;
  const receivers: Receiver[] = [];
  const receiver = async () => {
    const r = await startReceiver();
    receivers.push(r);
    return r;
  };
  const put = (id: string, body: object) => expectStatus(t, 201, 'PUT', `/api/admin/webhooks/${id}`, body);
  const flip = (flag: string, action: 'kill' | 'restore', reason: string) =>
    expectStatus(t, 200, 'POST', `/api/admin/flags/${flag}/environments/${ENV}/${action}`, { reason }, manager.secret);
  /** Lets the dispatcher (polling every 50 ms) deliver anything still queued, so "nothing more" is a fact. */
  const settle = () => new Promise((r) => setTimeout(r, 400));

  beforeAll(async () => {
    // PUBLIC_URL with a trailing slash: links never get a double one.
    t = await startTestController({ env: { ...FAST_ENV, ...FAST_WEBHOOKS, POLICIES_DIR: emptyDir(), PUBLIC_URL: `${PUBLIC_URL}/` } });
    manager = await adminPerson(t, 'release-manager', 'Rita Manager');
    await expectStatus(t, 201, 'PUT', '/api/admin/policies/slow', {
      ...quickPolicy('slow', [10, 100]),
      stepDefaults: { minDuration: '1h', minSamples: 0, maxDuration: '2h', approval: { required: 0 } },
    });
  });
  afterAll(async () => {
    await t?.stop();
    await Promise.all(receivers.map((r) => r.close()));
  });

  it('a manual kill and restore each deliver exactly one signed event with the link; repeating either delivers nothing', async () => {
    const json = await receiver();
    const slack = await receiver();
    const other = await receiver();
    const { secret } = await put('ops-flags', { url: `${json.url}/flags`, format: 'json', environments: [ENV], events: ['flag.killed', 'flag.restored'] });
    const slackSecret = 'slack-flag-secret-0123456789';
    // Follows the policy of the rollout active where the switch flips; the other policy hears nothing.
    await put('team-slack', { url: `${slack.url}/slack`, format: 'slack', policies: ['slow'], secret: slackSecret, events: ['flag.killed', 'flag.restored'] });
    await put('other-policy', { url: `${other.url}/other`, policies: ['something-else'] });

    await expectStatus(t, 201, 'PUT', '/api/admin/flags/fe-checkout', { environments: { [ENV]: { enabled: false, strategies: [] } } });
    const rollout = await expectStatus(t, 201, 'POST', '/api/admin/rollouts', { flag: 'fe-checkout', environment: ENV, policy: 'slow' });

    const killed = await flip('fe-checkout', 'kill', 'checkout errors');
    expect(killed).toMatchObject({ killed: true, changed: true });
    expect((await flip('fe-checkout', 'kill', 'again')).changed).toBe(false);
    await json.waitFor((got) => got.length >= 1, 'the kill');
    expect((await flip('fe-checkout', 'restore', 'fixed')).changed).toBe(true);
    expect((await flip('fe-checkout', 'restore', 'fixed again')).changed).toBe(false);
    await json.waitFor((got) => got.length >= 2, 'the restore');
    await slack.waitFor((got) => got.length >= 2, 'both Slack messages');
    await settle();

    expect(json.received.map((r) => r.headers['x-rollout-event'])).toEqual(['flag.killed', 'flag.restored']);
    const [kill, restore] = json.received.map((r) => signed(r, secret) as FlagEvent) as [FlagEvent, FlagEvent];
    const active = { id: rollout.id, policy: 'slow', state: 'running', percentage: expect.any(Number) };
    expect(kill).toMatchObject({
      type: 'flag.killed',
      occurredAt: killed.killSwitch.at,
      flag: { name: 'fe-checkout', environment: ENV },
      details: { reason: 'checkout errors', actor: 'Rita Manager', at: killed.killSwitch.at, rollout: active },
      links: { dashboard: `${PUBLIC_URL}/#/flags?q=fe-checkout&env=${ENV}`, rollout: `${PUBLIC_URL}/#/rollouts/${rollout.id}` },
    });
    expect(restore).toMatchObject({ type: 'flag.restored', details: { reason: 'fixed', actor: 'Rita Manager', rollout: active } });
    expect(kill.id).not.toBe(restore.id);

    const texts = slack.received.map((r) => signed(r, slackSecret));
    expect(texts.map((m) => m.text)).toEqual([
      `KILLED: fe-checkout in ${ENV} was switched off by Rita Manager`,
      `RESTORED: fe-checkout in ${ENV} was switched back on by Rita Manager`,
    ]);
    expect(texts[0].blocks[0].text.text).toContain(`<${PUBLIC_URL}/#/flags?q=fe-checkout&amp;env=${ENV}|Open the flag in the dashboard>`);
    expect(other.received).toEqual([]);
    expect((await expectStatus(t, 200, 'GET', '/api/admin/webhooks/ops-flags/deliveries')).deliveries).toHaveLength(2);
    await expectStatus(t, 200, 'POST', `/api/admin/rollouts/${rollout.id}/abort`, {});
  });

  it('a kill with no rollout active names none; rollout events link to the rollout, in JSON and in Slack', async () => {
    const json = await receiver();
    const slack = await receiver();
    const { secret } = await put('ops-all', { url: `${json.url}/all`, events: ['flag.killed', 'rollout.started'] });
    const { secret: slackSecret } = await put('slack-started', { url: `${slack.url}/s`, format: 'slack', events: ['rollout.started'] });

    await expectStatus(t, 201, 'PUT', '/api/admin/flags/fe-quiet', { environments: { [ENV]: { enabled: true, strategies: [] } } });
    await flip('fe-quiet', 'kill', 'not yet');
    const kill = signed((await json.waitFor((got) => got.length >= 1, 'the kill'))[0]!, secret);
    expect(kill.details).toEqual({ reason: 'not yet', actor: 'Rita Manager', at: kill.occurredAt });
    expect(kill.links).toEqual({ dashboard: `${PUBLIC_URL}/#/flags?q=fe-quiet&env=${ENV}` });

    await expectStatus(t, 201, 'PUT', '/api/admin/flags/fe-ramp', { environments: { [ENV]: { enabled: false, strategies: [] } } });
    const rollout = await expectStatus(t, 201, 'POST', '/api/admin/rollouts', { flag: 'fe-ramp', environment: ENV, policy: 'slow' });
    const started = await pollUntil(
      async () => json.received.map((r) => signed(r, secret)).find((e) => e.type === 'rollout.started'),
      (e) => !!e,
      'rollout.started',
    );
    expect(started.links).toEqual({ dashboard: `${PUBLIC_URL}/#/rollouts/${rollout.id}` });
    const message = signed((await slack.waitFor((got) => got.length >= 1, 'the Slack message'))[0]!, slackSecret);
    expect(message.blocks[0].text.text).toContain(`<${PUBLIC_URL}/#/rollouts/${rollout.id}|Open the rollout in the dashboard>`);
    await expectStatus(t, 200, 'POST', `/api/admin/rollouts/${rollout.id}/abort`, {});
  });
});
