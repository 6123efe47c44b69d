import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckResult, Rollout } from '../../src/rollouts/rollout-model.js';
import { startTestController, type TestController } from '../support/controller.js';
import { destroyAllSdks, startLiveSdk, waitForEvent, type SdkMode, type TrackedSdk } from './sdk-helpers.js';

/**
 * Live: a stock unleash-client evaluating a flag against a running controller. When a rollout's
 * step starts, its traffic counts from the moment that SDK has fetched the step (the controller
 * sees the SDK's polls, or pushes the step down its stream), not from a fixed 90 s after the step;
 * and the evaluations the SDK reports show up in the step's traffic check seconds later.
 */

const FLAG = 'window-flag';
const policy = {
  name: 'window-policy',
  steps: [10, 100],
  // A long minimum duration: the step stays put while the test watches its traffic.
  stepDefaults: { minDuration: '10m', minSamples: 0, maxDuration: '1h', approval: { required: 0 } },
  analysisInterval: '200ms',
  gates: [],
  rollback: [],
  traffic: { minExposures: 20, sampleRatio: { pValue: 0.001 } },
};

describe.each<[SdkMode, number]>([
  ['polling', 3_000],
  ['delta', 3_000],
  ['streaming', 60_000],
])('a stock SDK in %s mode (refreshing every %i ms)', (mode, refreshInterval) => {
  let t: TestController;
  let live: TrackedSdk;
  let evaluating: NodeJS.Timeout;

  beforeAll(async () => {
    t = await startTestController({ env: { ROLLOUT_TICK_MS: '50', STREAM_HEARTBEAT_MS: '500' } });
    const secret = await t.token({ kind: 'client', environment: 'production' });
    expect((await t.api('PUT', `/api/admin/flags/${FLAG}`, { environments: { production: { enabled: false, strategies: [] } } })).status).toBe(201);
    expect((await t.api('PUT', `/api/admin/policies/${policy.name}`, policy)).status).toBe(201);
    live = await startLiveSdk(t, secret, mode, { refreshInterval, disableMetrics: false, metricsInterval: 1_000 });
    // The application: a user a millisecond or so, each evaluating the flag.
    let n = 0;
    evaluating = setInterval(() => {
      for (let i = 0; i < 5; i++) live.sdk.isEnabled(FLAG, { userId: `user-${n++ % 5000}` });
    }, 5);
  });

  afterAll(async () => {
    clearInterval(evaluating);
    destroyAllSdks();
    await t?.stop();
  });

  it('counts the step’s traffic from when the SDK fetched it, and shows its evaluations within seconds, not after 90 s', async () => {
    // Start the step just after a poll, so the SDK holds the old state for a few seconds.
    if (mode !== 'streaming') await waitForEvent(live, 'unchanged', refreshInterval + 2_000);
    // The controller has recorded the SDK fetching the old state (fetches are written once a second).
    await new Promise((r) => setTimeout(r, 1_200));
    const fetched = new Promise<number>((resolve) => live.sdk.once('changed', () => resolve(Date.now())));
    const started = await t.api('POST', '/api/admin/rollouts', { flag: FLAG, environment: 'production', policy: policy.name });
    expect(started.status).toBe(201);
    const id = started.body.id as string;

    const reasons: string[] = [];
    const deadline = Date.now() + 30_000;
    let rollout: Rollout;
    let volume: CheckResult | undefined;
    for (;;) {
      rollout = (await t.api('GET', `/api/admin/rollouts/${id}`)).body;
      volume = rollout.gates.find((g) => g.metric === 'exposures');
      if (volume?.reason) reasons.push(volume.reason);
      if (volume?.verdict === 'pass') break;
      if (Date.now() > deadline) throw new Error(`the step's traffic never counted; last reasons: ${reasons.slice(-3).join(' | ')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const passedAt = Date.now();
    const fetchedAt = await fetched;
    const stepStart = Date.parse(rollout.stepStartedAt);
    const since = Date.parse(rollout.trafficSettledAt!);

    // Counting began once the SDK had fetched the step: not before, and not long after.
    expect(since).toBeGreaterThanOrEqual(Math.max(stepStart, fetchedAt - 50));
    expect(since - fetchedAt).toBeLessThan(5_000);
    if (mode !== 'streaming') {
      // The SDK held the old state for a while, and the check said what it waited for.
      expect(fetchedAt - stepStart).toBeGreaterThan(1_000);
      expect(reasons.some((r) => /counting starts once the SDKs have fetched the step: 0 of 1 SDK instances have/.test(r))).toBe(true);
    } else expect(since - stepStart).toBeLessThan(5_000);
    // The evaluations the SDK reports (every second) count within seconds of the fetch: well before 90 s.
    expect(passedAt - since).toBeLessThan(15_000);
    expect(volume.value).toBeGreaterThanOrEqual(20);
    // Never "0 times" while the application evaluates the flag.
    expect(reasons.filter((r) => /evaluated 0 times/.test(r))).toEqual([]);
    // A stock SDK reports no users: the share of evaluations is shown, not judged.
    expect(rollout.gates.find((g) => g.metric.startsWith('sample_ratio'))).toMatchObject({ informational: true, verdict: 'pass' });
  });
});
