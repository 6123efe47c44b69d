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

  it('switches on an off environment whose only strategy is the one it ramps, starting at the first step', async () => {
    await t.api('PUT', '/api/admin/flags/fresh', { environments: { production: { enabled: false, strategies: [{ name: 'flexibleRollout', parameters: { rollout: '0', groupId: 'fresh', stickiness: 'userId' }, constraints: [{ contextName: 'country', operator: 'IN', values: ['NO'] }] }] } } });
    const res = await t.api('POST', '/api/admin/rollouts', { flag: 'fresh', environment: 'production', policy: 'p' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ policy: 'p', state: 'running', stepIndex: 0, percentage: 1 });
    const env = (await t.api('GET', '/api/admin/flags/fresh')).body.environments.production;
    expect(env.enabled).toBe(true);
    expect(env.strategies).toHaveLength(1);
    expect(env.strategies[0]).toMatchObject({ parameters: { rollout: '1', groupId: 'fresh', stickiness: 'userId' }, constraints: [{ contextName: 'country' }] });
  });
});
