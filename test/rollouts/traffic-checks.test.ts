import { createRequire } from 'node:module';
import type * as SdkUtil from 'unleash-client/lib/strategy/util.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BottomK } from '../../src/metrics/user-sample.js';
import type { CheckResult, Rollout } from '../../src/rollouts/rollout-model.js';
import { sampleRatioTest } from '../../src/rollouts/statistics.js';
import { userSampleHash } from '../../src/rollouts/unit-bucket.js';
import type { TestController } from '../support/controller.js';
import { ENV, FAST_ENV, shiftedClock, startClockedController, waitForRollout, type Clock } from './scenario-helpers.js';

const require = createRequire(import.meta.url);
const { normalizedStrategyValue } = require('unleash-client/lib/strategy/util.js') as typeof SdkUtil;

/**
 * Traffic checks on real Redis, through the real routes: evaluations SDKs send to
 * /api/client/metrics, and users applications report with their outcomes to /api/metrics/outcomes
 * (as the SDK helper does: the smallest sample hashes of each cohort's users). A flag nobody
 * evaluates waits. A healthy release whose few treated users make most of the requests is not
 * held: the users are split as the step says, whatever the evaluations say. A broken assignment
 * (5 % of users treated at a 1 % step) is held with the reason. With evaluations only (stock SDKs),
 * the share is shown for information and never holds. The controller's clock is moved past the
 * step's minimum duration instead of waiting for it.
 */

const policy = {
  name: 'traffic-checked',
  steps: [1, 100],
  stepDefaults: { minDuration: '1m', minSamples: 0, maxDuration: '1h', approval: { required: 0 } },
  analysisInterval: '200ms',
  traffic: { minExposures: 100, sampleRatio: { pValue: 0.001 } },
};
const POPULATION = Array.from({ length: 20_000 }, (_, i) => `shopper-${i}`);

describe('traffic checks: users, not evaluations', () => {
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
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${t.url}${path}`, {
      method: 'POST',
      headers: { Authorization: client, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status, await res.text()).toBe(202);
  };
  const reportExposures = (flag: string, yes: number, no: number) =>
    post('/api/client/metrics', {
      appName: 'shop',
      instanceId: 'i-1',
      bucket: { start: new Date().toISOString(), stop: new Date().toISOString(), toggles: { [flag]: { yes, no } } },
    });
  /** Outcomes with each cohort's users as the SDK helper reports them: the 1,024 smallest sample hashes. */
  const reportUsers = async (flag: string, treated: (user: string) => boolean, requests: { treatment: number; control: number }, users = POPULATION) => {
    const samples = { treatment: new BottomK(), control: new BottomK() };
    for (const user of users) samples[treated(user) ? 'treatment' : 'control'].add(userSampleHash(user));
    await post('/api/metrics/outcomes', {
      appName: 'shop',
      records: (['treatment', 'control'] as const).map((cohort) => ({ flag, cohort, requests: requests[cohort], errors: 0, users: samples[cohort].values() })),
    });
  };
  /** Placed as the SDK places them: position (hash of groupId:userId, 1 to 100) at most the percentage. */
  const assignedAt = (flag: string, percentage: number) => (user: string) => normalizedStrategyValue(user, flag) <= percentage;
  const waitFor = (id: string, done: (r: Rollout) => boolean, label: string): Promise<Rollout> => waitForRollout(t, id, done, label, 15_000);
  const ratioIn = (gates: CheckResult[] | undefined) => gates!.find((g) => g.metric.startsWith('sample_ratio'))!;

  beforeAll(async () => {
    clock = shiftedClock();
    t = await startClockedController(clock, { ...FAST_ENV });
    expect((await t.api('PUT', `/api/admin/policies/${policy.name}`, policy)).status).toBe(201);
    client = await t.token({ kind: 'client', environment: ENV });
  });

  afterAll(async () => {
    await t?.stop();
  });

  it('waits for evaluations; holds a broken assignment; lets a healthy release with heavy users through, judged on users or not at all', async () => {
    const quiet = await start('traffic-quiet');
    const heavy = await start('traffic-heavy');
    const broken = await start('traffic-broken');
    const stock = await start('traffic-stock');
    // Past the step's minimum duration: what arrives now counts.
    clock.offsetMs += 3 * 60_000;

    // Healthy: users placed as the flag places them; a few of the ~200 treated users make 90 % of the requests.
    // Two instances of the application, each seeing most users: 8,000 of them reach both.
    await reportUsers('traffic-heavy', assignedAt('traffic-heavy', 1), { treatment: 4500, control: 500 }, POPULATION.slice(0, 14_000));
    await reportUsers('traffic-heavy', assignedAt('traffic-heavy', 1), { treatment: 4500, control: 500 }, POPULATION.slice(6_000));
    await reportExposures('traffic-heavy', 9000, 1000);
    // The share of evaluations is far off the step's 1 %: judged on evaluations, this healthy step would be held.
    expect(sampleRatioTest(9000, 1000, 0.01).pValue).toBeLessThan(1e-12);
    // Broken: 5 % of users get the feature at a 1 % step (a stale cache, another strategy).
    await reportUsers('traffic-broken', assignedAt('traffic-broken', 5), { treatment: 500, control: 9500 });
    await reportExposures('traffic-broken', 500, 9500);
    // Stock SDKs only: evaluations, and the same skew from heavy users.
    await reportExposures('traffic-stock', 5000, 5000);

    const waiting = await waitFor(quiet, (r) => r.stepVerdict.kind === 'waiting' && /evaluations/.test(r.stepVerdict.reason), 'the quiet flag waiting');
    expect(waiting.stepVerdict).toMatchObject({ reason: expect.stringMatching(/no evaluations reported since \d\d:\d\d:\d\d UTC yet, of the 100 needed/) });
    expect(waiting.stepVerdict.kind === 'waiting' && waiting.stepVerdict.reason).not.toMatch(/evaluated 0 times/);

    const held = await waitFor(broken, (r) => r.stepVerdict.kind === 'failing', 'the broken assignment held');
    expect(held).toMatchObject({ state: 'running', percentage: 1 });
    expect(held.stepVerdict).toMatchObject({
      reason: expect.stringMatching(/sample ratio mismatch: 5(\.\d+)?% of about (19|20|21),\d{3} users got the feature, the step serves 1%/),
    });
    expect(ratioIn(held.gates)).toMatchObject({ metric: 'sample_ratio_users', verdict: 'fail', test: { method: 'share-of-users', pValue: 0 } });
    const heldView = await t.api('GET', `/api/admin/rollouts/${broken}`);
    expect(heldView.body.status.traffic).toMatchObject({
      kind: 'users',
      text: expect.stringMatching(/^sample ratio judged on (19|20|21),\d{3} distinct users since /),
    });
    expect(heldView.body.trafficSettledAt).toEqual(expect.any(String));

    const advanced = await waitFor(heavy, (r) => r.percentage === 100, 'the healthy release with heavy users at 100%');
    const judged = ratioIn(advanced.history.find((h) => h.percentage === 100)!.gates);
    expect(judged).toMatchObject({ metric: 'sample_ratio_users', verdict: 'pass', test: { method: 'share-of-users' } });
    expect(judged.value!).toBeGreaterThan(0.007);
    expect(judged.value!).toBeLessThan(0.013);
    // Users seen by both instances count once: about 20,000 users (±3 % sampling error), not 28,000.
    expect(judged.samples).toBeGreaterThan(18_000);
    expect(judged.samples).toBeLessThan(22_000);

    const throughStock = await waitFor(stock, (r) => r.percentage === 100, 'the stock-SDK flag at 100%');
    const shown = ratioIn(throughStock.history.find((h) => h.percentage === 100)!.gates);
    expect(shown).toMatchObject({ metric: 'sample_ratio', verdict: 'pass', informational: true, value: 0.5, test: { method: 'share-of-evaluations' } });
    expect(shown.reason).toMatch(/^not judged: no application reported users/);
  });
});
