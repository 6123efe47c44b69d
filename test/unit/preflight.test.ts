import { describe, expect, it } from 'vitest';
import { emptyCohort, emptyTotals } from '../../src/metrics/outcome-math.js';
import type { CohortTotals, OutcomeTotals } from '../../src/metrics/outcome-model.js';
import { policySchema, type PolicyInput } from '../../src/policies/policy-schema.js';
import { BASELINE_WINDOW_MS, baselineWindowMs, detectionConfidence, doublingRadius, preflight, samplesToDetectDoubling } from '../../src/rollouts/preflight.js';
import { minutesText, preflightLines, stepEstimateText } from '../../src/rollouts/preflight-text.js';
import { rateBounds } from '../../src/rollouts/statistics.js';

const HOUR = 3_600_000;
const T = Date.parse('2025-03-04T10:00:00Z');
const WINDOW = { from: T - HOUR, to: T };

const policy = (input: Partial<PolicyInput> = {}) => policySchema.parse({ name: 'p', ...input });

function cohort(requests: number, errors: number, latencyBuckets: Record<string, number> = {}): CohortTotals {
  return { ...emptyCohort(), requests, errors, latencyBuckets };
}

/** Before a rollout every request is control. */
const baseline = (requests: number, errors: number, latencyBuckets: Record<string, number> = {}): OutcomeTotals => ({
  treatment: emptyCohort(),
  control: cohort(requests, errors, latencyBuckets),
});

describe('pre-flight: baseline violations', () => {
  const cases: Array<{
    name: string;
    gates: PolicyInput['gates'];
    totals: OutcomeTotals;
    minSamples?: number;
    expected: Array<{ metric: string; value: number; threshold: number; samples: number; text: string[]; confident?: boolean }>;
  }> = [
    {
      name: 'control above an error-rate limit on control',
      gates: [{ metric: 'error_rate', cohort: 'control', max: 0.01 }],
      totals: baseline(20_000, 500),
      expected: [
        {
          metric: 'error_rate',
          value: 0.025,
          threshold: 0.01,
          samples: 20_000,
          text: ['error_rate(control) <= 0.01', '2.5%', 'against 1%', '20,000 requests'],
        },
      ],
    },
    {
      name: 'a treatment limit is judged on the baseline too (treatment is control before the rollout)',
      gates: [{ metric: 'error_rate', max: 0.01, confidence: 0.95 }],
      totals: baseline(20_000, 600),
      expected: [{ metric: 'error_rate', value: 0.03, threshold: 0.01, samples: 20_000, confident: true, text: ['beyond doubt at 95% confidence', '3%'] }],
    },
    {
      name: 'above the line but not beyond doubt at the gate confidence: no violation',
      gates: [{ metric: 'error_rate', max: 0.01, confidence: 0.95 }],
      totals: baseline(2_000, 24),
      expected: [],
    },
    {
      name: 'a baseline under the limit',
      gates: [{ metric: 'error_rate', cohort: 'control', max: 0.01 }],
      totals: baseline(20_000, 100),
      expected: [],
    },
    {
      name: "fewer requests than the first step's minimum samples say nothing",
      gates: [{ metric: 'error_rate', cohort: 'control', max: 0.01 }],
      totals: baseline(500, 100),
      minSamples: 1000,
      expected: [],
    },
    {
      name: 'a latency percentile with its unit',
      gates: [{ metric: 'latency_p99_ms', max: 500 }],
      totals: baseline(10_000, 0, { '100': 9_000, '1000': 1_000 }),
      expected: [
        { metric: 'latency_p99_ms', value: 910, threshold: 500, samples: 10_000, text: ['latency_p99_ms(treatment) <= 500', '910 ms', 'against 500 ms'] },
      ],
    },
    {
      name: 'comparisons with control and PromQL gates have nothing to say about a baseline',
      gates: [
        { metric: 'error_rate', compare: 'control', maxRelativeIncrease: 0 },
        { name: 'q', query: 'sum(rate(x[{{window}}]))', max: 0 },
      ],
      totals: baseline(20_000, 5_000),
      expected: [],
    },
    {
      name: 'several gates: each one the baseline fails, in the policy order',
      gates: [
        { metric: 'error_rate', cohort: 'control', max: 0.01 },
        { metric: 'latency_mean_ms', max: 1000 },
        { metric: 'latency_p50_ms', max: 40 },
      ],
      totals: baseline(20_000, 400, { '100': 20_000 }),
      expected: [
        { metric: 'error_rate', value: 0.02, threshold: 0.01, samples: 20_000, text: ['2%'] },
        { metric: 'latency_p50_ms', value: 50, threshold: 40, samples: 20_000, text: ['50 ms', 'against 40 ms'] },
      ],
    },
  ];

  it.each(cases)('$name', ({ gates, totals, minSamples, expected }) => {
    const result = preflight({ policy: policy({ gates, stepDefaults: { minSamples: minSamples ?? 1000 } }), totals, window: WINDOW });
    expect(result.violations.map(({ metric, value, threshold, samples }) => ({ metric, value, threshold, samples }))).toEqual(
      expected.map(({ metric, value, threshold, samples }) => ({ metric, value, threshold, samples })),
    );
    result.violations.forEach((v, i) => {
      for (const part of expected[i]!.text) expect(v.text).toContain(part);
      expect(v.confident).toBe(expected[i]!.confident);
      // Stored with every analysis of the rollout: plain ASCII keeps the document one-byte (see checks.ts).
      expect(v.text).toMatch(/^[\x20-\x7e]*$/);
    });
  });
});

describe('pre-flight: no traffic', () => {
  it('says so with nulls and reasons, never dividing by zero', () => {
    const result = preflight({ policy: policy({ gates: [{ metric: 'error_rate', cohort: 'control', max: 0.01 }] }), totals: emptyTotals(), window: WINDOW });
    expect(result.baseline).toMatchObject({ requests: 0, errors: 0, errorRate: null, requestsPerMinute: 0, window: { minutes: 60 } });
    expect(result.violations).toEqual([]);
    expect(result.detection).toMatchObject({ errorRate: null, samples: null });
    expect(result.steps).toHaveLength(4);
    for (const step of result.steps) {
      expect(step).toMatchObject({ requestsPerMinute: 0, minutesToDetectDoubling: null, minutesToMinSamples: null, minutesNeeded: null, limitedBy: 'traffic' });
      expect(step.reason).toContain('no traffic');
    }
    expect(result.notes.join(' ')).toContain('no traffic');
    expect(JSON.stringify(result)).not.toMatch(/NaN|Infinity|null,"minutesNeeded":[0-9]/);
    expect(stepEstimateText(result.steps[0]!, 0.95)).toBe('1%: no estimate: no traffic: no outcomes were reported for the flag in the window');
  });

  it('an empty window (from = to) is read as a millisecond, not as zero', () => {
    const result = preflight({ policy: policy(), totals: baseline(10, 1), window: { from: T, to: T } });
    expect(Number.isFinite(result.baseline.requestsPerMinute)).toBe(true);
  });

  it('a baseline without errors estimates the doubling of half an error, and says so', () => {
    const result = preflight({ policy: policy(), totals: baseline(60_000, 0), window: WINDOW });
    expect(result.detection.errorRate).toBeCloseTo(0.5 / 60_001, 8);
    expect(result.detection.samples).toBeGreaterThan(0);
    expect(result.notes.join(' ')).toContain('no errors in 60,000 requests');
  });

  it('a rate of one half or more cannot double: null with the reason, the step bounded by its own minimums', () => {
    const result = preflight({ policy: policy(), totals: baseline(60_000, 30_000), window: WINDOW });
    expect(result.detection.samples).toBeNull();
    // 1,000 requests/min: 10 at 1 %, so its 1,000 samples take 100 minutes.
    expect(result.steps[0]).toMatchObject({ minutesToDetectDoubling: null, limitedBy: 'minSamples', minutesNeeded: 100 });
    expect(result.steps[0]!.reason).toContain('cannot double');
  });
});

describe('pre-flight: time to detect a doubling', () => {
  it('brute force: the smallest n whose radius on a doubled rate is at most the rate', () => {
    for (const [p, confidence] of [
      [0.2, 0.9],
      [0.1, 0.95],
      [0.05, 0.95],
      [0.02, 0.99],
      [0.3, 0.5],
    ] as const) {
      const n = samplesToDetectDoubling(p, confidence)!;
      let first = 1;
      while (doublingRadius(p, first, confidence) > p) first++;
      expect(n, `p=${p} confidence=${confidence}`).toBe(first);
    }
  });

  it('agrees with the radius formula itself, and with the bounds gates use', () => {
    for (const [p, confidence] of [
      [0.001, 0.95],
      [0.005, 0.95],
      [0.01, 0.99],
      [0.0002, 0.9],
    ] as const) {
      const n = samplesToDetectDoubling(p, confidence)!;
      const q = 2 * p;
      const alpha = 1 - confidence;
      const radius = (m: number) => {
        const v = (q * (1 - q)) / m;
        const t2 = Math.max(p, 0.001) ** 2;
        return Math.sqrt(((v * (v + t2)) / t2) * Math.log((v + t2) / (v * alpha * alpha)));
      };
      expect(radius(n)).toBeLessThanOrEqual(p);
      expect(radius(n - 1)).toBeGreaterThan(p);
      // rateBounds (what a one-cohort gate computes) on a doubled rate: its lower bound clears p about there.
      const lower = (m: number) => rateBounds(Math.round(q * m), m, confidence, Math.max(p, 0.001)).lower;
      expect(lower(Math.ceil(n * 1.05))).toBeGreaterThan(p);
      expect(lower(Math.floor(n * 0.95))).toBeLessThan(p);
    }
  });

  it('is null for rates that cannot double and confidences out of range', () => {
    expect(samplesToDetectDoubling(0, 0.95)).toBeNull();
    expect(samplesToDetectDoubling(0.5, 0.95)).toBeNull();
    expect(samplesToDetectDoubling(0.01, 1)).toBeNull();
  });

  it('falls as traffic grows, rises with the confidence', () => {
    const at = (requests: number, confidence: number) =>
      preflight({
        policy: policy({ gates: [{ metric: 'error_rate', compare: 'control', maxRelativeIncrease: 0.5, confidence }] }),
        totals: baseline(requests, requests / 200),
        window: WINDOW,
      });
    const traffic = [6_000, 60_000, 600_000, 6_000_000].map((n) => at(n, 0.95).steps[1]!.minutesToDetectDoubling!);
    for (let i = 1; i < traffic.length; i++) expect(traffic[i]!).toBeLessThan(traffic[i - 1]!);
    const confidences = [0.8, 0.9, 0.95, 0.99, 0.999].map((c) => at(60_000, c));
    for (let i = 1; i < confidences.length; i++) {
      expect(confidences[i]!.detection.samples!).toBeGreaterThan(confidences[i - 1]!.detection.samples!);
      expect(confidences[i]!.steps[1]!.minutesToDetectDoubling!).toBeGreaterThan(confidences[i - 1]!.steps[1]!.minutesToDetectDoubling!);
    }
    // Later steps get more of the same traffic, so they need less time.
    const steps = at(60_000, 0.95).steps.map((s) => s.minutesToDetectDoubling!);
    for (let i = 1; i < steps.length; i++) expect(steps[i]!).toBeLessThan(steps[i - 1]!);
  });

  it('is the samples over the step share of the rate, and names what the step waits for', () => {
    // 1,200 requests/min at 0.5 % errors.
    const result = preflight({
      policy: policy({
        steps: [1, 10, { percentage: 50, minSamples: 200_000 }, { percentage: 100, minDuration: '2h' }],
        stepDefaults: { minDuration: '10m', minSamples: 1000, maxDuration: '24h' },
      }),
      totals: baseline(72_000, 360),
      window: WINDOW,
    });
    const n = result.detection.samples!;
    expect(result.baseline).toMatchObject({ requests: 72_000, errors: 360, errorRate: 0.005, requestsPerMinute: 1200 });
    expect(result.detection).toMatchObject({ confidence: 0.95, confidenceFrom: 'default', errorRate: 0.005 });
    const [one, ten, fifty, hundred] = result.steps;
    expect(one).toMatchObject({ percentage: 1, requestsPerMinute: 12, limitedBy: 'traffic' });
    expect(one!.minutesToDetectDoubling! - n / 12).toBeGreaterThanOrEqual(0);
    expect(one!.minutesToDetectDoubling! - n / 12).toBeLessThan(0.1);
    expect(ten).toMatchObject({ percentage: 10, requestsPerMinute: 120 });
    expect(ten!.minutesToDetectDoubling! - n / 120).toBeGreaterThanOrEqual(0);
    expect(ten!.minutesToDetectDoubling! - n / 120).toBeLessThan(0.1);
    expect(fifty).toMatchObject({ limitedBy: 'minSamples', minutesToMinSamples: Math.ceil((200_000 / 600) * 10) / 10 });
    expect(hundred).toMatchObject({ limitedBy: 'minDuration', minutesNeeded: 120 });
    expect(stepEstimateText(ten!, 0.95)).toMatch(/^10%: ~\d+ min to detect a doubling at 95% confidence \(120 requests\/min\)$/);
    expect(stepEstimateText(hundred!, 0.95)).toContain('the step lasts at least ~2 h (its minimum duration)');
    expect(result.notes.join(' ')).toContain('no confidence');
  });

  it('flags a step whose doubling would show only after its maximum duration', () => {
    const result = preflight({ policy: policy({ stepDefaults: { maxDuration: '30m' } }), totals: baseline(600, 3), window: { from: T - 30 * 60_000, to: T } });
    expect(result.steps[0]!.beyondMaxDuration).toBe(true);
    expect(stepEstimateText(result.steps[0]!, 0.95)).toContain('longer than the step may last');
  });
});

describe('pre-flight: window, confidence and text', () => {
  it('looks back an hour, or the shortest step maximum when shorter', () => {
    expect(baselineWindowMs(policy())).toBe(BASELINE_WINDOW_MS);
    expect(baselineWindowMs(policy({ steps: [1, { percentage: 10, maxDuration: '20m' }, 100] }))).toBe(20 * 60_000);
  });

  it("takes the highest confidence of the policy's error-rate checks", () => {
    expect(detectionConfidence(policy())).toEqual({ confidence: 0.95, from: 'default' });
    expect(
      detectionConfidence(
        policy({
          gates: [
            { metric: 'error_rate', max: 0.05, confidence: 0.9 },
            { metric: 'latency_p99_ms', max: 500, confidence: 0.999 },
          ],
          rollback: [{ metric: 'error_rate', above: 0.1, confidence: 0.99 }],
        }),
      ),
    ).toEqual({ confidence: 0.99, from: 'policy' });
  });

  it('writes minutes, hours and days', () => {
    expect(minutesText(0.4)).toBe('< 1 min');
    expect(minutesText(14.2)).toBe('~15 min');
    expect(minutesText(150)).toBe('~2.5 h');
    expect(minutesText(4000)).toBe('~2.8 days');
  });

  it('lists the baseline, warnings, steps and notes', () => {
    const result = {
      ...preflight({ policy: policy({ gates: [{ metric: 'error_rate', cohort: 'control', max: 0.01 }] }), totals: baseline(72_000, 1_440), window: WINDOW }),
    };
    const lines = preflightLines(result);
    expect(lines[0]).toBe('Pre-flight: 1,200 requests/min; 2% errors in 72,000 requests without the feature over the last 60 min');
    expect(lines[1]).toContain('warning: error_rate(control) <= 0.01: the baseline is already 2% against 1%');
    expect(lines.filter((l) => /^ {2}\d+%: /.test(l))).toHaveLength(4);
  });
});
