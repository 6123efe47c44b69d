import type { Preflight, StepEstimate } from './preflight.js';
import { count, percentOf } from './units.js';

/**
 * A rollout's pre-flight (see preflight.ts) in words, the same in rolloutctl and on the dashboard.
 * Dependency-free but for units.ts, so the browser bundle uses it as it is.
 */

/** 14.2 → "~15 min", 150 → "~2.5 h", 4000 → "~2.8 days". */
export function minutesText(minutes: number): string {
  if (minutes < 1) return '< 1 min';
  if (minutes < 120) return `~${Math.ceil(minutes)} min`;
  if (minutes < 48 * 60) return `~${Math.ceil(minutes / 6) / 10} h`;
  return `~${Math.ceil(minutes / 144) / 10} days`;
}

/** 1234.5 → "1,235 requests/min", 2.5 → "2.5 requests/min". */
export function perMinute(n: number): string {
  return `${n >= 10 ? count(n) : String(Math.round(n * 10) / 10)} requests/min`;
}

const LIMITS: Record<StepEstimate['limitedBy'], string> = {
  traffic: 'the traffic',
  minDuration: 'its minimum duration',
  minSamples: 'its minimum samples',
};

/** "10%: ~14 min to detect a doubling at 95% confidence (1,200 requests/min); the step lasts at least 20 min (its minimum duration)". */
export function stepEstimateText(step: StepEstimate, confidence: number): string {
  const head = `${step.percentage}%: `;
  if (step.requestsPerMinute <= 0 && step.minutesNeeded === null) return `${head}no estimate: ${step.reason ?? 'no traffic'}`;
  const rate = perMinute(step.requestsPerMinute);
  const detect =
    step.minutesToDetectDoubling === null
      ? `no time to detect a doubling (${step.reason ?? 'not measurable'}) (${rate})`
      : `${minutesText(step.minutesToDetectDoubling)} to detect a doubling at ${percentOf(confidence)} confidence (${rate})`;
  const needed =
    step.limitedBy !== 'traffic' && step.minutesNeeded !== null
      ? `; the step lasts at least ${minutesText(step.minutesNeeded)} (${LIMITS[step.limitedBy]})`
      : '';
  const beyond = step.beyondMaxDuration ? '; longer than the step may last, so a doubling would pause it rather than fail it' : '';
  return `${head}${detect}${needed}${beyond}`;
}

/** "1,200 requests/min; 0.5% errors in 72,000 requests without the feature over the last 60 min". */
export function baselineText(p: Preflight): string {
  const b = p.baseline;
  const window = `the last ${Math.round(b.window.minutes)} min`;
  if (b.requests === 0) return `no requests without the feature over ${window} (${perMinute(b.requestsPerMinute)} in all)`;
  return `${perMinute(b.requestsPerMinute)}; ${percentOf(b.errorRate ?? 0)} errors in ${count(b.requests)} requests without the feature over ${window}`;
}

/** Every line of a pre-flight: the baseline, violations (as warnings when forced), a line per step, notes. */
export function preflightLines(p: Preflight): string[] {
  return [
    `Pre-flight: ${baselineText(p)}`,
    ...(p.warnings ?? p.violations.map((v) => v.text)).map((w) => `  warning: ${w}`),
    ...p.steps.map((s) => `  ${stepEstimateText(s, p.detection.confidence)}`),
    ...p.notes.map((n) => `  note: ${n}`),
  ];
}
