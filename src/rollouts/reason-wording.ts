import { formatDuration } from '../policies/duration-text.js';
import { english, type Words } from '../policies/policy-words.js';
import type { CheckResult } from './rollout-model.js';
import { countedInWords, metricText, samplesText } from './units.js';

/**
 * The reasons the decision core writes into a rollout's history, as English templates with their
 * values. A transition keeps the text (`reason`, in English, as it always has) and, beside it, the
 * wording it was filled from (`reasonWording`), so that a reader with a catalog (a notification in a
 * webhook's language) says the same sentence in its own language, with the same values. One source
 * for each sentence: the text is this wording said in English. Pure and zod-free (the dashboard
 * bundle may use it).
 */

/**
 * A value of a sentence: data as written (a name, a comment, a rule in the policy's notation), a
 * number, a value with its unit as units.ts writes it (`{ units: "2,000 requests" }`, whose unit
 * word is translated), or a part of the sentence worded in turn.
 */
export type WordingValue = string | number | { units: string } | Wording;

export interface Wording {
  template: string;
  values: Record<string, WordingValue>;
}

export const wording = (template: string, values: Record<string, WordingValue> = {}): Wording => ({ template, values });

/** The sentence through `words`: English (the stored text) by default. */
export function say(s: Wording, words: Words = english): string {
  const values = Object.fromEntries(
    Object.entries(s.values).map(([name, v]) => [name, typeof v !== 'object' ? v : 'units' in v ? countedInWords(v.units, words) : say(v, words)]),
  );
  return words(s.template, values);
}

/** A transition's reason in `words`' language when the controller worded it; else as written (older entries). */
export const reasonIn = (d: { reason: string; reasonWording?: Wording }, words: Words = english): string =>
  d.reasonWording ? say(d.reasonWording, words) : d.reason;

/** A person's command with their optional comment: "paused by Rita: checkout errors". */
export function commanded(by: string, comment: string | undefined, withComment: string, without: string): Wording {
  return comment ? wording(withComment, { name: by, comment }) : wording(without, { name: by });
}

export const pausedBy = (by: string, comment?: string) => commanded(by, comment, 'paused by {name}: {comment}', 'paused by {name}');
export const rejectedBy = (by: string, comment?: string) => commanded(by, comment, 'rejected by {name}: {comment}', 'rejected by {name}');
export const abortedBy = (by: string, comment?: string) => commanded(by, comment, 'aborted by {name}: {comment}', 'aborted by {name}');
export const rolledBackBy = (by: string, comment?: string) => commanded(by, comment, 'rolled back by {name}: {comment}', 'rolled back by {name}');

/** A breached rollback rule, with its value and samples; `watchMs` when it broke during the watch after completion. */
export function ruleBreached(check: CheckResult, watchMs?: number): Wording {
  return wording('rollback rule {rule} breached{where}: {metric} {value} over {samples}{watch}', {
    rule: check.rule,
    where: check.flag ? wording(' on {flag}', { flag: check.flag }) : '',
    metric: check.metric,
    value: { units: metricText(check.metric, check.value) },
    samples: { units: samplesText(check.metric, check.samples) },
    watch: watchMs === undefined ? '' : wording(' (during the {duration} watch after completion)', { duration: formatDuration(watchMs) }),
  });
}

/** A gate that failed beyond doubt (its always-valid bounds past the line), with the bounds when there are any. */
export function gateFailedBeyondDoubt(check: CheckResult): Wording {
  const bounds = check.test
    ? wording(' (bounds {lower} to {upper} at {confidence}% confidence)', {
        lower: { units: metricText(check.metric, check.test.lower) },
        upper: { units: metricText(check.metric, check.test.upper) },
        confidence: Math.round(check.test.confidence * 100),
      })
    : '';
  return wording('gate {rule} failed beyond doubt: {metric} {value} over {samples}{bounds}', {
    rule: check.rule,
    metric: check.metric,
    value: { units: metricText(check.metric, check.value) },
    samples: { units: samplesText(check.metric, check.samples) },
    bounds,
  });
}

/** A step that did not pass within its maximum duration; `why` is the step's verdict as the analysis wrote it. */
export const timedOut = (percentage: number, why: string | Wording) =>
  wording('the {pct}% step did not pass its gates within its maximum duration: {why}', { pct: percentage, why });

// The controller's own transitions (decide.ts).
export const resumedBy = (name: string) => wording('resumed by {name}', { name });
export const scheduledStart = (at: string) => wording('scheduled start ({at})', { at });
export const rolloutStarted = () => wording('rollout started');
export const advancedTo = (pct: number) => wording('advanced to {pct}%', { pct });
export const lastStepHealthy = () => wording('last step healthy');
export const lastStepHealthyWatching = (until: string, duration: string) =>
  wording('last step healthy; rollback rules watch until {until} ({duration})', { until, duration });
/** `roles`: the roles that may approve, as the policy names them ("release-manager or sre"). */
export const approvalsNeeded = (n: number, roles: string, pct: number) => wording('{n} approval(s) from {roles} needed for {pct}%', { n, roles, pct });
export const goNoGoNeeds = (needed: Wording) => wording('Go/No-Go: {needed}; serving nothing until then', { needed });
export const stepHealthyNeeds = (pct: number, needed: Wording) => wording('the {pct}% step is healthy; {needed}', { pct, needed });
