import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestController, type TestController } from '../support/controller.js';

/**
 * POST /api/admin/rollouts?dryRun=true (and releases): every check and the pre-flight run as a start
 * would run them, the answer is the rollout that would start, and nothing is written.
 */
describe('starting a rollout as a dry run', () => {
  let t: TestController;
  let client: string;
  const state = async () => ({
    rollouts: (await t.api('GET', '/api/admin/rollouts')).body.rollouts.length,
    flag: (await t.api('GET', '/api/admin/flags/dry')).body,
    auditHead: (await t.api('GET', '/api/admin/audit/verify')).body.headSeq,
  });

  beforeAll(async () => {
    t = await startTestController();
    client = await t.token({ kind: 'client', environment: 'production' });
    await t.api('PUT', '/api/admin/policies/strict', { name: 'strict', steps: [10, 50, 100], gates: [{ metric: 'error_rate', cohort: 'control', max: 0.01 }] });
    for (const name of ['dry', 'dry-b'])
      await t.api('PUT', `/api/admin/flags/${name}`, {
        environments: {
          production: { enabled: true, strategies: [{ name: 'flexibleRollout', parameters: { rollout: '0', stickiness: 'default', groupId: name } }] },
        },
      });
  });
  afterAll(() => t?.stop());

  it('answers the rollout that would start, with its pre-flight, and writes nothing', async () => {
    const before = await state();
    const res = await t.api('POST', '/api/admin/rollouts?dryRun=true', { flag: 'dry', environment: 'production', policy: 'strict' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ dryRun: true, flag: 'dry', environment: 'production', policy: 'strict', state: 'awaiting_approval' });
    expect(res.body.preflight.steps.map((s: { percentage: number }) => s.percentage)).toEqual([10, 50, 100]);
    expect(await state()).toEqual(before);
    const release = await t.api('POST', '/api/admin/releases?dryRun=true', {
      name: 'dry-module',
      flags: ['dry', 'dry-b'],
      environment: 'production',
      policy: 'strict',
    });
    expect(release.status).toBe(200);
    expect(release.body).toMatchObject({ dryRun: true, name: 'dry-module', flags: ['dry', 'dry-b'] });
    expect(await state()).toEqual(before);
    // And the real start still works afterwards: the dry run claimed nothing.
    expect((await t.api('POST', '/api/admin/rollouts', { flag: 'dry', environment: 'production', policy: 'strict' })).status).toBe(201);
  });

  it('refuses what the start would refuse: an active rollout, a baseline above a gate, an unknown policy', async () => {
    const busy = await t.api('POST', '/api/admin/rollouts?dryRun=true', { flag: 'dry', environment: 'production', policy: 'strict' });
    expect(busy.status).toBe(409);
    expect(busy.body.message).toContain('already has an active rollout');
    await t.api('POST', '/api/metrics/outcomes', { appName: 'shop', records: [{ flag: 'dry-b', cohort: 'control', requests: 20_000, errors: 500 }] }, client);
    const noisy = await t.api('POST', '/api/admin/rollouts?dryRun=true', { flag: 'dry-b', environment: 'production', policy: 'strict' });
    expect(noisy.status).toBe(409);
    expect(noisy.body.error).toBe('baseline_above_gate');
    expect((await t.api('POST', '/api/admin/rollouts?dryRun=true', { flag: 'dry-b', environment: 'production', policy: 'nope' })).status).toBe(404);
    expect((await t.api('POST', '/api/admin/rollouts?dryRun=maybe', { flag: 'dry-b', environment: 'production', policy: 'strict' })).status).toBe(400);
  });
});
