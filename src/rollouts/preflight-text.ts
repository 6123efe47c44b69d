import type { Preflight, StepEstimate } from './preflight.js';
import { baselineWording, minutesWording, perMinuteWording } from './preflight-wording.js';
import { say } from './reason-wording.js';
import { percentOf } from './units.js';

/**
 * A rollout's pre-flight (see preflight.ts) in words, the same in rolloutctl and on the dashboard.
 * The sentences are preflight-wording.ts's, said in English; pure, so the browser bundle may use it.
 */

export const minutesText = (minutes: number): string => say(minutesWording(minutes));
export const perMinute = (n: number): string => say(perMinuteWording(n));

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

export const baselineText = (p: Preflight): string => say(baselineWording(p.baseline));

/** Every line of a pre-flight: the baseline, violations (as warnings when forced), a line per step, notes. */
export function preflightLines(p: Preflight): string[] {
  return [
    `Pre-flight: ${baselineText(p)}`,
    ...(p.warnings ?? p.violations.map((v) => v.text)).map((w) => `  warning: ${w}`),
    ...p.steps.map((s) => `  ${stepEstimateText(s, p.detection.confidence)}`),
    ...p.notes.map((n) => `  note: ${n}`),
  ];
}
