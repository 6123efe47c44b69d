import { createRequire } from 'node:module';
import type * as SdkUtil from 'unleash-client/lib/strategy/util.js';
import { describe, expect, it } from 'vitest';
import { rateBounds } from '../../src/rollouts/statistics.js';
import { bucketOf } from '../../src/rollouts/unit-bucket.js';
import {
  addBuckets,
  designEffect,
  emptyBuckets,
  MAX_RATE_VARIANCE,
  occupiedBuckets,
  recordOutcome,
  type UnitBuckets,
  unitMarginDifferenceBounds,
  unitRateBounds,
  unitRatio,
  unitRatioVariance,
} from '../../src/rollouts/unit-statistics.js';
import { seededRandom } from '../../src/simulation/random.js';

const require = createRequire(import.meta.url);
const { normalizedStrategyValue } = require('unleash-client/lib/strategy/util.js') as typeof SdkUtil;

// ---- Brute force, written from the formulas and not from the module: per-bucket rates, explicit loops. ----

/** The buckets with at least one request, as [requests, errors] pairs. */
function occupied(b: UnitBuckets): [number, number][] {
  const out: [number, number][] = [];
  b.requests.forEach((r, k) => {
    if (r > 0) out.push([r, b.errors[k]!]);
  });
  return out;
}

function bruteRatio(b: UnitBuckets): number {
  let n = 0;
  let e = 0;
  for (const [r, x] of occupied(b)) {
    n += r;
    e += x;
  }
  return n === 0 ? 0 : e / n;
}

/** m/(m−1) · Σ r_k² (p_k − R)² / N², written with the per-bucket rates p_k = e_k / r_k; then the guards. */
function bruteVariance(b: UnitBuckets): number {
  const cells = occupied(b);
  if (cells.length < 2) return 0.25;
  const R = bruteRatio(b);
  const N = cells.reduce((s, [r]) => s + r, 0);
  const E = cells.reduce((s, [, x]) => s + x, 0);
  let sum = 0;
  for (const [r, x] of cells) sum += r * r * (x / r - R) ** 2;
  const m = cells.length;
  const clustered = (m / (m - 1)) * (sum / (N * N));
  const smoothed = (E + 0.5) / (N + 1);
  return Math.min(0.25, Math.max(clustered, (smoothed * (1 - smoothed)) / N));
}

function bruteSmoothed(b: UnitBuckets): number {
  const cells = occupied(b);
  const N = cells.reduce((s, [r]) => s + r, 0);
  const E = cells.reduce((s, [, x]) => s + x, 0);
  return (E + 0.5) / (N + 1);
}

/** The mSPRT radius from statistics.ts's header: r² = v (v + τ²) / τ² · ln((v + τ²) / (v α²)), v at least 1e-12. */
function bruteRadius(variance: number, tau: number, alpha: number): number {
  const v = Math.max(variance, 1e-12);
  return Math.sqrt(((v * (v + tau * tau)) / (tau * tau)) * Math.log((v + tau * tau) / (v * alpha * alpha)));
}

/** The variance a rate θ would have: the estimate's, scaled by θ(1 − θ) over the smoothed rate's, never down, at most ¼. */
function bruteVarianceAt(b: UnitBuckets, theta: number): number {
  const t = Math.min(1, Math.max(0, theta));
  const s = bruteSmoothed(b);
  return Math.min(0.25, bruteVariance(b) * Math.max(1, (t * (1 - t)) / (s * (1 - s))));
}

const STEP = 1e-5;

/** Upper end by scanning up from the estimate: the first grid point the data rule out (or `top`). */
function scanUpper(estimate: number, top: number, variance: (x: number) => number, tau: number, alpha: number): number {
  for (let x = estimate; x < top; x += STEP) if (x - estimate > bruteRadius(variance(x), tau, alpha)) return x;
  return top;
}

/** Buckets from sparse [bucket, requests, errors] entries. */
function buckets(entries: [number, number, number][], k = 64): UnitBuckets {
  const b = { requests: new Array<number>(k).fill(0), errors: new Array<number>(k).fill(0) };
  for (const [i, r, e] of entries) {
    b.requests[i] = r;
    b.errors[i] = e;
  }
  return b;
}

const TYPICAL: [number, number, number][] = [
  [0, 1200, 14],
  [3, 800, 2],
  [9, 3000, 41],
  [17, 150, 0],
  [30, 2200, 19],
  [41, 950, 30],
  [52, 400, 1],
  [63, 1750, 12],
];

const cases: { name: string; b: UnitBuckets; note?: string }[] = [
  { name: 'typical: eight buckets, uneven', b: buckets(TYPICAL) },
  {
    name: 'the same eight buckets packed into K = 8',
    b: buckets(
      TYPICAL.map(([, r, e], i) => [i, r, e]),
      8,
    ),
  },
  { name: 'one troubled bucket among 64', b: buckets([...Array.from({ length: 63 }, (_, i): [number, number, number] => [i, 500, 2]), [63, 500, 150]]) },
  { name: 'no errors yet', b: buckets(Array.from({ length: 64 }, (_, i): [number, number, number] => [i, 100 + i, 0])) },
  { name: 'every request failed', b: buckets(Array.from({ length: 10 }, (_, i): [number, number, number] => [i * 6, 20 + i, 20 + i])) },
  { name: 'the same rate in every bucket (no spread at all)', b: buckets(Array.from({ length: 32 }, (_, i): [number, number, number] => [i * 2, 1000, 10])) },
  { name: 'one bucket', b: buckets([[7, 5000, 50]]) },
  { name: 'no requests', b: buckets([]) },
  { name: 'errors counted in a bucket without requests are ignored', b: buckets([...TYPICAL, [1, 0, 5]]) },
  {
    name: 'two buckets',
    b: buckets([
      [1, 300, 3],
      [2, 700, 21],
    ]),
  },
];

describe('unit ratio, variance and bounds, against a brute-force computation', () => {
  for (const { name, b } of cases) {
    it(name, () => {
      const R = bruteRatio(b);
      const v = bruteVariance(b);
      expect(unitRatio(b)).toBeCloseTo(R, 15);
      expect(unitRatioVariance(b)).toBeCloseTo(v, 15);
      expect(unitRatioVariance(b) / v).toBeCloseTo(1, 12);

      for (const [confidence, tau] of [
        [0.95, 0.01],
        [0.99, 0.002],
        [0.9, 0.05],
      ] as const) {
        const alpha = 1 - confidence;
        const bounds = unitRateBounds(b, confidence, tau);
        expect(bounds.estimate).toBeCloseTo(R, 15);
        expect(bounds.lower).toBeCloseTo(Math.max(0, R - bruteRadius(v, tau, alpha)), 12);
        const upper = scanUpper(R, 1, (x) => bruteVarianceAt(b, x), tau, alpha);
        expect(Math.abs(bounds.upper - upper)).toBeLessThanOrEqual(STEP);
        // Never narrower above than the plain plug-in bound.
        expect(bounds.upper).toBeGreaterThanOrEqual(Math.min(1, R + bruteRadius(v, tau, alpha)) - 1e-12);
        expect(bounds.lower).toBeLessThanOrEqual(R);
      }
    });
  }

  it('edge cases come out as documented', () => {
    const [typical, packed, troubled, noErrors, allErrors, flat, one, none] = cases.map((c) => c.b) as UnitBuckets[];
    // Empty buckets change nothing: K = 64 with 56 empty is K = 8.
    expect(unitRatioVariance(typical!)).toBeCloseTo(unitRatioVariance(packed!), 15);
    // One troubled bucket: far noisier than independent requests would be.
    expect(designEffect(troubled!)).toBeGreaterThan(10);
    expect(unitRateBounds(troubled!, 0.95, 0.01).upper - unitRateBounds(troubled!, 0.95, 0.01).lower).toBeGreaterThan(
      rateBounds(348, 32_000, 0.95, 0.01).upper - rateBounds(348, 32_000, 0.95, 0.01).lower,
    );
    // No errors yet, every request failed, no spread: the floor (binomial at the smoothed rate), not 0.
    for (const b of [noErrors!, allErrors!, flat!]) {
      const n = occupied(b).reduce((s, [r]) => s + r, 0);
      const s = bruteSmoothed(b);
      expect(unitRatioVariance(b)).toBeCloseTo((s * (1 - s)) / n, 15);
      expect(designEffect(b)).toBeCloseTo(1, 12);
    }
    expect(unitRateBounds(noErrors!, 0.95, 0.01)).toMatchObject({ estimate: 0, lower: 0 });
    expect(unitRateBounds(noErrors!, 0.95, 0.01).upper).toBeGreaterThan(0);
    expect(unitRateBounds(allErrors!, 0.95, 0.01)).toMatchObject({ estimate: 1, upper: 1 });
    // One bucket, or none: no spread to estimate, so the largest variance any rate can have, and bounds spanning everything.
    for (const b of [one!, none!]) {
      expect(unitRatioVariance(b)).toBe(MAX_RATE_VARIANCE);
      expect(unitRateBounds(b, 0.95, 0.01)).toMatchObject({ lower: 0, upper: 1 });
    }
    expect(occupiedBuckets(one!)).toBe(1);
    expect(unitRatio(none!)).toBe(0);
  });

  it('without clustering (every bucket independent requests), the user-level bounds are about the request-level ones', () => {
    const random = seededRandom(3);
    const b = emptyBuckets();
    for (let k = 0; k < 64; k++) recordOutcome(b, k, 2000, random.binomial(2000, 0.01));
    const e = b.errors.reduce((s, x) => s + x, 0);
    const unit = unitRateBounds(b, 0.95, 0.01);
    const request = rateBounds(e, 128_000, 0.95, 0.01);
    expect(designEffect(b)).toBeLessThan(1.6);
    expect(Math.abs(unit.lower - request.lower)).toBeLessThan(0.2 * (request.upper - request.lower));
  });
});

describe('unit margin difference bounds, against a brute-force computation', () => {
  const t = cases[0]!.b;
  const c = buckets(Array.from({ length: 64 }, (_, i): [number, number, number] => [i, 2000 + 37 * i, 15 + (i % 7) * 3]));
  const pairs: { name: string; t: UnitBuckets; c: UnitBuckets }[] = [
    { name: 'typical treatment, large control', t, c },
    { name: 'treatment with no errors yet', t: cases[3]!.b, c },
    { name: 'one troubled treatment bucket', t: cases[2]!.b, c },
    { name: 'control with no errors (τ at its 0.1 % floor)', t, c: cases[3]!.b },
    { name: 'a single treatment bucket', t: cases[6]!.b, c },
  ];
  for (const { name, t, c } of pairs) {
    for (const margin of [0, 0.2, 1]) {
      it(`${name}, margin ${margin}`, () => {
        const k = 1 + margin;
        const rt = bruteRatio(t);
        const rc = bruteRatio(c);
        const vt = bruteVariance(t);
        const vc = bruteVariance(c);
        const tau = Math.max(rc, 0.001);
        const estimate = rt - k * rc;
        const bounds = unitMarginDifferenceBounds(t, c, margin, 0.95);
        expect(bounds.estimate).toBeCloseTo(estimate, 15);
        expect(bounds.lower).toBeCloseTo(estimate - bruteRadius(vt + k * k * vc, tau, 0.05), 12);
        const upper = scanUpper(estimate, 1, (d) => bruteVarianceAt(t, k * rc + d) + k * k * vc, tau, 0.05);
        expect(Math.abs(bounds.upper - upper)).toBeLessThanOrEqual(STEP);
        expect(bounds.upper).toBeGreaterThanOrEqual(Math.min(1, estimate + bruteRadius(vt + k * k * vc, tau, 0.05)) - 1e-12);
      });
    }
  }
});

describe('buckets: counting and adding', () => {
  it('records per bucket, adds across instances without touching the inputs, refuses mismatched shapes', () => {
    const a = emptyBuckets();
    const b = emptyBuckets();
    expect(a.requests).toHaveLength(64);
    recordOutcome(a, 3, 10, 1);
    recordOutcome(a, 3, 5);
    recordOutcome(b, 3, 20, 4);
    recordOutcome(b, 60, 7, 0);
    const sum = addBuckets(a, b);
    expect(sum.requests[3]).toBe(35);
    expect(sum.errors[3]).toBe(5);
    expect(sum.requests[60]).toBe(7);
    expect(a.requests[3]).toBe(15);
    expect(unitRatio(sum)).toBeCloseTo(5 / 42, 15);
    expect(occupiedBuckets(sum)).toBe(2);
    expect(() => addBuckets(a, emptyBuckets(32))).toThrow(RangeError);
    expect(() => recordOutcome(a, 64, 1)).toThrow(RangeError);
    expect(() => recordOutcome(a, 1.5, 1)).toThrow(RangeError);
    expect(() => emptyBuckets(0)).toThrow(RangeError);
    expect(() => addBuckets()).toThrow(RangeError);
  });
});

describe('bucketOf: the SDK’s stickiness hash', () => {
  const ids = [
    '123',
    'user-1',
    'alice@example.com',
    '3f2b1c9e-8d4a-4e4f-9b1a-7c6d5e4f3a2b',
    '',
    'ünïcode',
    '日本語のユーザー',
    '🙂',
    ...Array.from({ length: 1000 }, (_, i) => `user-${i * 7919}`),
  ];

  it('bucketOf(value, flag, 100) + 1 is unleash-client’s rollout position, for every value tried', () => {
    for (const group of ['checkout-redesign', 'a', 'flag with spaces']) {
      for (const id of ids) expect(bucketOf(id, group, 100) + 1).toBe(normalizedStrategyValue(id, group));
    }
  });

  it('is stable (pinned values) and within [0, k)', () => {
    expect(bucketOf('123', 'flag')).toBe(47);
    expect(bucketOf('user-1', 'flag')).toBe(13);
    for (const id of ids) {
      const k = bucketOf(id, 'checkout-redesign');
      expect(Number.isInteger(k) && k >= 0 && k < 64).toBe(true);
    }
    expect(() => bucketOf('x', 'flag', 0)).toThrow(RangeError);
  });

  it('spreads users evenly over the 64 buckets', () => {
    const counts = new Array<number>(64).fill(0);
    for (let i = 0; i < 64_000; i++) counts[bucketOf(`u${i}`, 'checkout-redesign')]!++;
    // 1000 expected per bucket, standard deviation about 31: five of them either way.
    for (const n of counts) expect(Math.abs(n - 1000)).toBeLessThan(160);
  });

  it('shares its low two bits with the rollout position: under 4 %, treated users fill 16 buckets per percent', () => {
    for (const [percentage, filled] of [
      [1, 16],
      [2, 32],
      [3, 48],
      [4, 64],
      [10, 64],
    ] as const) {
      const seen = new Set<number>();
      for (let i = 0; i < 40_000; i++) {
        const id = `u${i}`;
        if (normalizedStrategyValue(id, 'checkout-redesign') <= percentage) seen.add(bucketOf(id, 'checkout-redesign'));
      }
      expect(seen.size).toBe(filled);
    }
  });
});
