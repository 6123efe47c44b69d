import { type Wording, wording } from './reason-wording.js';
import { count, metricText, percentOf } from './units.js';

/**
 * The sentences of a rollout's pre-flight (preflight.ts) as English templates with their values
 * (the machinery of reason-wording.ts): said in English they are the text rolloutctl and the API
 * have always given (preflight-text.ts says them); the dashboard says them in its language.
 * Pure and zod-free (the dashboard bundle uses it).
 */

/** 14.2 → "~15 min", 150 → "~2.5 h", 4000 → "~2.8 days". */
export function minutesWording(minutes: number): Wording {
  if (minutes < 1) return wording('< 1 min');
  if (minutes < 120) return wording('~{n} min', { n: Math.ceil(minutes) });
  if (minutes < 48 * 60) return wording('~{n} h', { n: Math.ceil(minutes / 6) / 10 });
  return wording('~{n} days', { n: Math.ceil(minutes / 144) / 10 });
}

/** 1234.5 → "1,235 requests/min", 2.5 → "2.5 requests/min". */
export const perMinuteWording = (n: number): Wording => wording('{n} requests/min', { n: n >= 10 ? count(n) : String(Math.round(n * 10) / 10) });

/** The baseline: "1,200 requests/min; 0.5% errors in 72,000 requests without the feature over the last 60 min". */
export function baselineWording(b: { requests: number; errorRate: number | null; requestsPerMinute: number; window: { minutes: number } }): Wording {
  const minutes = Math.round(b.window.minutes);
  const rate = perMinuteWording(b.requestsPerMinute);
  if (b.requests === 0) return wording('no requests without the feature over the last {minutes} min ({rate} in all)', { minutes, rate });
  return wording('{rate}; {errorRate} errors in {requests} without the feature over the last {minutes} min', {
    rate,
    errorRate: percentOf(b.errorRate ?? 0),
    // Counted as it always was ("1 requests" included): the unit catalog's "{n} requests".
    requests: wording('{n} requests', { n: count(b.requests) }),
    minutes,
  });
}

/** A gate the baseline already fails: "error_rate(treatment) <= 0.01: the baseline is already 2.5% against 1%, over …". */
export function baselineFailsWording(
  check: { rule: string; value: number; samples: number; confident?: boolean },
  gate: { metric: string; max: number; confidence?: number },
  minutes: number,
): Wording {
  return wording('{rule}: the baseline is already {value} against {max}, over {requests} without the feature in the last {minutes} min{confident}', {
    rule: check.rule,
    value: { units: metricText(gate.metric, check.value) },
    max: { units: metricText(gate.metric, gate.max) },
    requests: wording('{n} requests', { n: count(check.samples) }),
    minutes: Math.round(minutes),
    confident: check.confident ? wording(' (beyond doubt at {confidence} confidence)', { confidence: percentOf(gate.confidence!) }) : '',
  });
}

// Why a step has no estimate (StepEstimate.reason).
export const noTrafficInWindow = () => wording('no traffic: no outcomes were reported for the flag in the window');
export const cannotDouble = (rate: number) => wording('an error rate of {rate} cannot double', { rate: percentOf(rate) });

// Notes on the figures (Preflight.notes).
export const noBaselineTraffic = () => wording('no traffic without the feature in the window: there is no baseline to check or to detect a doubling of');
export const noTrafficAtAll = () =>
  wording('no traffic: no outcomes were reported for the flag in the window, so there is nothing to check and no time can be estimated');
export const noErrorsYet = (requests: number, rate: number) =>
  wording('no errors in {requests}: the times are for a doubling of {rate} (half an error in the window)', {
    requests: wording('{n} requests', { n: count(requests) }),
    rate: percentOf(rate),
  });
export const doublingUndetectable = (rate: number) => wording('the baseline error rate is {rate}: a doubling cannot be detected', { rate: percentOf(rate) });
export const defaultConfidence = (confidence: number) =>
  wording("the policy's error-rate checks name no confidence: times are at {confidence}", { confidence: percentOf(confidence) });
export const nothingActsOnADoubling = () =>
  wording('the policy has no error-rate gate or rollback rule: nothing in it acts on a doubling, the times only say when one would show');
