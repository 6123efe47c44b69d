import { describe, expect, it } from 'vitest';
import { latencyShareAbove } from '../../src/metrics/outcome-math.js';
import { alwaysValidRadius, chiSquaredOneDofPValue, marginDifferenceBounds, rateBounds, sampleRatioTest } from '../../src/rollouts/statistics.js';
import { seededRandom } from '../../src/simulation/random.js';

/** How often, over `runs` streams of a healthy cohort, a look every `every` requests up to `n` ever calls it worse. */
function everRejects(test: (events: number, trials: number) => boolean, p: number, n: number, every: number, runs: number): number {
  const random = seededRandom(42);
  let rejected = 0;
  for (let run = 0; run < runs; run++) {
    let events = 0;
    for (let trials = every; trials <= n; trials += every) {
      events += random.binomial(every, p);
      if (test(events, trials)) {
        rejected++;
        break;
      }
    }
  }
  return rejected / runs;
}

describe('always-valid bounds', () => {
  it('narrow as the sample grows, and always contain the estimate', () => {
    const small = rateBounds(5, 500, 0.95, 0.01);
    const large = rateBounds(100, 10_000, 0.95, 0.01);
    expect(small.lower).toBeLessThanOrEqual(small.estimate);
    expect(small.upper).toBeGreaterThanOrEqual(small.estimate);
    expect(large.upper - large.lower).toBeLessThan(small.upper - small.lower);
    expect(alwaysValidRadius(1e-6, 0.01, 0.01)).toBeGreaterThan(alwaysValidRadius(1e-6, 0.01, 0.05));
  });

  it('stay valid however often they are looked at: a healthy 1 % rate is called above 1 % in under 5 % of streams, where a z-test at every look does so far more often', () => {
    const p = 0.01;
    // 400 looks (one every 100 requests up to 40 000): the controller looks every interval.
    const sequential = everRejects((x, n) => rateBounds(x, n, 0.95, p).lower > p, p, 40_000, 100, 400);
    const naive = everRejects((x, n) => (x / n - p) / Math.sqrt((p * (1 - p)) / n) > 1.645, p, 40_000, 100, 400);
    expect(sequential).toBeLessThanOrEqual(0.05);
    expect(naive).toBeGreaterThan(0.2);
  });

  it('the control comparison keeps its promise under repeated looks, and still finds a doubling', () => {
    const random = seededRandom(7);
    const looks = (pt: number, runs: number) => {
      let worse = 0;
      for (let run = 0; run < runs; run++) {
        const t = { events: 0, trials: 0 };
        const c = { events: 0, trials: 0 };
        for (let look = 0; look < 200; look++) {
          t.trials += 200;
          c.trials += 2000;
          t.events += random.binomial(200, pt);
          c.events += random.binomial(2000, 0.005);
          if (marginDifferenceBounds(t, c, 0.2, 0.95).lower > 0) {
            worse++;
            break;
          }
        }
      }
      return worse / runs;
    };
    // Treatment exactly at control x 1.2, the edge of what is allowed: rarely called worse.
    expect(looks(0.006, 300)).toBeLessThanOrEqual(0.05);
    // Treatment at twice control: called worse in nearly every stream.
    expect(looks(0.01, 100)).toBeGreaterThan(0.95);
  });
});

describe('sample ratio', () => {
  it('computes Pearson χ² with its p-value (1 degree of freedom)', () => {
    expect(chiSquaredOneDofPValue(3.841)).toBeCloseTo(0.05, 3);
    expect(chiSquaredOneDofPValue(10.828)).toBeCloseTo(0.001, 4);
    const ok = sampleRatioTest(105, 9895, 0.01);
    expect(ok.chiSquared).toBeCloseTo(0.2525, 4);
    expect(ok.pValue).toBeCloseTo(0.615, 3);
    const mismatch = sampleRatioTest(500, 9500, 0.01);
    expect(mismatch.observedShare).toBe(0.05);
    expect(mismatch.pValue).toBeLessThan(1e-12);
  });

  it('treats any evaluation on the wrong side of 0 % or 100 % as a mismatch', () => {
    expect(sampleRatioTest(0, 100, 0).pValue).toBe(1);
    expect(sampleRatioTest(1, 100, 0).pValue).toBe(0);
    expect(sampleRatioTest(100, 0, 1).pValue).toBe(1);
    expect(sampleRatioTest(99, 1, 1).pValue).toBe(0);
  });
});

describe('latency share above a limit', () => {
  const c = (latencyBuckets: Record<string, number>) => ({ requests: 0, errors: 0, latencyBuckets, latencySumMs: 0 });
  it('interpolates inside the bucket holding the limit and counts +Inf as slower', () => {
    expect(latencyShareAbove(c({ '100': 90, '500': 0, '1000': 10 }), 500)).toBeCloseTo(0.1, 10);
    expect(latencyShareAbove(c({ '100': 50, '200': 50 }), 150)).toBeCloseTo(0.25, 10);
    expect(latencyShareAbove(c({ '100': 99, '+Inf': 1 }), 5000)).toBeCloseTo(0.01, 10);
    expect(latencyShareAbove(c({}), 100)).toBe(0);
  });
});
