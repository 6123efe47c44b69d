import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestController, type TestController } from '../support/controller.js';

describe('starting a rollout', () => {
  let t: TestController;
  beforeAll(async () => {
    t = await startTestController();
    await t.api('PUT', '/api/admin/policies/p', { name: 'p' });
  });
  afterAll(() => t.stop());

  it('refuses to switch on an environment whose other strategies would go live for everyone', async () => {
    await t.api('PUT', '/api/admin/flags/dark', { environments: { production: { enabled: false, strategies: [{ name: 'default' }] } } });
    const res = await t.api('POST', '/api/admin/rollouts', { flag: 'dark', environment: 'production', policy: 'p' });
    expect(res.status).toBe(409);
    expect(res.body.message).toContain('default');
    expect((await t.api('GET', '/api/admin/flags/dark')).body.environments.production.enabled).toBe(false);
  });

  it('switches on an off environment whose only strategy is the one it ramps, at 0 % until its Go/No-Go', async () => {
    await t.api('PUT', '/api/admin/flags/fresh', {
      environments: {
        production: {
          enabled: false,
          strategies: [
            {
              name: 'flexibleRollout',
              parameters: { rollout: '0', groupId: 'fresh', stickiness: 'userId' },
              constraints: [{ contextName: 'country', operator: 'IN', values: ['NO'] }],
            },
          ],
        },
      },
    });
    const res = await t.api('POST', '/api/admin/rollouts', { flag: 'fresh', environment: 'production', policy: 'p' });
    expect(res.status).toBe(201);
    // The policy's defaults ask a release manager to approve every step, the first one included.
    expect(res.body).toMatchObject({
      policy: 'p',
      state: 'awaiting_approval',
      stepIndex: 0,
      percentage: 0,
      status: { awaitingStep: 1, served: { percentage: 0 } },
    });
    const env = (await t.api('GET', '/api/admin/flags/fresh')).body.environments.production;
    expect(env.enabled).toBe(true);
    expect(env.strategies).toHaveLength(1);
    expect(env.strategies[0]).toMatchObject({
      parameters: { rollout: '0', groupId: 'fresh', stickiness: 'userId' },
      constraints: [{ contextName: 'country' }],
    });
  });

  it('a killed flag is refused unless the start restores it, with a reason the audit log keeps', async () => {
    await t.api('PUT', '/api/admin/flags/killed', { environments: { production: { enabled: true, strategies: [] } } });
    expect((await t.api('POST', '/api/admin/flags/killed/environments/production/kill', { reason: 'incident 42' })).status).toBe(200);
    const refused = await t.api('POST', '/api/admin/rollouts', { flag: 'killed', environment: 'production', policy: 'p' });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ error: 'flag_killed' });
    expect(refused.body.message).toContain('incident 42');
    expect((await t.api('POST', '/api/admin/rollouts', { flag: 'killed', environment: 'production', policy: 'p', restore: true })).status).toBe(400);
    const started = await t.api('POST', '/api/admin/rollouts', {
      flag: 'killed',
      environment: 'production',
      policy: 'p',
      restore: true,
      reason: 'fix deployed',
    });
    expect(started.status).toBe(201);
    expect(started.body.status.served).toMatchObject({ killed: false, percentage: 0 });
    expect((await t.api('GET', '/api/admin/flags/killed')).body.killSwitches.production).toBeUndefined();
    const audit = (await t.api('GET', '/api/admin/audit?limit=1000')).body;
    const restore = (audit.events ?? audit).find((e: { action: string }) => e.action === 'flag.restore');
    expect(restore.reason).toContain('fix deployed');
  });
});
