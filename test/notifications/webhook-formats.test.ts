import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { emptyDir, startTestController, uniquePrefix, type TestController } from '../support/controller.js';
import { adminPerson, expectStatus, FAST_ENV, pollUntil, type AdminPerson } from '../rollouts/scenario-helpers.js';
import { openStore } from '../../src/store/index.js';
import { alertActedEvent, flagDrilledEvent, pipelinePromotedEvent, rolloutScheduledEvent } from '../../src/notifications/events.js';
import { verifyWebhookSignature } from '../../src/notifications/signature.js';
import { WebhookService } from '../../src/notifications/webhook-service.js';
import { startReceiver, type Receiver } from './receiver.js';
import { FAST_WEBHOOKS, PUBLIC_URL } from './sample-events.js';
import { startSmtpServer, type TestSmtpServer } from './smtp-server.js';
import { dingtalkReceiver, feishuReceiver, teamsReceiver, wecomReceiver, type VendorReceiver } from './vendor-receivers.js';

/**
 * The notification formats on a live controller (real Redis, a real SMTP server, local stand-ins
 * for the chat vendors that check every request as the vendors do): a kill reaches every format,
 * the test button's route, the deliveries list, and events other parts publish.
 */

const ENV = 'production';
const DING_SECRET = 'SEC7f3a9c2b1d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8';
const FEISHU_SECRET = 'kkjH8XQ8dYYhcGxXtqMgvd';
const WECOM_KEY = '693a91f6-7aoc-4bc4-97a0-0ec2sifa5aaa';
const TEAMS_SIG = 'Zx9sig0123456789abcdefghijklmnop';
const SMTP_LOGIN = { user: 'rollouts', password: 'smtp-password-123' };

describe('notification formats on a live controller', () => {
  let t: TestController;
  let smtp: TestSmtpServer;
  let ding: VendorReceiver;
  let feishu: VendorReceiver;
  let wecom: VendorReceiver;
  let teams: VendorReceiver;
  let admin: AdminPerson;
  let manager: AdminPerson;
  let editor: AdminPerson;
  let viewer: AdminPerson;
  const others: Receiver[] = [];

  const put = (id: string, body: object, status = 201) => expectStatus(t, status, 'PUT', `/api/admin/webhooks/${id}`, body);
  const deliveries = async (id: string, token?: string): Promise<any[]> =>
    (await expectStatus(t, 200, 'GET', `/api/admin/webhooks/${id}/deliveries`, undefined, token)).deliveries;
  const settled = (id: string, count: number) =>
    pollUntil(
      () => deliveries(id),
      (jobs) => jobs.length >= count && jobs.every((j) => j.status !== 'pending'),
      `${count} deliveries of ${id} recorded`,
    );

  beforeAll(async () => {
    smtp = await startSmtpServer(SMTP_LOGIN);
    [ding, feishu, wecom, teams] = await Promise.all([
      dingtalkReceiver('ding-token-0123456789abcdef', DING_SECRET),
      feishuReceiver('f19d0c8e-1b2a-4c3d-9e8f-0a1b2c3d4e5f', FEISHU_SECRET),
      wecomReceiver(WECOM_KEY),
      teamsReceiver(TEAMS_SIG),
    ]);
    t = await startTestController({
      env: {
        ...FAST_ENV,
        ...FAST_WEBHOOKS,
        POLICIES_DIR: emptyDir(),
        PUBLIC_URL,
        SMTP_HOST: '127.0.0.1',
        SMTP_PORT: String(smtp.port),
        SMTP_USER: SMTP_LOGIN.user,
        SMTP_PASSWORD: SMTP_LOGIN.password,
        SMTP_FROM: 'Rollouts <rollouts@example.com>',
        // The test server's certificate is self-signed.
        SMTP_TLS_REJECT_UNAUTHORIZED: 'false',
      },
    });
    admin = { id: 'bootstrap', name: 'admin', role: 'admin', secret: t.adminToken };
    manager = await adminPerson(t, 'release-manager', 'Rita Manager');
    editor = await adminPerson(t, 'editor', 'Erin Editor');
    viewer = await adminPerson(t, 'viewer', 'Vic Viewer');
  });

  afterAll(async () => {
    await t?.stop();
    await Promise.all([smtp, ding, feishu, wecom, teams, ...others].map((r) => r?.close()));
  });

  it('PUT checks what each format needs, naming the field; the robots’ secrets are never echoed', async () => {
    const refused = async (body: object, message: RegExp) => expect((await put('bad', body, 400)).message).toMatch(message);
    await refused({ format: 'dingtalk', url: ding.url }, /^invalid body: secret: required with format dingtalk: the robot's signing secret/);
    await refused({ format: 'feishu', url: feishu.url, rotateSecret: true }, /rotateSecret: the feishu robot makes its own secret/);
    await refused({ format: 'wecom', url: wecom.url, secret: 'a-secret-of-16-chars' }, /^invalid body: secret: WeCom robots do not sign/);
    await refused({ format: 'teams', url: teams.url, rotateSecret: true }, /^invalid body: rotateSecret: Teams workflows do not sign \(no HMAC\)/);
    await refused({ format: 'email', url: 'https://mail.example.com', to: ['a@example.com'] }, /^invalid body: url: an e-mail webhook has no url/);
    await refused({ format: 'email' }, /^invalid body: to: required with format email/);
    await refused({ format: 'email', to: ['oncall@example.com', 'not an address'] }, /^invalid body: to\[1\]: an e-mail address/);
    await refused({ format: 'email', to: Array.from({ length: 51 }, (_, i) => `p${i}@example.com`) }, /^invalid body: to: /);
    await refused({ format: 'json', url: ding.url, to: ['a@example.com'] }, /^invalid body: to: only with format email/);
    await refused({ format: 'json' }, /^invalid body: url: required with format json/);

    const created = await put('ding-check', { format: 'dingtalk', url: ding.url, secret: DING_SECRET });
    expect(created.secret).toBeUndefined();
    expect(created.secretHint).toBe(`${DING_SECRET.slice(0, 10)}…`);
    // Changing the filters keeps the URL and the robot's secret when they are not given again.
    const changed = await put('ding-check', { format: 'dingtalk', environments: [ENV] }, 200);
    expect(changed).toMatchObject({ url: ding.url, secretHint: created.secretHint, environments: [ENV] });
    expect((await put('wecom-check', { format: 'wecom', url: wecom.url })).secretHint).toBeUndefined();
    // A viewer sees where a robot is, not its token or key.
    expect((await expectStatus(t, 200, 'GET', '/api/admin/webhooks/wecom-check', undefined, viewer.secret)).url).toBe(new URL(wecom.url).origin + '/…');
    await expectStatus(t, 204, 'DELETE', '/api/admin/webhooks/ding-check');
    await expectStatus(t, 204, 'DELETE', '/api/admin/webhooks/wecom-check');
  });

  it('a kill reaches every format: signed and checked as each vendor does, and by e-mail to the production list only', async () => {
    await put('ding', { format: 'dingtalk', url: ding.url, secret: DING_SECRET, environments: [ENV] });
    await put('feishu', { format: 'feishu', url: feishu.url, secret: FEISHU_SECRET });
    await put('wecom', { format: 'wecom', url: wecom.url });
    await put('teams', { format: 'teams', url: teams.url });
    const mail = await put('mail-production', { format: 'email', to: ['oncall@example.com', 'release-team@example.com'], environments: [ENV] });
    expect(mail).toMatchObject({ format: 'email', to: ['oncall@example.com', 'release-team@example.com'] });
    expect(mail.url).toBeUndefined();
    await put('mail-staging', { format: 'email', to: ['staging-team@example.com'], environments: ['staging'] });

    await expectStatus(t, 201, 'PUT', '/api/admin/flags/wf-checkout', { environments: { [ENV]: { enabled: true, strategies: [] } } });
    await expectStatus(
      t,
      200,
      'POST',
      `/api/admin/flags/wf-checkout/environments/${ENV}/kill`,
      { reason: 'error rate 12 % after deploy 4812' },
      manager.secret,
    );

    const title = `KILLED: wf-checkout in ${ENV} was switched off by ${manager.name}`;
    for (const id of ['ding', 'feishu', 'wecom', 'teams', 'mail-production']) await settled(id, 1);
    expect(ding.accepted.map((m) => m.markdown.title)).toEqual([title]);
    expect(ding.accepted[0].markdown.text).toContain('- Reason: error rate 12 % after deploy 4812');
    expect(ding.accepted[0].markdown.text).toContain(`[Open the flag in the dashboard](${PUBLIC_URL}/#/flags?q=wf-checkout&env=${ENV})`);
    expect(feishu.accepted.map((m) => m.card.header.title.content)).toEqual([title]);
    expect(wecom.accepted[0].markdown.content).toContain(title);
    expect(teams.accepted[0].attachments[0].content.body[0].inlines[0].text).toBe(title);
    const [message] = await smtp.waitFor(1);
    expect(message!.to).toEqual(['oncall@example.com', 'release-team@example.com']);
    expect(message!.mail.subject).toBe(title);
    expect(message!.mail.text).toContain('Reason: error rate 12 % after deploy 4812');

    // Each delivery recorded with its vendor's status: DingTalk 200, Teams 202, the SMTP server 250.
    const statuses = async (id: string) => (await deliveries(id)).map((d) => [d.status, d.event.type, d.attempts.map((a: any) => a.status)]);
    expect(await statuses('ding')).toEqual([['delivered', 'flag.killed', [200]]]);
    expect(await statuses('teams')).toEqual([['delivered', 'flag.killed', [202]]]);
    expect(await statuses('mail-production')).toEqual([['delivered', 'flag.killed', [250]]]);
    expect(await deliveries('mail-staging')).toEqual([]);
    expect(ding.refused).toEqual([]);
    expect(feishu.refused).toEqual([]);
  });

  it('POST …/test: admins only; answers the outcome; the attempt is listed with the deliveries, with no secret or key in them', async () => {
    const test = (id: string, token?: string, status = 200) => expectStatus(t, status, 'POST', `/api/admin/webhooks/${id}/test`, undefined, token);
    for (const person of [manager, editor, viewer]) await test('ding', person.secret, 403);
    await test('no-such-hook', admin.secret, 404);

    const ok = await test('ding');
    expect(ok).toEqual({ delivered: true, status: 200, ms: expect.any(Number), eventId: expect.stringMatching(/^evt_test_[0-9a-f]{24}$/) });
    expect(ding.accepted.at(-1).markdown.title).toBe('Test message: webhook ding reaches this channel');
    expect(await test('teams')).toMatchObject({ delivered: true, status: 202 });
    expect(await test('mail-production')).toMatchObject({ delivered: true, status: 250 });
    expect((await smtp.waitFor(2)).at(-1)!.mail.subject).toBe('Test message: webhook mail-production reaches this channel');

    // A robot that no longer takes our signature: the test says so, in DingTalk's words, and no retry follows.
    await put('ding-wrong', { format: 'dingtalk', url: ding.url, secret: `${DING_SECRET.slice(0, -4)}0000` });
    const wrong = await test('ding-wrong');
    expect(wrong).toMatchObject({
      delivered: false,
      status: 200,
      error: 'DingTalk answered code 310000: sign not match',
      gaveUp: 'refused: DingTalk answered code 310000: sign not match',
    });

    const listed = await deliveries('ding', viewer.secret);
    expect(listed[0]).toMatchObject({ status: 'delivered', event: { type: 'webhook.test', id: ok.eventId, webhook: { id: 'ding' } } });
    expect(listed[0].attempts).toEqual([expect.objectContaining({ attempt: 1, status: 200 })]);
    const all = JSON.stringify(await Promise.all(['ding', 'ding-wrong', 'feishu', 'wecom', 'teams', 'mail-production'].map((id) => deliveries(id))));
    for (const secret of [DING_SECRET, FEISHU_SECRET, WECOM_KEY, TEAMS_SIG, 'ding-token-0123456789abcdef', SMTP_LOGIN.password])
      expect(all).not.toContain(secret);
  });

  it('events other parts publish reach the webhooks that want them: alerts acted on, drills, scheduled starts, promotions', async () => {
    const json = await startReceiver();
    others.push(json);
    const { secret } = await put('planning', {
      url: `${json.url}/plans`,
      events: ['alert.acted', 'rollout.scheduled', 'pipeline.promoted'],
      environments: [ENV],
    });
    await put('drills', { format: 'wecom', url: wecom.url, events: ['flag.drilled'] });
    const before = wecom.accepted.length;
    const at = new Date().toISOString();
    const ref = { id: 'r-77', flag: 'supplier', environment: ENV, policy: 'standard', state: 'pending' as const, stepIndex: 0, percentage: 0 };
    t.controller.publish(
      alertActedEvent(
        {
          target: { environment: ENV, flags: ['supplier'], rollout: { id: 'r-77', policy: 'standard', state: 'paused', percentage: 10 } },
          details: { source: 'alertmanager', alertName: 'HighLoad', fingerprint: 'fp-1', action: 'pause', status: 'firing', summary: 'load > 80 %' },
        },
        at,
      ),
    );
    // Another environment's alert: the planning webhook follows production only.
    t.controller.publish(
      alertActedEvent(
        {
          target: { environment: 'staging', flags: ['supplier'] },
          details: { source: 'generic', alertName: 'P0', fingerprint: 'fp-2', action: 'kill', status: 'firing', summary: 'P0 bug' },
        },
        at,
      ),
    );
    t.controller.publish(rolloutScheduledEvent(ref, { startAt: '2030-01-18T10:00:00+08:00', by: 'Erin' }, at));
    t.controller.publish(pipelinePromotedEvent({ pipeline: 'supplier-path', fromEnvironment: 'staging', toEnvironment: ENV, rollout: ref }, at));
    t.controller.publish(
      flagDrilledEvent(
        { flag: 'supplier', environment: ENV, details: { by: 'Rita', instances: 4, confirmed: 4, ms: { p50: 30, p99: 80, max: 81 }, missing: 0 } },
        at,
      ),
    );

    await json.waitFor((got) => got.length >= 3, 'three published events');
    const events = json.received.map((r) => {
      expect(verifyWebhookSignature({ secret, body: r.body, header: r.headers['x-rollout-signature'] as string })).toMatchObject({ ok: true });
      return JSON.parse(r.body);
    });
    expect(events.map((e) => e.type).sort()).toEqual(['alert.acted', 'pipeline.promoted', 'rollout.scheduled']);
    const alert = events.find((e) => e.type === 'alert.acted');
    expect(alert).toMatchObject({
      target: { environment: ENV, flags: ['supplier'] },
      details: { alertName: 'HighLoad', action: 'pause' },
      links: { dashboard: `${PUBLIC_URL}/#/flags?q=supplier&env=${ENV}`, rollout: `${PUBLIC_URL}/#/rollouts/r-77` },
    });
    // The drills webhook hears the drill only (the unfiltered "wecom" webhook hears the rest as well).
    const drills = await pollUntil(
      () => deliveries('drills'),
      (jobs) => jobs.length === 1 && jobs[0].status === 'delivered',
      'the drill delivered',
    );
    expect(drills[0].event.type).toBe('flag.drilled');
    const contents = wecom.accepted.slice(before).map((m) => m.markdown.content as string);
    expect(contents.some((c) => c.includes('Kill drill of supplier in production: all 4 SDK instances confirmed within 81 ms'))).toBe(true);
  });
});

describe('e-mail webhooks without SMTP settings', () => {
  it('are refused when saved (422 email_not_configured), naming what to set', async () => {
    const store = await openStore({ redisUrl: inject('redisUrl'), prefix: uniquePrefix('no-smtp'), dataDir: '' });
    try {
      const service = new WebhookService(store, () => new Date(), { allowPrivateNetworks: false, emailConfigured: false });
      const put = service.put('mail', { format: 'email', to: ['oncall@example.com'] }, { type: 'token', id: 'a', name: 'Ada' } as never);
      await expect(put).rejects.toMatchObject({
        kind: 'refused',
        errorId: 'email_not_configured',
        message: expect.stringContaining('set SMTP_URL or SMTP_HOST, and SMTP_FROM'),
      });
    } finally {
      await store.close();
    }
  });
});
