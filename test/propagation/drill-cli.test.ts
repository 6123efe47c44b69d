import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestController, type TestController } from '../support/controller.js';
import { ensureCliBuilt, runCli } from '../cli/cli-process.js';
import { eventually, startNamedSdk, type NamedSdk } from './drill-sdks.js';
import { startReceiver, type Receiver } from '../notifications/receiver.js';
import { FAST_WEBHOOKS } from '../notifications/sample-events.js';

/** rolloutctl drill and rolloutctl propagation, as a release manager runs them; a drill is told to webhooks (flag.drilled). */

describe('rolloutctl drill and propagation', () => {
  let t: TestController;
  let env: Record<string, string>;
  const sdks: NamedSdk[] = [];
  let receiver: Receiver;

  beforeAll(async () => {
    ensureCliBuilt();
    t = await startTestController({ env: FAST_WEBHOOKS });
    receiver = await startReceiver();
    expect((await t.api('PUT', '/api/admin/webhooks/drills', { url: `${receiver.url}/drills`, format: 'json', events: ['flag.drilled'] })).status).toBe(201);
    env = { CONTROLLER_URL: t.url, ROLLOUT_TOKEN: await t.token({ kind: 'admin', role: 'release-manager' }) };
    const on = { enabled: true, strategies: [{ name: 'default' }] };
    expect((await t.api('PUT', '/api/admin/flags/search-v2', { environments: { staging: on, production: on } })).status).toBe(201);
    for (const environment of ['staging', 'production']) {
      const secret = await t.token({ kind: 'client', environment });
      sdks.push(await startNamedSdk(t, secret, { appName: 'search', instanceId: `search-${environment}`, mode: 'streaming', refreshInterval: 60_000 }));
    }
    await eventually(
      async () => (await t.api('GET', '/api/admin/flags/search-v2/environments/staging/propagation')).body.instances,
      (n) => n === 1,
      'the SDK to be seen',
    );
  }, 60_000);

  afterAll(async () => {
    for (const s of sdks) s.sdk.destroy();
    await t?.stop();
    await receiver?.close();
  });

  it('prints who holds the flag’s state', async () => {
    const res = await runCli(['propagation', 'search-v2', '--env', 'staging'], env);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/^search-v2 in staging: 1 of 1 SDK instances hold its current state \(revision \d+\); the last got it /);
  });

  it('drills, prints the change board’s report, and exits 0 when verified', async () => {
    const res = await runCli(['drill', 'search-v2', '--env', 'staging', '--timeout', '10', '--reason', 'Q3 drill'], env);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain('# Rollback drill: search-v2 in staging');
    expect(res.stdout).toContain('Verified: all 1 connected SDK instances had the kill within');
    expect(res.stdout).toContain('| Reason | Q3 drill |');
    expect(res.stderr).toContain('drilling search-v2 in staging');
    const [told] = await receiver.waitFor((r) => r.length >= 1, 'the flag.drilled event');
    expect(JSON.parse(told!.body)).toMatchObject({
      type: 'flag.drilled',
      flag: { name: 'search-v2', environment: 'staging' },
      details: { reason: 'Q3 drill', instances: 1, confirmed: 1, missing: 0 },
    });
  });

  it('refuses production without --yes (exit 2), and drills it with --yes', async () => {
    const refused = await runCli(['drill', 'search-v2', '--env', 'production', '--timeout', '5'], env);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('production is a production environment');
    expect(refused.stderr).toContain('--yes');
    const confirmed = await runCli(['drill', 'search-v2', '--env', 'production', '--timeout', '5', '--yes', '--json'], env);
    expect(confirmed.code, confirmed.stderr).toBe(0);
    expect(JSON.parse(confirmed.stdout)).toMatchObject({ environment: 'production', instances: 1, confirmed: 1, restore: { restored: true } });
  });

  it('exits 5 when an instance never had the kill', async () => {
    const secret = await t.token({ kind: 'client', environment: 'staging' });
    const slow = await startNamedSdk(t, secret, { appName: 'batch', instanceId: 'batch-1', mode: 'polling', refreshInterval: 60_000 });
    sdks.push(slow);
    await eventually(
      async () => (await t.api('GET', '/api/admin/flags/search-v2/environments/staging/propagation')).body.instances,
      (n) => n === 2,
      'the second SDK to be seen',
    );
    slow.sdk.destroy();
    const res = await runCli(['drill', 'search-v2', '--env', 'staging', '--timeout', '2'], env);
    expect(res.code).toBe(5);
    expect(res.stdout).toContain('| batch | batch-1 |');
    expect(res.stderr).toContain('error: the drill was not verified: 1 of 2 SDK instances never had the kill');
  });
});
