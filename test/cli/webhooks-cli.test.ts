import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emptyDir, startTestController, type TestController } from '../support/controller.js';
import { adminPerson, type AdminPerson } from '../rollouts/scenario-helpers.js';
import { FAST_WEBHOOKS } from '../notifications/sample-events.js';
import { dingtalkReceiver, type VendorReceiver } from '../notifications/vendor-receivers.js';
import { ensureCliBuilt, runCli, type CliResult } from './cli-process.js';

/**
 * rolloutctl webhooks list|set|test|deliveries: the built binary against a running controller, with
 * a local DingTalk stand-in that checks every signature. URLs with keys and secrets go in through
 * environment variables and never come out in anything printed.
 */

const TOKEN = 'ding-token-0123456789abcdef';
const SECRET = 'SEC7f3a9c2b1d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8';

describe('rolloutctl webhooks (the built binary) against a running controller', () => {
  let t: TestController;
  let ding: VendorReceiver;
  let viewer: AdminPerson;
  const secrets: string[] = [TOKEN, SECRET];

  async function cli(args: string[], token: string, env: Record<string, string> = {}): Promise<CliResult> {
    const result = await runCli(args, { CONTROLLER_URL: t.url, ROLLOUT_TOKEN: token, ...env });
    for (const secret of [...secrets, token]) {
      expect(result.stdout).not.toContain(secret);
      expect(result.stderr).not.toContain(secret);
    }
    return result;
  }

  beforeAll(async () => {
    ensureCliBuilt();
    ding = await dingtalkReceiver(TOKEN, SECRET);
    t = await startTestController({ env: { ...FAST_WEBHOOKS, POLICIES_DIR: emptyDir() } });
    viewer = await adminPerson(t, 'viewer', 'Vic Viewer');
  });
  afterAll(async () => {
    await t?.stop();
    await ding?.close();
  });

  it('--help works on each webhooks command, exit 0', async () => {
    for (const command of ['webhooks', 'webhooks list', 'webhooks set', 'webhooks test', 'webhooks deliveries']) {
      const res = await runCli([...command.split(' '), '--help']);
      expect(res.code, command).toBe(0);
      expect(res.stdout, command).toContain(`Usage: rolloutctl ${command}`);
    }
    expect((await runCli(['webhooks', 'set', '--help'])).stdout).toContain('--webhook-url-env <variable>');
  });

  it('set: the URL and the robot’s secret from environment variables; list shows the URL masked and no secret', async () => {
    const env = { DING_URL: ding.url, DING_SECRET: SECRET };
    const set = await cli(
      [
        'webhooks',
        'set',
        'ding',
        '--format',
        'dingtalk',
        '--webhook-url-env',
        'DING_URL',
        '--secret-env',
        'DING_SECRET',
        '--env',
        'production,staging',
        '--events',
        'flag.killed',
      ],
      t.adminToken,
      env,
    );
    expect(set.code).toBe(0);
    expect(set.stderr).toContain(`Saved webhook ding (dingtalk, to ${new URL(ding.url).origin}/robot/send?access_token=ding…)`);
    expect(set.stdout).toBe('');

    // json: a generated secret, alone on stdout, once.
    const json = await cli(['webhooks', 'set', 'ops', '--format', 'json', '--webhook-url', 'http://127.0.0.1:9/hook'], t.adminToken);
    expect(json.code).toBe(0);
    expect(json.stdout).toMatch(/^whsec_[A-Za-z0-9_-]{43}\n$/);
    secrets.push(json.stdout.trim());

    const listed = await cli(['webhooks', 'list'], viewer.secret);
    expect(listed.code).toBe(0);
    const [header, ...rows] = listed.stdout.trim().split('\n');
    expect(header).toMatch(/^ID\s+FORMAT\s+EVENTS\s+ENVIRONMENTS\s+POLICIES\s+SECRET\s+TO$/);
    expect(rows.find((r) => r.startsWith('ding '))).toMatch(
      /^ding\s+dingtalk\s+flag\.killed\s+production,staging\s+all\s+SEC7f3a9c2…\s+http:\/\/127\.0\.0\.1:\d+\/…$/,
    );
    const asAdmin = await cli(['webhooks', 'list'], t.adminToken);
    expect(asAdmin.stdout).toContain(`${new URL(ding.url).origin}/robot/send?access_token=ding…`);
    const asJson = JSON.parse((await cli(['--json', 'webhooks', 'list'], viewer.secret)).stdout);
    expect(asJson.map((w: any) => [w.id, w.format])).toEqual([
      ['ding', 'dingtalk'],
      ['ops', 'json'],
    ]);

    const missing = await cli(['webhooks', 'set', 'ding', '--format', 'dingtalk', '--secret-env', 'NOT_SET'], t.adminToken);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('error: --secret-env: the environment variable NOT_SET is not set');
    const refused = await cli(['webhooks', 'set', 'mail', '--format', 'email', '--to', 'oncall@example.com'], t.adminToken);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/email needs the controller’s SMTP settings: set SMTP_URL or SMTP_HOST, and SMTP_FROM \(HTTP 422 email_not_configured\)/);
  });

  it('test: exit 0 with the status and time when delivered; exit 2 with the robot’s own words when not', async () => {
    const ok = await cli(['webhooks', 'test', 'ding'], t.adminToken);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^Delivered to ding: status 200, \d+ ms\.\n$/);
    expect(ding.accepted.at(-1).markdown.title).toBe('Test message: webhook ding reaches this channel');

    const wrongSecret = `${SECRET.slice(0, -4)}0000`;
    secrets.push(wrongSecret);
    expect(
      (
        await cli(['webhooks', 'set', 'ding-wrong', '--format', 'dingtalk', '--webhook-url-env', 'U', '--secret-env', 'S'], t.adminToken, {
          U: ding.url,
          S: wrongSecret,
        })
      ).code,
    ).toBe(0);
    const failed = await cli(['webhooks', 'test', 'ding-wrong'], t.adminToken);
    expect(failed.code).toBe(2);
    expect(failed.stderr).toMatch(/^error: not delivered to ding-wrong: status 200, \d+ ms: DingTalk answered code 310000: sign not match\n$/);
    const failedJson = await cli(['--json', 'webhooks', 'test', 'ding-wrong'], t.adminToken);
    expect(failedJson.code).toBe(2);
    expect(JSON.parse(failedJson.stdout)).toMatchObject({ delivered: false, status: 200, error: 'DingTalk answered code 310000: sign not match' });

    expect((await cli(['webhooks', 'test', 'ding'], viewer.secret)).code).toBe(4);
    expect((await cli(['webhooks', 'set', 'ding', '--format', 'wecom', '--webhook-url', 'http://127.0.0.1:9/x'], viewer.secret)).code).toBe(4);
    expect((await cli(['webhooks', 'test', 'nope'], t.adminToken)).code).toBe(2);
  });

  it('deliveries: newest first, with the outcome, the attempts and the last status or error', async () => {
    const res = await cli(['webhooks', 'deliveries', 'ding-wrong'], viewer.secret);
    expect(res.code).toBe(0);
    const [header, ...rows] = res.stdout.trim().split('\n');
    expect(header).toMatch(/^WHEN\s+OUTCOME\s+ATTEMPTS\s+LAST\s+EVENT$/);
    expect(rows).toHaveLength(2);
    for (const row of rows)
      expect(row).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+failed\s+1\s+200 DingTalk answered code 310000: sign not match\s+webhook\.test$/);
    const one = JSON.parse((await cli(['--json', 'webhooks', 'deliveries', 'ding', '--limit', '1'], viewer.secret)).stdout);
    expect(one).toHaveLength(1);
    expect(one[0]).toMatchObject({ status: 'delivered', event: { type: 'webhook.test' } });
    expect((await cli(['webhooks', 'deliveries', 'ops'], viewer.secret)).stdout).toBe('No deliveries for ops yet.\n');
  });
});
