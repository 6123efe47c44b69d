import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Rollout } from '../../src/rollouts/rollout-model.js';
import type { TestController } from '../support/controller.js';
import { ENV, FAST_ENV, shiftedClock, startClockedController, waitForRollout, type Clock } from './scenario-helpers.js';

/**
 * Traffic checks on real Redis: the exposure counts SDKs send to /api/client/metrics decide whether
 * a step may advance. A flag nobody evaluates waits; a flag whose evaluations got the feature far
 * more often than the step serves (a sample-ratio mismatch) is held with the reason; a matching
 * ratio lets the step advance. The controller's clock is moved past the settling time instead of
 * waiting for it.
 */

const policy = {
  name: 'traffic-checked',
  steps: [10, 100],
  stepDefaults: { minDuration: '1m', minSamples: 0, maxDuration: '1h', approval: { required: 0 } },
  analysisInterval: '200ms',
  traffic: { minExposures: 100, sampleRatio: { pValue: 0.001 } },
};

describe('traffic checks from SDK exposure metrics', () => {
  let clock: Clock;
  let t: TestController;
  let client: string;

  const start = async (flag: string): Promise<string> => {
    expect((await t.api('PUT', `/api/admin/flags/${flag}`, { name: flag, environments: { [ENV]: { enabled: false, strategies: [] } } })).status).toBeLessThan(
      300,
    );
    const started = await t.api('POST', '/api/admin/rollouts', { flag, environment: ENV, policy: policy.name });
    expect(started.status).toBe(201);
    return started.body.id;
  };
  const reportExposures = async (flag: string, yes: number, no: number) => {
    const res = await fetch(`${t.url}/api/client/metrics`, {
      method: 'POST',
      headers: { Authorization: client, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        appName: 'shop',
        instanceId: 'i-1',
        bucket: { start: new Date().toISOString(), stop: new Date().toISOString(), toggles: { [flag]: { yes, no } } },
      }),
    });
    expect(res.status).toBe(202);
  };
  const waitFor = (id: string, done: (r: Rollout) => boolean, label: string): Promise<Rollout> => waitForRollout(t, id, done, label, 15_000);

  beforeAll(async () => {
    clock = shiftedClock();
    t = await startClockedController(clock, { ...FAST_ENV });
    expect((await t.api('PUT', `/api/admin/policies/${policy.name}`, policy)).status).toBe(201);
    client = await t.token({ kind: 'client', environment: ENV });
  });

  afterAll(async () => {
    await t?.stop();
  });

  it('waits while the flag is not evaluated, holds on a sample-ratio mismatch, and advances once the ratio matches', async () => {
    const quiet = await start('traffic-quiet');
    const skewed = await start('traffic-skewed');
    const matching = await start('traffic-matching');
    // Past the step's minimum duration and the exposures' settling time: what arrives now counts.
    clock.offsetMs += 3 * 60_000;
    await reportExposures('traffic-skewed', 500, 500); // 50 % got it at a 10 % step
    await reportExposures('traffic-matching', 102, 898); // 10.2 %

    const waiting = await waitFor(
      quiet,
      (r) => r.stepVerdict.kind === 'waiting' && /evaluations/.test(r.stepVerdict.reason),
      'the quiet flag waiting for evaluations',
    );
    expect(waiting.stepVerdict).toMatchObject({ reason: expect.stringMatching(/the flag was evaluated 0 times of the 100 needed/) });
    expect(waiting.percentage).toBe(10);

    const held = await waitFor(skewed, (r) => r.stepVerdict.kind === 'failing', 'the skewed flag held');
    expect(held.stepVerdict).toMatchObject({
      reason: expect.stringMatching(/sample ratio mismatch: 50% of 1000 evaluations got the feature, the step serves 10%/),
    });
    expect(held.state).toBe('running');
    expect(held.percentage).toBe(10);
    const srm = held.gates.find((g) => g.metric === 'sample_ratio')!;
    expect(srm).toMatchObject({ verdict: 'fail', samples: 1000, value: 0.5, test: { method: 'chi-squared', pValue: 0 } });

    const advanced = await waitFor(matching, (r) => r.percentage === 100, 'the matching flag at 100%');
    const passed = advanced.history.find((h) => h.percentage === 100)!.gates!;
    expect(passed.find((g) => g.metric === 'sample_ratio')).toMatchObject({ verdict: 'pass', samples: 1000, value: 0.102 });
  });
});
