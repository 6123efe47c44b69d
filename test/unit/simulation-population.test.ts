import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FileError } from '../../src/files/file-error.js';
import { parsePolicyFile } from '../../src/policies/policy-service.js';
import type { Rollout } from '../../src/rollouts/rollout-model.js';
import { betaAround, binomialDraw, poissonDraw } from '../../src/simulation/distributions.js';
import { assignmentBucket, inTreatment, UNIT_BUCKETS } from '../../src/simulation/hashing.js';
import { requestLevelJudge, type Arm } from '../../src/simulation/judges.js';
import { NAIVE_POLICY } from '../../src/simulation/naive-policy.js';
import { bucketOf } from '../../src/rollouts/unit-bucket.js';
import { assignUsers, dailyFactor, drawPopulation, topShare } from '../../src/simulation/population.js';
import { seededRandom } from '../../src/simulation/random.js';
import { runTrafficScenario } from '../../src/simulation/run-traffic.js';
import { bucketTotals, realTraffic } from '../../src/simulation/traffic.js';
import { parseScenarioFile, readScenarioFile, trafficScenarioSchema, type TrafficScenario } from '../../src/simulation/traffic-scenario.js';

/** The real-traffic model (src/simulation/population.ts, traffic.ts): its users, their assignment, and the traffic it draws. */
const scenario = (fields: Record<string, unknown>): TrafficScenario => trafficScenarioSchema.parse({ name: 's', ratePerSecond: 50, ...fields });
const population = (s: TrafficScenario, seed = 1) => drawPopulation(s, seededRandom(seed));
const at = (percentage: number, stepStartedAt = 'step') => ({ percentage, stepStartedAt }) as Rollout;
const rate = (c: { requests: number; errors: number }) => c.errors / c.requests;

describe('draws', () => {
  it('the per-group Poisson and binomial draws have the right means', () => {
    const random = seededRandom(17);
    const n = 20_000;
    const mean = (draw: () => number) => {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += draw();
      return sum / n;
    };
    expect(mean(() => poissonDraw(random, 3))).toBeCloseTo(3, 1);
    expect(mean(() => poissonDraw(random, 40))).toBeCloseTo(40, 0);
    expect(mean(() => binomialDraw(random, 30, 0.02))).toBeCloseTo(0.6, 1);
    expect(mean(() => binomialDraw(random, 500, 0.01))).toBeCloseTo(5, 0);
    expect(mean(() => betaAround(random, 0.005, 20))).toBeCloseTo(0.005, 3);
  });
});

describe('simulated population', () => {
  it('has heavy-tailed request rates adding up to the service rate', () => {
    const moderate = population(scenario({ sigma: 1 }));
    const heavy = population(scenario({ sigma: 2 }));
    const pareto = population(scenario({ rateDistribution: 'pareto', paretoAlpha: 1.2 }));
    expect(moderate.rate.reduce((a, b) => a + b, 0)).toBeCloseTo(50, 6);
    expect(topShare(moderate, 0.01)).toBeGreaterThan(0.06);
    expect(topShare(moderate, 0.01)).toBeLessThan(0.13);
    expect(topShare(heavy, 0.01)).toBeGreaterThan(0.3);
    expect(topShare(pareto, 0.01)).toBeGreaterThan(0.2);
  });

  it('has error propensities whose request-weighted mean is the error rate, bunched in a few users', () => {
    const p = population(scenario({ errorRate: 0.005, errorConcentration: 20 }));
    let weighted = 0;
    p.rate.forEach((r, i) => {
      weighted += r * p.propensity[i]!;
    });
    expect(weighted / 50).toBeCloseTo(0.005, 5);
    const sorted = [...p.propensity].sort((a, b) => b - a);
    const top = sorted.slice(0, p.size / 10).reduce((a, b) => a + b, 0) / sorted.reduce((a, b) => a + b, 0);
    expect(top).toBeGreaterThan(0.5); // a tenth of the users carry most of the propensity
  });

  it('adds bots at their rate factor, on top of the users', () => {
    const p = population(scenario({ users: 1000, bots: [{ rateFactor: 100, errorRate: 0.02, count: 2 }] }));
    expect(p.size).toBe(1002);
    expect(p.ids.at(-1)).toBe('bot-1');
    expect(p.rate[1001]).toBeCloseTo(100 * (50 / 1000), 9);
    expect(p.propensity[1001]).toBe(0.02);
  });

  it('assigns users as the SDK does: sticky, monotone in the percentage, matching flexibleRollout', () => {
    const require = createRequire(import.meta.url);
    const Strategy = require('unleash-client/lib/strategy/flexible-rollout-strategy.js').default;
    const sdk = new Strategy();
    const p = population(scenario({ users: 2000 }));
    const buckets = assignUsers(p, 'checkout-v2');
    for (const percentage of [0, 1, 10, 33, 50, 100]) {
      p.ids.forEach((id, i) => {
        const ours = inTreatment(buckets[i]!, percentage);
        expect(ours).toBe(sdk.isEnabled({ rollout: String(percentage), stickiness: 'default', groupId: 'checkout-v2' }, { userId: id }));
        expect(buckets[i]).toBe(assignmentBucket(id, 'checkout-v2'));
      });
    }
    let previous = new Set<number>();
    for (const percentage of [1, 5, 10, 50, 100]) {
      const treated = new Set(p.ids.map((_, i) => i).filter((i) => inTreatment(buckets[i]!, percentage)));
      for (const i of previous) expect(treated.has(i)).toBe(true);
      expect(treated.size / p.size).toBeGreaterThan(percentage / 100 - 0.02);
      expect(treated.size / p.size).toBeLessThan(percentage / 100 + 0.02);
      previous = treated;
    }
    // Another flag (groupId) assigns afresh.
    const other = assignUsers(p, 'search-v3');
    expect(other.filter((b, i) => b < 10 !== buckets[i]! < 10).length).toBeGreaterThan(100);
  });

  it('puts a stable share of users in a segment, the same for every flag and draw', () => {
    const s = scenario({ segments: [{ name: 'legacy-app', fraction: 0.1 }], regression: { segment: 'legacy-app', errorFactor: 2 } });
    const a = population(s, 1);
    const b = population(s, 2);
    const members = a.segments.get('legacy-app')!;
    const share = members.reduce((n, m) => n + m, 0) / a.size;
    expect(share).toBeGreaterThan(0.09);
    expect(share).toBeLessThan(0.11);
    expect([...b.segments.get('legacy-app')!]).toEqual([...members]);
    expect([...a.inScope]).toEqual([...members]);
    // A user's unit bucket is the controller's for that flag: the same hash as the assignment, modulo 64.
    const units = assignUsers(a, 'checkout-v2').units;
    a.ids.forEach((id, i) => expect(units[i]).toBe(bucketOf(id, 'checkout-v2')));
    expect(Math.max(...units)).toBe(UNIT_BUCKETS - 1);
  });
});

describe('simulated traffic', () => {
  it('reports per-bucket counts that add up to the totals, evaluations and distinct users per cohort', () => {
    const s = scenario({});
    const p = population(s);
    const source = realTraffic(s, p, assignUsers(p, 'f'), seededRandom(3), 0, 30_000);
    let m = source.measure(30_000, at(10));
    for (let i = 2; i <= 20; i++) m = source.measure(i * 30_000, at(10));
    const sums = bucketTotals(m.step)!;
    expect(sums.treatment.requests).toBe(m.step.totals.treatment.requests);
    expect(sums.control.errors).toBe(m.step.totals.control.errors);
    expect(m.step.buckets!.treatment.requests).toHaveLength(UNIT_BUCKETS);
    expect(m.step.exposures).toEqual({ on: m.step.totals.treatment.requests, off: m.step.totals.control.requests });
    const share = m.step.totals.treatment.requests / (m.step.totals.treatment.requests + m.step.totals.control.requests);
    expect(share).toBeGreaterThan(0.05);
    expect(share).toBeLessThan(0.15);
    // Ten minutes of 2.5 requests an hour each on average: far fewer users than requests, more than in one interval.
    expect(m.step.users!.on).toBeLessThan(m.step.totals.treatment.requests);
    expect(m.step.users!.on).toBeGreaterThan(m.recent.users!.on);
    expect(m.step.users!.on + m.step.users!.off).toBeLessThan(s.users);
    // A new step starts its counts afresh.
    const next = source.measure(21 * 30_000, at(50, 'next'));
    expect(next.step.totals.treatment.requests).toBe(next.recent.totals.treatment.requests);
  });

  it('spreads a heavy user’s traffic over their unit bucket only, interval after interval', () => {
    const spread = (sigma: number) => {
      const s = scenario({ sigma });
      const p = population(s);
      const source = realTraffic(s, p, assignUsers(p, 'f'), seededRandom(5), 0, 30_000);
      let m = source.measure(30_000, at(100));
      for (let i = 2; i <= 60; i++) m = source.measure(i * 30_000, at(100));
      const r = m.step.buckets!.treatment.requests;
      const mean = r.reduce((a, b) => a + b, 0) / r.length;
      return Math.sqrt(r.reduce((a, b) => a + (b - mean) ** 2, 0) / r.length) / mean;
    };
    expect(spread(2.5)).toBeGreaterThan(3 * spread(0));
  });

  it('follows the daily cycle', () => {
    const s = scenario({ dailyCycle: { amplitude: 0.6, peakHour: 15 } });
    expect(dailyFactor(s, Date.UTC(2030, 0, 7, 15))).toBeCloseTo(1.6, 9);
    expect(dailyFactor(s, Date.UTC(2030, 0, 7, 3))).toBeCloseTo(0.4, 9);
    const p = population(s);
    const requestsAt = (hour: number) => {
      const t0 = Date.UTC(2030, 0, 7, hour);
      const source = realTraffic(s, p, assignUsers(p, 'f'), seededRandom(7), t0, 30_000);
      let total = 0;
      for (let i = 1; i <= 20; i++) {
        const m = source.measure(t0 + i * 30_000, at(50));
        total += m.recent.totals.treatment.requests + m.recent.totals.control.requests;
      }
      return total;
    };
    const ratio = requestsAt(15) / requestsAt(3);
    expect(ratio).toBeGreaterThan(3.5);
    expect(ratio).toBeLessThan(4.5);
  });

  it('an incident raises errors in both cohorts; a regression in treatment only, or in its segment only', () => {
    const measure = (fields: Record<string, unknown>, from: number, to: number) => {
      const s = scenario({ ratePerSecond: 500, ...fields });
      const p = population(s);
      const source = realTraffic(s, p, assignUsers(p, 'f'), seededRandom(9), 0, 30_000);
      let m = source.measure(from + 30_000, at(50));
      for (let t = from + 60_000; t <= to; t += 30_000) m = source.measure(t, at(50));
      return m.step;
    };
    const incident = { incidents: [{ start: '20m', duration: '20m', extraErrorRate: 0.05 }] };
    const during = measure(incident, 20 * 60_000, 40 * 60_000).totals;
    const after = measure(incident, 41 * 60_000, 60 * 60_000).totals;
    for (const c of [during.treatment, during.control]) expect(rate(c)).toBeGreaterThan(0.045);
    for (const c of [after.treatment, after.control]) expect(rate(c)).toBeLessThan(0.012);

    const regressed = measure({ regression: { errorFactor: 10 } }, 0, 20 * 60_000).totals;
    expect(rate(regressed.treatment)).toBeGreaterThan(4 * rate(regressed.control));

    const late = measure({ regression: { errorFactor: 10, after: '30m' } }, 0, 20 * 60_000).totals;
    expect(rate(late.treatment)).toBeLessThan(2 * rate(late.control));

    const segment = { segments: [{ name: 'legacy-app', fraction: 0.1 }], regression: { segment: 'legacy-app', extraErrorRate: 0.1 } };
    const s = scenario({ ratePerSecond: 500, ...segment });
    const p = population(s);
    const source = realTraffic(s, p, assignUsers(p, 'f'), seededRandom(11), 0, 30_000);
    let m = source.measure(30_000, at(50));
    for (let i = 2; i <= 40; i++) m = source.measure(i * 30_000, at(50));
    const extra = rate(m.step.totals.treatment) - rate(m.step.totals.control);
    // About a tenth of treatment's requests fail 10 % more: about one percentage point on the whole cohort.
    expect(extra).toBeGreaterThan(0.004);
    expect(extra).toBeLessThan(0.02);
  });
});

describe('scenario files', () => {
  it('name the path of every mistake', () => {
    const bad = [
      'scenarios:',
      '  - name: a',
      '    ratePerSecond: 5',
      '    segments: [{ name: legacy, fraction: 0.1 }]',
      '    regression: { segment: mobile, errorFactor: 2 }',
      '  - name: b',
      '    ratePerSecond: 5',
      '    incidents: [{ start: 10m, duration: 5 minutes, extraErrorRate: 0.05 }]',
      '    regression: {}',
      '    sigam: 1',
    ].join('\n');
    let error: unknown;
    try {
      parseScenarioFile('mine.yaml', bad);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(FileError);
    const lines = (error as FileError).lines();
    expect(lines).toContain('mine.yaml: scenarios[0].regression.segment: no segment named "mobile" (segments: legacy)');
    expect(lines.some((l) => l.startsWith('mine.yaml: scenarios[1].incidents[0].duration: '))).toBe(true);
    expect(lines).toContain('mine.yaml: scenarios[1].regression: set at least one of errorFactor, extraErrorRate, latencyFactor');
    expect(lines.some((l) => l.startsWith('mine.yaml: scenarios[1]: ') && l.includes('sigam'))).toBe(true);
  });

  it('the shipped real-traffic file has the issue’s scenarios', () => {
    const names = readScenarioFile('src/simulation/scenarios/real-traffic.yaml').map((s) => s.name);
    expect(names).toEqual([
      'healthy, 5 req/s',
      'healthy, 50 req/s',
      'healthy, 500 req/s',
      'heavy users',
      'a bot',
      'daily cycle',
      'shared incident',
      'errors ×2',
      'errors ×10',
      '10 % segment failing 10 %',
      'late regression',
      'latency ×2',
    ]);
  });
});

describe('real-traffic simulation', () => {
  const standard = parsePolicyFile('policies/standard.yaml', readFileSync('policies/standard.yaml', 'utf8')).policy;
  const arms: Arm[] = [
    { label: 'standard', policy: standard, judge: requestLevelJudge },
    { label: 'naive', policy: NAIVE_POLICY, judge: requestLevelJudge },
  ];
  const options = { approvalDelayMs: 5 * 60_000, horizonMs: 3 * 24 * 3600_000 };

  it('is deterministic for a seed, quick, and takes releases through the Go/No-Go at 0 %', () => {
    const s = scenario({ name: 'errors ×10', users: 5000, regression: { errorFactor: 10 } });
    const started = Date.now();
    const a = runTrafficScenario(s, arms, 3, 42, options);
    const b = runTrafficScenario(s, arms, 3, 42, options);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(a).toEqual(b);
    for (const f of a.figures) {
      expect(f.rollouts).toBe(3);
      expect(f.rolledBack).toBe(3);
      expect(f.stoppedAt).toEqual({ '1%': 3 }); // approved at 0 %, then caught at the first step
    }
    expect(a.population.topOnePercent).toBeGreaterThan(0.05);
  });
});
