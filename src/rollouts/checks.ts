import type { CohortTotals, OutcomeTotals } from '../metrics/outcome-model.js';
import { errorRate, latencyCount, latencyMean, latencyPercentile, latencyShareAbove } from '../metrics/outcome-math.js';
import type { AnyRollbackRule, MetricName, OutcomeGate, RollbackRule, StepPlan } from '../policies/policy-schema.js';
import { marginDifferenceBounds, rateBounds, type Bounds } from './statistics.js';
import { typicalRate, unitMarginDifferenceBounds, unitRateBounds, type UnitBuckets } from './unit-statistics.js';
import { formatDuration } from '../policies/durations.js';
import type { CheckResult, Verdict } from './rollout-model.js';
import {
  aboveNotBeyondDoubt,
  aboveThresholdNotBeyondDoubt,
  controlSamplesSoFar,
  noControlAt100,
  noData,
  type Reason,
  samplesSoFar,
  treatmentSamplesSoFar,
  worded,
  worseNotBeyondDoubt,
} from './verdict-wording.js';

export function metricValue(c: CohortTotals, metric: MetricName): number | undefined {
  switch (metric) {
    case 'error_rate':
      return errorRate(c);
    case 'latency_p50_ms':
      return latencyPercentile(c, 0.5);
    case 'latency_p90_ms':
      return latencyPercentile(c, 0.9);
    case 'latency_p95_ms':
      return latencyPercentile(c, 0.95);
    case 'latency_p99_ms':
      return latencyPercentile(c, 0.99);
    case 'latency_mean_ms':
      return latencyMean(c);
  }
}

export const round = (n: number) => Math.round(n * 1e6) / 1e6;

// Rule texts are plain ASCII ("<=", "x", "chi2") on purpose: they are stored in every rollout
// document on every analysis, and a single non-Latin-1 character makes V8 hold the whole
// serialised document as a two-byte string, which made each analysis's write and read about
// a fifth slower in the tick benchmark.

type CheckDetail = Pick<CheckResult, 'cohorts' | 'test' | 'confident' | 'doubtful'>;

export function result(
  rule: string,
  metric: string,
  cohort: string,
  threshold: number,
  value: number | undefined,
  samples: number,
  verdict: Verdict,
  reason?: Reason,
  detail: CheckDetail = {},
): CheckResult {
  return {
    rule,
    metric,
    cohort,
    threshold: round(threshold),
    value: value === undefined ? null : round(value),
    samples,
    verdict,
    ...(reason ? worded(reason) : {}),
    ...detail,
  };
}

function cohortFigures(c: CohortTotals, value: number | undefined): { value: number | null; samples: number } {
  return { value: value === undefined ? null : round(value), samples: c.requests };
}

function testFigures(bounds: Bounds, confidence: number, method: NonNullable<CheckResult['test']>['method'] = 'always-valid'): CheckResult['test'] {
  return { method, confidence, estimate: round(bounds.estimate), lower: round(bounds.lower), upper: round(bounds.upper) };
}

/** The percentile a latency metric names (0.99 for latency_p99_ms), or undefined for rates and means. */
function percentileOf(metric: MetricName): number | undefined {
  const match = /^latency_p(\d+)_ms$/.exec(metric);
  return match ? Number(match[1]) / 100 : undefined;
}

/** A statistical test's bounds, the line they are judged against, and whether users or requests were the unit. */
interface Evidence {
  bounds: Bounds;
  line: number;
  method?: 'always-valid-users';
}

/**
 * Requests from one user are not independent (heavy users, users with broken data), so error
 * rates are judged on users when the application reported its outcomes per hashed user bucket
 * (the SDK helper does) for nearly all of the cohort's requests; otherwise, on requests, and the
 * check says so (`test.method`). Latency has no per-user counts yet and is judged on requests.
 */
const UNIT_COVERAGE = 0.9;
function judgedUnits(c: CohortTotals): UnitBuckets | undefined {
  if (!c.units || c.requests === 0) return undefined;
  let covered = 0;
  for (const n of c.units.requests) covered += n;
  return covered >= UNIT_COVERAGE * c.requests ? c.units : undefined;
}

/** The typical user's error rate when the cohort is judged on users, else its rate. */
function typicalOf(c: CohortTotals): number | undefined {
  const units = judgedUnits(c);
  return units ? typicalRate(units) : errorRate(c);
}

/**
 * How far over its line a doubtful check is for the typical user (the median hashed user bucket when
 * outcomes come per user; the cohort's own value otherwise), as a multiple of the line: what the
 * policy's benefit of the doubt weighs. One heavy user over the line leaves it near 1; a regression
 * most users feel does not.
 */
function doubt(typical: number | undefined, line: number): { excess: number } {
  // Stored as JSON, so "far over" is a large number rather than Infinity (which JSON writes as null).
  const FAR_OVER = 1e6;
  if (typical === undefined) return { excess: FAR_OVER };
  if (line <= 0) return { excess: typical > 0 ? FAR_OVER : 0 };
  return { excess: round(Math.min(typical / line, FAR_OVER)) };
}

/**
 * Evidence that a cohort's metric is above `limit`, as an always-valid lower bound on a rate:
 * for error rates the rate itself; for a latency percentile q, the share of requests slower than
 * the limit (the percentile is above the limit exactly when more than 1 − q of requests are).
 * Means have no such form and are judged on the point estimate.
 */
function aboveLimitTest(c: CohortTotals, metric: MetricName, limit: number, confidence: number): Evidence | undefined {
  if (metric === 'error_rate') {
    const units = judgedUnits(c);
    const tau = Math.max(limit, 0.001);
    if (units) return { bounds: unitRateBounds(units, confidence, tau), line: limit, method: 'always-valid-users' };
    return { bounds: rateBounds(c.errors, c.requests, confidence, tau), line: limit };
  }
  const q = percentileOf(metric);
  if (q === undefined) return undefined;
  const total = latencyCount(c);
  const slower = latencyShareAbove(c, limit) * total;
  return { bounds: rateBounds(slower, total, confidence, 1 - q), line: 1 - q };
}

/** One gate over the step's outcomes: pass, fail, or inconclusive (too few samples, no data, not yet significant). */
export function evaluateGate(gate: OutcomeGate, totals: OutcomeTotals, plan: StepPlan): CheckResult {
  if ('max' in gate) {
    const rule = `${gate.metric}(${gate.cohort}) <= ${gate.max}${gate.confidence ? ` at ${gate.confidence} confidence` : ''}`;
    const c = totals[gate.cohort];
    const value = metricValue(c, gate.metric);
    // One cohort: its value and samples are the check's own (cohorts are listed when two are compared).
    const detail: CheckDetail = {};
    const judge = (verdict: Verdict, reason?: Reason, extra: CheckDetail = {}) =>
      result(rule, gate.metric, gate.cohort, gate.max, value, c.requests, verdict, reason, { ...detail, ...extra });
    if (c.requests < plan.minSamples) return judge('inconclusive', samplesSoFar(c.requests, plan.minSamples));
    if (value === undefined) return judge('inconclusive', noData());
    const test = gate.confidence === undefined ? undefined : aboveLimitTest(c, gate.metric, gate.max, gate.confidence);
    if (!test) return judge(value <= gate.max ? 'pass' : 'fail');
    const figures = { test: testFigures(test.bounds, gate.confidence!, test.method) };
    if (test.bounds.lower > test.line) return judge('fail', undefined, { ...figures, confident: true });
    if (value <= gate.max) return judge('pass', undefined, figures);
    const typical = gate.metric === 'error_rate' ? typicalOf(c) : value;
    return judge('inconclusive', aboveNotBeyondDoubt(gate.max, gate.confidence!), {
      ...figures,
      doubtful: doubt(typical, gate.max),
    });
  }
  const rule = `${gate.metric}(treatment) <= control x ${1 + gate.maxRelativeIncrease}${gate.confidence ? ` at ${gate.confidence} confidence` : ''}`;
  const t = totals.treatment;
  const c = totals.control;
  const tv = metricValue(t, gate.metric);
  const cv = metricValue(c, gate.metric);
  const threshold = (cv ?? 0) * (1 + gate.maxRelativeIncrease);
  const detail: CheckDetail = { cohorts: { treatment: cohortFigures(t, tv), control: cohortFigures(c, cv) } };
  const judge = (verdict: Verdict, reason?: Reason, extra: CheckDetail = {}) =>
    result(rule, gate.metric, 'treatment', threshold, tv, t.requests, verdict, reason, { ...detail, ...extra });
  // At 100 % nobody is left in control: the comparison was made at the earlier steps.
  if (plan.percentage >= 100) return judge('pass', noControlAt100());
  if (t.requests < plan.minSamples) return judge('inconclusive', treatmentSamplesSoFar(t.requests, plan.minSamples));
  if (c.requests < gate.minControlSamples) return judge('inconclusive', controlSamplesSoFar(c.requests, gate.minControlSamples));
  if (tv === undefined || cv === undefined) return judge('inconclusive', noData());
  if (gate.confidence === undefined) return judge(tv <= threshold ? 'pass' : 'fail');
  let evidence: Evidence | undefined;
  const tu = gate.metric === 'error_rate' ? judgedUnits(t) : undefined;
  const cu = gate.metric === 'error_rate' ? judgedUnits(c) : undefined;
  if (tu && cu) {
    evidence = { bounds: unitMarginDifferenceBounds(tu, cu, gate.maxRelativeIncrease, gate.confidence), line: 0, method: 'always-valid-users' };
  } else if (gate.metric === 'error_rate') {
    evidence = {
      bounds: marginDifferenceBounds(
        { events: t.errors, trials: t.requests },
        { events: c.errors, trials: c.requests },
        gate.maxRelativeIncrease,
        gate.confidence,
      ),
      line: 0,
    };
  } else {
    // Latency from the histograms: control's percentile × (1 + margin) is the limit for treatment's.
    evidence = aboveLimitTest(t, gate.metric, threshold, gate.confidence);
  }
  if (!evidence) return judge(tv <= threshold ? 'pass' : 'fail');
  const figures = { test: testFigures(evidence.bounds, gate.confidence, evidence.method) };
  if (evidence.bounds.lower > evidence.line) return judge('fail', undefined, { ...figures, confident: true });
  if (tv <= threshold) return judge('pass', undefined, figures);
  const typicalT = tu ? typicalOf(t) : tv;
  const typicalC = cu ? typicalOf(c) : cv;
  return judge('inconclusive', worseNotBeyondDoubt(gate.confidence), {
    ...figures,
    doubtful: doubt(typicalT, (typicalC ?? cv) * (1 + gate.maxRelativeIncrease)),
  });
}

export function rollbackRuleText(rule: AnyRollbackRule): string {
  const subject = 'query' in rule ? `${rule.name}(treatment)` : `${rule.metric}(${rule.cohort})`;
  return `${subject} > ${rule.above}${rule.for > 0 ? ` for ${formatDuration(rule.for)}` : ''}`;
}

/** One rollback rule over the recent window: "fail" means its threshold is exceeded right now. */
export function evaluateRollbackRule(rule: RollbackRule, recent: OutcomeTotals): CheckResult {
  const c = recent[rule.cohort];
  const value = metricValue(c, rule.metric);
  const text = rollbackRuleText(rule);
  if (c.requests < rule.minSamples)
    return result(text, rule.metric, rule.cohort, rule.above, value, c.requests, 'inconclusive', samplesSoFar(c.requests, rule.minSamples));
  if (value === undefined) return result(text, rule.metric, rule.cohort, rule.above, value, c.requests, 'inconclusive', noData());
  const test = rule.confidence === undefined ? undefined : aboveLimitTest(c, rule.metric, rule.above, rule.confidence);
  if (!test) return result(text, rule.metric, rule.cohort, rule.above, value, c.requests, value > rule.above ? 'fail' : 'pass');
  // A window over the line by chance is not a breach: only one whose rate is above it beyond doubt.
  const breaching = test.bounds.lower > test.line;
  const detail = { test: testFigures(test.bounds, rule.confidence!, test.method), ...(breaching ? { confident: true } : {}) };
  if (breaching) return result(text, rule.metric, rule.cohort, rule.above, value, c.requests, 'fail', undefined, detail);
  return result(
    text,
    rule.metric,
    rule.cohort,
    rule.above,
    value,
    c.requests,
    value > rule.above ? 'inconclusive' : 'pass',
    value > rule.above ? aboveThresholdNotBeyondDoubt() : undefined,
    detail,
  );
}
