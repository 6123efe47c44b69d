import { describe, expect, it } from 'vitest';
import { addCohort, addTotals, emptyCohort, emptyTotals, errorRate, latencyCount, latencyMean, latencyPercentile } from '../../src/metrics/outcome-math.js';
import type { CohortTotals } from '../../src/metrics/outcome-model.js';

const cohort = (latencyBuckets: Record<string, number>, extra: Partial<CohortTotals> = {}): CohortTotals => ({
  ...emptyCohort(),
  latencyBuckets,
  ...extra,
});

describe('adding outcome totals', () => {
  it('adds counts and merges histograms bucket by bucket, without touching the inputs', () => {
    const a = cohort({ '10': 1, '+Inf': 2 }, { requests: 10, errors: 1, latencySumMs: 50 });
    const b = cohort({ '10': 3, '50': 4 }, { requests: 5, errors: 2, latencySumMs: 70.5 });
    const before = structuredClone([a, b]);
    expect(addCohort(a, b)).toEqual({ requests: 15, errors: 3, latencyBuckets: { '10': 4, '50': 4, '+Inf': 2 }, latencySumMs: 120.5 });
    expect([a, b]).toEqual(before);
    expect(addCohort(emptyCohort(), a)).toEqual(a);
    expect(addCohort(emptyCohort(), a).latencyBuckets).not.toBe(a.latencyBuckets);
  });

  it('adds both cohorts of two totals', () => {
    const x = { treatment: cohort({ '5': 1 }, { requests: 1 }), control: cohort({}, { requests: 2, errors: 1 }) };
    const sum = addTotals(x, addTotals(x, emptyTotals()));
    expect(sum.treatment).toEqual({ requests: 2, errors: 0, latencyBuckets: { '5': 2 }, latencySumMs: 0 });
    expect(sum.control).toEqual({ requests: 4, errors: 2, latencyBuckets: {}, latencySumMs: 0 });
    expect(x.treatment.latencyBuckets).toEqual({ '5': 1 });
  });
});

describe('error rate and mean latency', () => {
  it('is errors over requests, undefined without requests', () => {
    expect(errorRate(cohort({}, { requests: 200, errors: 3 }))).toBe(0.015);
    expect(errorRate(cohort({}, { requests: 7, errors: 0 }))).toBe(0);
    expect(errorRate(emptyCohort())).toBeUndefined();
  });

  it('divides the latency sum by the requests that reported a latency, not by all requests', () => {
    // 3 requests reported a latency (2 + 1), totalling 300 ms; 10 requests in all.
    const c = cohort({ '10': 2, '+Inf': 1 }, { requests: 10, latencySumMs: 300 });
    expect(latencyCount(c)).toBe(3);
    expect(latencyMean(c)).toBe(100);
    expect(latencyMean(cohort({}, { requests: 10 }))).toBeUndefined();
    expect(latencyMean(cohort({ '10': 0 }))).toBeUndefined();
  });
});

describe('latency percentiles from the histogram', () => {
  it('interpolates within a single bucket from 0 to its bound', () => {
    const c = cohort({ '100': 10 });
    expect(latencyPercentile(c, 0)).toBe(0);
    expect(latencyPercentile(c, 0.5)).toBe(50); // rank 5 of 10 → halfway through [0, 100]
    expect(latencyPercentile(c, 0.9)).toBe(90);
    expect(latencyPercentile(c, 1)).toBe(100);
  });

  it('interpolates from the previous bound, even when the previous bucket is empty', () => {
    // 10 ms: 5, 20 ms: 0, 50 ms: 5 → ranks 6..10 lie in (20, 50].
    const c = cohort({ '10': 5, '20': 0, '50': 5 });
    expect(latencyPercentile(c, 0.5)).toBe(10); // rank 5: the top of the first bucket
    expect(latencyPercentile(c, 0.6)).toBeCloseTo(26, 10); // 20 + 30 × 1/5
    expect(latencyPercentile(c, 0.8)).toBeCloseTo(38, 10); // 20 + 30 × 3/5
  });

  it('sorts bounds numerically, not as strings, with +Inf last', () => {
    // As strings "25.5" < "250" < "5"; numerically 5 < 25.5 < 250 < +Inf. 10 in all.
    const c = cohort({ '250': 2, '+Inf': 2, '5': 2, '25.5': 4 });
    expect(latencyPercentile(c, 0.1)).toBe(2.5); // rank 1: 0 + 5 × 1/2
    expect(latencyPercentile(c, 0.5)).toBeCloseTo(20.375, 10); // rank 5: 5 + 20.5 × 3/4
    expect(latencyPercentile(c, 0.75)).toBeCloseTo(193.875, 10); // rank 7.5: 25.5 + 224.5 × 1.5/2
    expect(latencyPercentile(c, 0.8)).toBe(250); // rank 8: the top of the 250 bucket
  });

  it('answers the largest finite bound when the rank falls in +Inf', () => {
    const c = cohort({ '100': 1, '500': 1, '+Inf': 8 });
    expect(latencyPercentile(c, 0.95)).toBe(500);
    expect(latencyPercentile(c, 0.99)).toBe(500);
    expect(latencyPercentile(c, 0.1)).toBe(100);
    // A finite bound that never received a request still caps the estimate.
    expect(latencyPercentile(cohort({ '100': 0, '+Inf': 3 }), 0.5)).toBe(100);
  });

  it('starts p = 0 at the lower bound of the first bucket with data', () => {
    expect(latencyPercentile(cohort({ '5': 0, '10': 4 }), 0)).toBe(5);
  });

  it('treats spellings of one bound as one bucket', () => {
    expect(latencyPercentile(cohort({ '10': 1, '10.0': 1, '20': 2 }), 0.75)).toBe(15); // rank 3: 10 + 10 × 1/2
  });

  it('is undefined for an empty histogram or one with only +Inf', () => {
    expect(latencyPercentile(emptyCohort(), 0.5)).toBeUndefined();
    expect(latencyPercentile(cohort({ '10': 0, '+Inf': 0 }), 0.5)).toBeUndefined();
    expect(latencyPercentile(cohort({ '+Inf': 4 }), 0.5)).toBeUndefined();
  });

  it('rejects a percentile outside 0..1', () => {
    expect(() => latencyPercentile(cohort({ '10': 1 }), 99)).toThrow(RangeError);
    expect(() => latencyPercentile(cohort({ '10': 1 }), Number.NaN)).toThrow(RangeError);
  });
});
