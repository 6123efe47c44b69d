import { type Wording, say, wording } from './reason-wording.js';
import type { CheckResult } from './rollout-model.js';
import { metricText, samplesText } from './units.js';

/**
 * Why a step waits or fails and why a gate did not pass, as English templates with their values
 * (the same machinery as reason-wording.ts): the decision core stores the English text (`reason`,
 * unchanged) and the wording beside it (`reasonWording`), so the dashboard, the go-live report and
 * notifications say the same sentence in their language. Pure and zod-free (the dashboard bundle uses it).
 */

/** A reason as text (an older record, or words from outside the core such as a metric provider's error) or as its wording. */
export type Reason = string | Wording;

/** `{ reason, reasonWording }` of a reason: the English text always, its wording when it has one. */
export const worded = (reason: Reason): { reason: string; reasonWording?: Wording } =>
  typeof reason === 'string' ? { reason } : { reason: say(reason), reasonWording: reason };

// Gates (checks.ts)
export const samplesSoFar = (n: number, min: number) => wording('{n} of {min} samples', { n, min });
export const treatmentSamplesSoFar = (n: number, min: number) => wording('{n} of {min} treatment samples', { n, min });
export const controlSamplesSoFar = (n: number, min: number) => wording('{n} of {min} control samples', { n, min });
export const noData = () => wording('no data');
export const noControlAt100 = () => wording('no control cohort at 100 %');
export const aboveNotBeyondDoubt = (max: number, confidence: number) =>
  wording('above {max} but not yet beyond doubt at {confidence} confidence', { max, confidence });
export const aboveThresholdNotBeyondDoubt = () => wording('above the threshold but not beyond doubt');
export const worseNotBeyondDoubt = (confidence: number) => wording('worse than allowed but not yet beyond doubt at {confidence} confidence', { confidence });
export const benefitOfTheDoubt = (after: number) =>
  wording("over the line but not beyond doubt after {after}x the step's minimum duration and samples: benefit of the doubt", { after });
export const noQueryResult = () => wording('no query result (no metric provider configured?)');

// The step's verdict (judge-step.ts, decide.ts, new-rollout.ts)
export const minimumDurationToGo = (seconds: number) => wording('step minimum duration: {left} to go', { left: wording('{s}s', { s: seconds }) });
export const ruleSays = (rule: string, reason: Reason) => wording('{rule}: {reason}', { rule, reason });
export const ruleOnFlagSays = (rule: string, flag: string, reason: Reason) => wording('{rule} on {flag}: {reason}', { rule, flag, reason });

/** A check over its line by its value, without a reason of its own: "error_rate 0.3% over 2,000 requests". */
export const valueOver = (check: Pick<CheckResult, 'metric' | 'value' | 'samples'>) =>
  wording('{value} over {samples}', { value: { units: metricText(check.metric, check.value) }, samples: { units: samplesText(check.metric, check.samples) } });

/** Several reasons, in order, as one: "a; b; c". */
export function allOf(reasons: Wording[]): Wording {
  return reasons.reduce((first, next) => wording('{first}; {next}', { first, next }));
}

/** A breach control shares (attribution.ts): the step holds until it clears. */
export function sharedBreach(check: CheckResult, what: 'rollback rule' | 'gate'): Wording {
  const figures = (cohort: 'treatment' | 'control'): Wording => {
    const c = check.cohorts?.[cohort];
    if (!c) return wording(cohort === 'treatment' ? 'treatment' : 'control');
    const values = { value: { units: metricText(check.metric, c.value) }, samples: { units: samplesText(check.metric, c.samples) } };
    return wording(cohort === 'treatment' ? 'treatment {value} over {samples}' : 'control {value} over {samples}', values);
  };
  const template =
    what === 'gate'
      ? 'gate {rule} failed, but control is as bad: shared incident ({treatment}, {control}); holding until it clears'
      : 'rollback rule {rule} breached, but control is as bad: shared incident ({treatment}, {control}); holding until it clears';
  return wording(template, { rule: check.rule, treatment: figures('treatment'), control: figures('control') });
}

export const stepJustStarted = () => wording('step just started');
export const stepRestartedOnResume = () => wording('step restarted on resume');
export const goNoGo = (pct: number) => wording('Go/No-Go: approval for {pct}%', { pct });
export const metricsUnavailable = (error: string) => wording('metrics unavailable: {error}', { error });
export const flagKilledHere = (reason: string) => wording('the flag is killed here ({reason}): a person must restore it or abort the rollout', { reason });
export const notStarted = () => wording('not started');
export const scheduledToStartAt = (at: string) => wording('scheduled to start at {at}', { at });

// The traffic checks (traffic-checks.ts). Counts come written as units.ts `count` writes them ("1,234").
export const sinceStepStart = () => wording('the step started');

/** Waiting for the SDKs to fetch the step; `until`: "10:04:00 UTC". */
export function countingStarts(fetched: number, instances: number, until: string): Wording {
  const who = instances > 0 ? wording('{fetched} of {instances} SDK instances have', { fetched, instances }) : wording('the controller is applying it');
  return wording('counting starts once the SDKs have fetched the step: {who} (at the latest {until})', { who, until });
}

export const evaluationsWhileWaiting = (n: string, waiting: Wording) => wording('{n} evaluations reported since the step started; {waiting}', { n, waiting });
export const noEvaluationsYet = (since: Reason, needed: string) =>
  wording('no evaluations reported since {since} yet, of the {needed} needed (SDKs report every metrics interval, 60 s by default)', { since, needed });
export const evaluationsSoFar = (n: string, since: Reason, needed: string) =>
  wording('{n} evaluations reported since {since}, of the {needed} needed', { n, since, needed });

/** The sample ratio shown, not judged, without per-user counts; `share` and `n` as written ("10.2%", "1,234"), or none yet. */
export function notJudgedWithoutUsers(seen?: { share: string; n: string }): Wording {
  const shown = seen ? wording('{share} of {n} evaluations got the feature', seen) : wording('no evaluations reported yet');
  return wording(
    'not judged: no application reported users, only evaluations, and a share of evaluations follows how much each user uses the product ({shown})',
    { shown },
  );
}

/** A sample ratio mismatch on users; `estimated` when user counts come from a sample. */
export function sampleRatioMismatch(share: string, users: string, served: string, p: number, estimated: boolean): Wording {
  return estimated
    ? wording(
        'sample ratio mismatch: {share} of about {users} users got the feature, the step serves {served} (p = {p}, user counts estimated from a sample, with its error allowed for): check SDK versions, caching, or other strategies on the flag',
        { share, users, served, p },
      )
    : wording(
        'sample ratio mismatch: {share} of {users} users got the feature, the step serves {served} (p = {p}): check SDK versions, caching, or other strategies on the flag',
        { share, users, served, p },
      );
}
