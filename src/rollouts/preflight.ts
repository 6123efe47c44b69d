import type { CohortTotals, OutcomeTotals } from '../metrics/outcome-model.js';
import { addCohort, errorRate } from '../metrics/outcome-math.js';
import { stepPlans, type OutcomeGate, type Policy, type StepPlan } from '../policies/policy-schema.js';
import { evaluateGate } from './checks.js';
import { alwaysValidRadius } from './statistics.js';
import * as sentences from './preflight-wording.js';
import { say as inEnglish, type Wording } from './reason-wording.js';

/**
 * Pre-flight: what a rollout's start learns from the flag's recent outcomes, before anyone is
 * exposed. Pure: the service reads the outcomes, this judges them.
 *
 * Before a rollout the flag is off, so the traffic applications report for it is control: the
 * baseline the rollout's gates will be measured against. Two questions are asked of it:
 *
 * 1. Does the baseline already fail a gate? An absolute gate (`metric(cohort) <= max`, on either
 *    cohort) judged on the baseline alone, exactly as the gate judges a step (its confidence, and
 *    the first step's minimum samples): a gate that fails on traffic without the feature will fail
 *    (or hold) the first step whatever the feature does, so the start is refused unless forced.
 * 2. How long does each step need? At the current request rate × the step's percentage, the time
 *    until a doubling of the error rate would be beyond doubt at the policy's confidence, next to
 *    the step's own minimum duration and minimum samples.
 *
 * The detection time. With baseline rate p and treatment at 2p, after n treatment requests the
 * always-valid bound of src/rollouts/statistics.ts on treatment's rate is 2p ± r(n), with
 *
 *   v = 2p (1 − 2p) / n,   τ = max(p, 0.001),   α = 1 − confidence,
 *   r(n)² = v (v + τ²) / τ² · ln((v + τ²) / (v α²)).
 *
 * The doubling is beyond doubt once the lower bound clears the baseline, 2p − r(n) ≥ p, that is
 * r(n) ≤ p. r² grows with v whenever α ≤ 0.5 (its derivative in v is (2v + τ²)/τ² · ln(…) − 1,
 * and ln(…) ≥ ln(1/α²) ≥ ln 4 > 1), so r falls as n grows and the smallest such n is found by
 * bisection over whole requests. τ is the control rate as in the comparison with control, which
 * is tuned to notice a doubling soonest. Control's own uncertainty is left out: the baseline is
 * measured over far more requests than a step's treatment, so the time is a (slightly optimistic)
 * lower bound for a comparison gate and exact for a one-cohort limit at the baseline.
 */

/** The baseline is the last hour of outcomes, or less when a step may last less (see baselineWindowMs). */
export const BASELINE_WINDOW_MS = 3_600_000;
/** The confidence estimates are given at when the policy's error-rate checks name none. */
export const DEFAULT_CONFIDENCE = 0.95;
/** Beyond this many requests a doubling is "out of reach" rather than a number of minutes. */
const MAX_SAMPLES = 1e12;

export interface PreflightBaseline {
  /** Requests without the feature (control) in the window: before a rollout, all of the flag's traffic. */
  requests: number;
  errors: number;
  /** errors ÷ requests; null without requests. */
  errorRate: number | null;
  /** Every request reported for the flag (both cohorts) per minute: what a step's percentage is a share of. */
  requestsPerMinute: number;
  window: { from: string; to: string; minutes: number };
}

/** An absolute gate the baseline already fails: the first step would fail (or hold) on it whatever the feature does. */
export interface BaselineViolation {
  /** The gate as results name it, e.g. "error_rate(treatment) <= 0.01 at 0.95 confidence". */
  rule: string;
  metric: OutcomeGate['metric'];
  /** The gate's cohort; its value is the baseline's (control's) either way. */
  cohort: 'treatment' | 'control';
  value: number;
  threshold: number;
  samples: number;
  /** Failed beyond doubt at the gate's confidence (a gate without one fails on the measured value). */
  confident?: boolean;
  /** One line with the units: "error_rate(control) <= 0.01: the baseline is 2.5% against 1%, over 12,000 requests". */
  text: string;
  /** `text`'s wording (preflight-wording.ts), to say it in another language. */
  textWording?: Wording;
}

export type LimitedBy = 'traffic' | 'minDuration' | 'minSamples';

export interface StepEstimate {
  percentage: number;
  /** The flag's request rate × the step's percentage: the step's treatment requests per minute. */
  requestsPerMinute: number;
  /** Minutes until a doubling of the error rate would be beyond doubt; null without traffic (or when it cannot be known, see `reason`). */
  minutesToDetectDoubling: number | null;
  minDurationMinutes: number;
  minSamples: number;
  /** Minutes until the step has its minimum samples; null without traffic. */
  minutesToMinSamples: number | null;
  /** The least time the step lasts: the longest of the three; null when traffic is what it waits for and there is none. */
  minutesNeeded: number | null;
  limitedBy: LimitedBy;
  /** A doubling would not be beyond doubt before the step's maximum duration (the step would pause there instead). */
  beyondMaxDuration?: true;
  /** Why a figure is null; `reasonWording` beside it (preflight-wording.ts). */
  reason?: string;
  reasonWording?: Wording;
}

export interface Preflight {
  at: string;
  baseline: PreflightBaseline;
  /** What a doubling is detected of, and how surely. */
  detection: {
    confidence: number;
    /** `policy`: the highest confidence among its error-rate gates and rollback rules; `default`: they name none. */
    confidenceFrom: 'policy' | 'default';
    /** The rate whose doubling is detected: the baseline's, or (x + ½)/(n + 1) when it had no errors. */
    errorRate: number | null;
    /** Treatment requests a step needs to see a doubling of it beyond doubt; null when it cannot. */
    samples: number | null;
  };
  violations: BaselineViolation[];
  steps: StepEstimate[];
  /** Things worth knowing about the figures (no traffic, no errors, no error-rate check in the policy). */
  notes: string[];
  /** Each note's wording, in the same order. */
  noteWordings?: Wording[];
  /** Set when the start was forced over violations: what was overridden, as recorded in the audit log. */
  warnings?: string[];
  /** Each warning's wording, in the same order. */
  warningWordings?: Wording[];
}

export interface PreflightInput {
  policy: Policy;
  /** The flag's outcomes over the window. */
  totals: OutcomeTotals;
  /** The window the totals cover, in ms since the epoch (`to` is now). */
  window: { from: number; to: number };
}

/**
 * How far back the baseline looks: the last hour, or the shortest step's maximum duration when
 * that is shorter. An hour is today's traffic, not yesterday's peak; and no step is judged over
 * longer than it may last, so neither is the baseline it is compared with.
 */
export function baselineWindowMs(policy: Policy): number {
  return Math.max(1, Math.min(BASELINE_WINDOW_MS, ...stepPlans(policy).map((p) => p.maxDurationMs)));
}

/** The confidence of the policy's error-rate gates and rollback rules (the highest), or the default. */
export function detectionConfidence(policy: Policy): { confidence: number; from: 'policy' | 'default' } {
  const confidences = [...policy.gates, ...policy.rollback].flatMap((c) =>
    'metric' in c && c.metric === 'error_rate' && c.confidence !== undefined ? [c.confidence] : [],
  );
  return confidences.length ? { confidence: Math.max(...confidences), from: 'policy' } : { confidence: DEFAULT_CONFIDENCE, from: 'default' };
}

/** The always-valid radius on a doubled rate 2p after n requests, with τ = max(p, 0.001) (see above). */
export function doublingRadius(p: number, n: number, confidence: number): number {
  const q = 2 * p;
  return alwaysValidRadius((q * (1 - q)) / n, Math.max(p, 0.001), 1 - confidence);
}

/**
 * The fewest treatment requests after which a doubling of the error rate `p` is beyond doubt at
 * `confidence` (the smallest n with doublingRadius(p, n) ≤ p). Null when no number of requests
 * can show it: a rate of 0 cannot double, one of ½ or more cannot double within 100 %.
 */
export function samplesToDetectDoubling(p: number, confidence: number): number | null {
  if (!(p > 0 && p < 0.5) || !(confidence >= 0.5 && confidence < 1)) return null;
  const enough = (n: number) => doublingRadius(p, n, confidence) <= p;
  let hi = 1;
  while (!enough(hi)) {
    hi *= 2;
    if (hi > MAX_SAMPLES) return null;
  }
  let lo = Math.floor(hi / 2); // not enough (or 0)
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (enough(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** One decimal, rounded up for times (a step never takes less than said), to the nearest for rates. */
const minutesUp = (m: number) => Math.ceil(m * 10 - 1e-9) / 10;
const oneDecimal = (n: number) => Math.round(n * 10) / 10;
const round6 = (n: number) => Math.round(n * 1e6) / 1e6;

/** Baseline violations: the policy's absolute outcome gates judged on the baseline (control) as the first step would judge them. */
export function baselineViolations(policy: Policy, control: CohortTotals, firstStep: StepPlan, minutes: number): BaselineViolation[] {
  const out: BaselineViolation[] = [];
  for (const gate of policy.gates) {
    if (!('max' in gate) || !('metric' in gate)) continue;
    // The gate's cohort is given the baseline: before the rollout, treatment's outcomes are control's.
    const check = evaluateGate(gate, { treatment: control, control }, firstStep);
    if (check.verdict !== 'fail' || check.value === null) continue;
    const textWording = sentences.baselineFailsWording({ ...check, value: check.value }, gate, minutes);
    out.push({
      rule: check.rule,
      metric: gate.metric,
      cohort: gate.cohort,
      value: check.value,
      threshold: check.threshold,
      samples: check.samples,
      ...(check.confident ? { confident: true } : {}),
      text: inEnglish(textWording),
      textWording,
    });
  }
  return out;
}

/** A step's estimate at `totalPerMinute` requests for the flag, needing `samples` treatment requests to see a doubling. */
export function stepEstimate(plan: StepPlan, totalPerMinute: number, samples: number | null, samplesReason?: Wording): StepEstimate {
  const rpm = (totalPerMinute * plan.percentage) / 100;
  const minDurationMinutes = plan.minDurationMs / 60_000;
  const base = {
    percentage: plan.percentage,
    requestsPerMinute: oneDecimal(rpm),
    minDurationMinutes: oneDecimal(minDurationMinutes),
    minSamples: plan.minSamples,
  };
  if (!(rpm > 0)) {
    // Without traffic a step collects no samples, and gates without data are inconclusive: it waits for traffic.
    return {
      ...base,
      minutesToDetectDoubling: null,
      minutesToMinSamples: null,
      minutesNeeded: null,
      limitedBy: 'traffic',
      ...reasonOf(sentences.noTrafficInWindow()),
    };
  }
  const detect = samples === null ? null : samples / rpm;
  const forSamples = plan.minSamples / rpm;
  const candidates: Array<[LimitedBy, number]> = [
    ['minDuration', minDurationMinutes],
    ['minSamples', forSamples],
    ...(detect === null ? [] : [['traffic', detect] as [LimitedBy, number]]),
  ];
  const [limitedBy, minutes] = candidates.reduce((a, b) => (b[1] > a[1] ? b : a));
  return {
    ...base,
    minutesToDetectDoubling: detect === null ? null : minutesUp(detect),
    minutesToMinSamples: minutesUp(forSamples),
    minutesNeeded: minutesUp(minutes),
    limitedBy,
    ...(detect !== null && detect * 60_000 > plan.maxDurationMs ? { beyondMaxDuration: true as const } : {}),
    ...(detect === null && samplesReason ? reasonOf(samplesReason) : {}),
  };
}

const reasonOf = (w: Wording) => ({ reason: inEnglish(w), reasonWording: w });

/** The pre-flight of a rollout of `policy` on a flag whose recent outcomes are `totals`. */
export function preflight(input: PreflightInput): Preflight {
  const { policy, totals, window } = input;
  const plans = stepPlans(policy);
  const minutes = Math.max(window.to - window.from, 1) / 60_000;
  const control = totals.control;
  const all = addCohort(totals.treatment, totals.control);
  const rate = errorRate(control);
  const notes: Wording[] = [];
  const { confidence, from } = detectionConfidence(policy);

  let detectedRate: number | null = rate ?? null;
  let samplesReason: Wording | undefined;
  if (control.requests === 0) {
    detectedRate = null;
    notes.push(all.requests > 0 ? sentences.noBaselineTraffic() : sentences.noTrafficAtAll());
  } else if (control.errors === 0) {
    // A rate of 0 cannot double; a rate not yet seen is at most about this, so its doubling is what is estimated.
    detectedRate = (control.errors + 0.5) / (control.requests + 1);
    notes.push(sentences.noErrorsYet(control.requests, detectedRate));
  }
  const samples = detectedRate === null ? null : samplesToDetectDoubling(detectedRate, confidence);
  if (detectedRate !== null && samples === null) {
    samplesReason = sentences.cannotDouble(detectedRate);
    notes.push(sentences.doublingUndetectable(detectedRate));
  }
  if (from === 'default') notes.push(sentences.defaultConfidence(confidence));
  if (![...policy.gates, ...policy.rollback].some((c) => 'metric' in c && c.metric === 'error_rate')) notes.push(sentences.nothingActsOnADoubling());

  return {
    at: new Date(window.to).toISOString(),
    baseline: {
      requests: control.requests,
      errors: control.errors,
      errorRate: rate === undefined ? null : round6(rate),
      requestsPerMinute: oneDecimal(all.requests / minutes),
      window: { from: new Date(window.from).toISOString(), to: new Date(window.to).toISOString(), minutes: oneDecimal(minutes) },
    },
    detection: { confidence, confidenceFrom: from, errorRate: detectedRate === null ? null : Number(detectedRate.toPrecision(4)), samples },
    violations: control.requests === 0 ? [] : baselineViolations(policy, control, plans[0]!, minutes),
    steps: plans.map((plan) => stepEstimate(plan, all.requests / minutes, samples, samplesReason)),
    notes: notes.map((n) => inEnglish(n)),
    noteWordings: notes,
  };
}
