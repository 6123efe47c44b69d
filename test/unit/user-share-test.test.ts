import { describe, expect, it } from 'vitest';
import { BottomK, distinctUsers } from '../../src/metrics/user-sample.js';
import { sampleRatioTest } from '../../src/rollouts/statistics.js';
import { userSampleHash } from '../../src/rollouts/unit-bucket.js';
import { binomialTwoSided, unitShareTest } from '../../src/rollouts/user-share-test.js';
import { seededRandom } from '../../src/simulation/random.js';

/** Brute force, from the definition: P(X = k) by factorials in log space, both tails summed in full. */
function bruteTwoSided(x: number, n: number, p: number): number {
  const lf = (m: number) => {
    let s = 0;
    for (let i = 2; i <= m; i++) s += Math.log(i);
    return s;
  };
  const pmf = (k: number) => Math.exp(lf(n) - lf(k) - lf(n - k) + k * Math.log(p) + (n - k) * Math.log(1 - p));
  let lower = 0;
  let upper = 0;
  for (let k = 0; k <= n; k++) {
    if (k <= x) lower += pmf(k);
    if (k >= x) upper += pmf(k);
  }
  return Math.min(1, 2 * Math.min(lower, upper));
}

describe('binomialTwoSided', () => {
  it.each([
    [0, 100, 0.01],
    [1, 100, 0.01],
    [5, 100, 0.01],
    [12, 400, 0.01],
    [0, 20, 0.5],
    [17, 20, 0.5],
    [30, 60, 0.5],
    [95, 100, 0.9],
    [2, 3000, 0.01],
  ])('%i of %i at %s matches the brute-force sum of both tails', (x, n, p) => {
    expect(binomialTwoSided(x, n, p)).toBeCloseTo(bruteTwoSided(x, n, p), 10);
  });
});

describe('unitShareTest: the sample-ratio check on users', () => {
  it('with exact counts and many users expected in each cohort, it is Pearson’s χ²', () => {
    for (const [on, off, p] of [
      [530, 470, 0.5],
      [1150, 8850, 0.1],
      [120, 9880, 0.01],
    ] as const) {
      const users = unitShareTest({ on, off }, p);
      const pearson = sampleRatioTest(on, off, p);
      expect(users.computed).toBe('chi-squared');
      expect(users.chiSquared).toBeCloseTo(pearson.chiSquared, 9);
      expect(users.pValue).toBeCloseTo(pearson.pValue, 9);
      expect(users.effectiveUsers).toBe(on + off);
    }
  });

  it('with few users expected in a cohort, it is the exact binomial test, where χ² would hold a healthy step', () => {
    // 100 users at a 1 % step, 5 treated: χ² says p = 0.00006; by chance it happens 0.34 % of the time.
    const users = unitShareTest({ on: 5, off: 95 }, 0.01);
    expect(users.computed).toBe('exact-binomial');
    expect(sampleRatioTest(5, 95, 0.01).pValue).toBeLessThan(0.001);
    expect(users.pValue).toBeCloseTo(bruteTwoSided(5, 100, 0.01), 10);
    expect(users.pValue).toBeGreaterThan(0.001);
    // 500 users, 25 treated at 1 % (5 expected) is a mismatch either way.
    expect(unitShareTest({ on: 25, off: 475 }, 0.01).pValue).toBeLessThan(1e-6);
  });

  it('at 0 % or 100 % any user on the wrong side is a mismatch, and none is a match', () => {
    expect(unitShareTest({ on: 0, off: 50 }, 0).pValue).toBe(1);
    expect(unitShareTest({ on: 1, off: 50 }, 0).pValue).toBe(0);
    expect(unitShareTest({ on: 50, off: 0 }, 1).pValue).toBe(1);
    expect(unitShareTest({ on: 50, off: 1 }, 1).pValue).toBe(0);
    expect(unitShareTest({ on: 0, off: 0 }, 0.1).pValue).toBe(1);
  });

  it('is not fooled by one heavy user, where the test on evaluations is', () => {
    // 1000 users split 500 / 500 as the step asks; each evaluates the flag 10 times, one "on" user 5000 more.
    const evaluations = sampleRatioTest(500 * 10 + 5000, 500 * 10, 0.5);
    const users = unitShareTest({ on: 500, off: 500 }, 0.5);
    expect(evaluations.pValue).toBeLessThan(1e-6);
    expect(users.pValue).toBe(1);
  });

  it('allows for the error of estimated counts: the same shares are less significant, and exact counts are unchanged', () => {
    // 1,200 of 100,000 at a 1 % step: χ² on exact counts is beyond doubt (z ≈ 6.4).
    const exact = unitShareTest({ on: 1200, off: 98_800 }, 0.01);
    expect(exact.pValue).toBeLessThan(1e-8);
    // The same, control estimated from a 1,024 sample (3 % relative error): only about 4 standard errors.
    const estimated = unitShareTest({ on: 1200, off: { count: 98_800, variance: 98_800 ** 2 / 1022 } }, 0.01);
    expect(estimated.effectiveUsers).toBeLessThan(60_000);
    expect(estimated.pValue).toBeGreaterThan(exact.pValue);
    expect(estimated.chiSquared).toBeCloseTo(200 ** 2 / (100_000 * 0.01 * 0.99 + 0.01 ** 2 * (98_800 ** 2 / 1022)), 6);
    expect(unitShareTest({ on: { count: 1200, variance: 0 }, off: { count: 98_800, variance: 0 } }, 0.01)).toEqual(exact);
  });

  it('holds its false-alarm rate with counts from samples: healthy assignments over many populations, at p < 0.01', () => {
    const random = seededRandom(42);
    // Sample hashes are uniform and unrelated to assignment (user-sample.test.ts checks the real hash): drawn as such here.
    const hash = () =>
      Math.floor(random.next() * 2 ** 48)
        .toString(16)
        .padStart(12, '0');
    const k = 256;
    let alarms = 0;
    const runs = 300;
    for (let run = 0; run < runs; run++) {
      const share = [0.01, 0.1, 0.5][run % 3]!;
      const users = 2_000 + Math.floor(random.next() * 10_000);
      const on = new BottomK(k);
      const off = new BottomK(k);
      for (let i = 0; i < users; i++) (random.next() < share ? on : off).add(hash());
      const test = unitShareTest({ on: distinctUsers(on.values(), k), off: distinctUsers(off.values(), k) }, share);
      if (test.pValue < 0.01) alarms++;
    }
    // At most 1 % expected; 2.5 % leaves room for chance over 300 runs (binomial sd 0.6 %).
    expect(alarms / runs).toBeLessThan(0.025);
  });

  it('still finds a broken assignment in sampled counts: 5 % of users treated at a 1 % step', () => {
    const k = 1024;
    const on = new BottomK(k);
    const off = new BottomK(k);
    for (let i = 0; i < 200_000; i++) (i % 20 === 0 ? on : off).add(userSampleHash(`broken-${i}`));
    const test = unitShareTest({ on: distinctUsers(on.values(), k), off: distinctUsers(off.values(), k) }, 0.01);
    expect(test.observedShare).toBeGreaterThan(0.04);
    expect(test.pValue).toBeLessThan(1e-6);
  });
});
