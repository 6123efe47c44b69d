import type { CohortTotals, OutcomeTotals } from '../metrics/outcome-model.js';
import { errorRate, latencyMean, latencyPercentile } from '../metrics/outcome-math.js';
import type { Gate, MetricName, RollbackRule, StepPlan } from '../policies/policy-schema.js';
import { formatDuration } from '../policies/durations.js';
import type { CheckResult, Verdict } from './rollout-model.js';

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

const round = (n: number) => Math.round(n * 1e6) / 1e6;

function result(rule: string, metric: string, cohort: string, threshold: number, value: number | undefined, samples: number, verdict: Verdict, reason?: string): CheckResult {
  return { rule, metric, cohort, threshold: round(threshold), value: value === undefined ? null : round(value), samples, verdict, ...(reason ? { reason } : {}) };
}

/** Inverse of the standard normal CDF (Acklam's rational approximation; ample for confidence levels). */
function normalQuantile(p: number): number {
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const q = p < 0.5 ? p : 1 - p;
  let x: number;
  if (q < 0.02425) {
    const r = Math.sqrt(-2 * Math.log(q));
    x = (((((c[0]! * r + c[1]!) * r + c[2]!) * r + c[3]!) * r + c[4]!) * r + c[5]!) / ((((d[0]! * r + d[1]!) * r + d[2]!) * r + d[3]!) * r + 1);
  } else {
    const r = q - 0.5;
    const s = r * r;
    x = ((((((a[0]! * s + a[1]!) * s + a[2]!) * s + a[3]!) * s + a[4]!) * s + a[5]!) * r) / (((((b[0]! * s + b[1]!) * s + b[2]!) * s + b[3]!) * s + b[4]!) * s + 1);
    return p < 0.5 ? x : -x;
  }
  return p < 0.5 ? x : -x;
}

/**
 * Is the treatment error rate significantly above control × (1 + δ)? One-sided two-proportion
 * z-test; used only when a gate asks for a confidence, so noise at low traffic does not fail a step.
 */
function significantlyWorse(t: CohortTotals, c: CohortTotals, delta: number, confidence: number): boolean {
  const pt = t.errors / t.requests;
  const pc = c.errors / c.requests;
  const variance = (pt * (1 - pt)) / t.requests + ((1 + delta) ** 2 * pc * (1 - pc)) / c.requests;
  if (variance === 0) return pt > pc * (1 + delta);
  const z = (pt - pc * (1 + delta)) / Math.sqrt(variance);
  return z > -normalQuantile(1 - confidence);
}

/** One gate over the step's outcomes: pass, fail, or inconclusive (too few samples, no data). */
export function evaluateGate(gate: Gate, totals: OutcomeTotals, plan: StepPlan): CheckResult {
  if ('max' in gate) {
    const rule = `${gate.metric}(${gate.cohort}) ≤ ${gate.max}`;
    const c = totals[gate.cohort];
    const value = metricValue(c, gate.metric);
    if (c.requests < plan.minSamples) return result(rule, gate.metric, gate.cohort, gate.max, value, c.requests, 'inconclusive', `${c.requests} of ${plan.minSamples} samples`);
    if (value === undefined) return result(rule, gate.metric, gate.cohort, gate.max, value, c.requests, 'inconclusive', 'no data');
    return result(rule, gate.metric, gate.cohort, gate.max, value, c.requests, value <= gate.max ? 'pass' : 'fail');
  }
  const rule = `${gate.metric}(treatment) ≤ control × ${1 + gate.maxRelativeIncrease}${gate.confidence ? ` at ${gate.confidence} confidence` : ''}`;
  const t = totals.treatment;
  const c = totals.control;
  const tv = metricValue(t, gate.metric);
  const cv = metricValue(c, gate.metric);
  const threshold = (cv ?? 0) * (1 + gate.maxRelativeIncrease);
  if (t.requests < plan.minSamples) return result(rule, gate.metric, 'treatment', threshold, tv, t.requests, 'inconclusive', `${t.requests} of ${plan.minSamples} treatment samples`);
  if (c.requests < gate.minControlSamples) return result(rule, gate.metric, 'treatment', threshold, tv, t.requests, 'inconclusive', `${c.requests} of ${gate.minControlSamples} control samples`);
  if (tv === undefined || cv === undefined) return result(rule, gate.metric, 'treatment', threshold, tv, t.requests, 'inconclusive', 'no data');
  const worse = gate.confidence !== undefined && gate.metric === 'error_rate' ? significantlyWorse(t, c, gate.maxRelativeIncrease, gate.confidence) : tv > threshold;
  return result(rule, gate.metric, 'treatment', threshold, tv, t.requests, worse ? 'fail' : 'pass');
}

export function rollbackRuleText(rule: RollbackRule): string {
  return `${rule.metric}(${rule.cohort}) > ${rule.above}${rule.for > 0 ? ` for ${formatDuration(rule.for)}` : ''}`;
}

/** One rollback rule over the recent window: "fail" means its threshold is exceeded right now. */
export function evaluateRollbackRule(rule: RollbackRule, recent: OutcomeTotals): CheckResult {
  const c = recent[rule.cohort];
  const value = metricValue(c, rule.metric);
  const text = rollbackRuleText(rule);
  if (c.requests < rule.minSamples) return result(text, rule.metric, rule.cohort, rule.above, value, c.requests, 'inconclusive', `${c.requests} of ${rule.minSamples} samples`);
  if (value === undefined) return result(text, rule.metric, rule.cohort, rule.above, value, c.requests, 'inconclusive', 'no data');
  return result(text, rule.metric, rule.cohort, rule.above, value, c.requests, value > rule.above ? 'fail' : 'pass');
}
