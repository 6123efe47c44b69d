import { formatDuration } from '../policies/durations.js';
import type { KillSwitch } from '../flags/schema.js';
import { type Wording, wording } from './reason-wording.js';
import type { CheckResult, Rollout } from './rollout-model.js';
import type { Condition, RolloutStatus } from './rollout-status.js';
import { stateWords } from './state-words.js';
import { count, counted, metricText, samplesText } from './units.js';
import type { Reason } from './verdict-wording.js';

/**
 * Where a rollout stands, in sentences with their values (the machinery of reason-wording.ts): what
 * it serves, what it waits for, what caused a rollback, and the one line the go-live report's
 * Outcome, rolloutctl and notifications show. Said in English they are the text these places have
 * always shown; the report says them in its language.
 */

const units = (metric: string, value: number | null) => ({ units: metricText(metric, value) });

/** What users are served: "serving 10%", "served disabled (kill switch: P0)". */
export function servedWording(killSwitch: KillSwitch | undefined, percentage: number): Wording {
  if (killSwitch) return wording('served disabled (kill switch: {reason})', { reason: killSwitch.reason });
  return percentage === 0 ? wording('serving nobody (0%)') : wording('serving {pct}%', { pct: percentage });
}

/** The check a rollback was caused by, with units: "error_rate(treatment) > 0.05 for 5m: 8% over 2,000 requests (threshold 5%)". */
export function causeWording(cause: CheckResult): Wording {
  const bounds = cause.test
    ? wording('; {confidence}% confidence bounds {lower} to {upper}', {
        confidence: Math.round(cause.test.confidence * 100),
        lower: units(cause.metric, cause.test.lower),
        upper: units(cause.metric, cause.test.upper),
      })
    : '';
  return wording('{rule}: {value} over {samples} (threshold {threshold}{bounds})', {
    rule: cause.rule,
    value: units(cause.metric, cause.value),
    samples: { units: samplesText(cause.metric, cause.samples) },
    threshold: units(cause.metric, cause.threshold),
    bounds,
  });
}

/** A condition in plain words with units (the dashboard renders its own, with live countdowns). */
export function conditionWording(c: Condition): Reason {
  switch (c.kind) {
    case 'time':
      return c.met
        ? wording('minimum time in step reached')
        : wording("the step's minimum time ({s} s from {at})", { s: Math.round(c.minDurationMs / 1000), at: c.stepStartedAt });
    case 'samples':
      return wording('{have} of {need} needed', { have: { units: counted(c.samples, 'treatment request') }, need: count(c.minSamples) });
    case 'gates':
      return wording('gates: {pass} of {total} passing{fail}{inconclusive}{reason}', {
        pass: c.pass,
        total: c.total,
        fail: c.fail ? wording(', {n} failing', { n: c.fail }) : '',
        inconclusive: c.inconclusive ? wording(', {n} inconclusive', { n: c.inconclusive }) : '',
        reason: c.reason ? wording(' ({reason})', { reason: c.reasonWording ?? c.reason }) : '',
      });
    case 'approval':
      return wording('approval for {pct}%: {have} of {need} ({roles}){given}', {
        pct: c.forPercentage,
        have: c.approvals,
        need: c.required,
        roles: c.roles.join(' or '),
        given: c.approvedBy.length ? wording(', given by {names}', { names: c.approvedBy.join(', ') }) : '',
      });
    case 'window':
      return c.met
        ? wording('change window open')
        : wording('the change window{reason}', { reason: c.reason ? wording(' ({reason})', { reason: c.reasonWording ?? c.reason }) : '' });
    case 'start-time':
      return wording('the scheduled start at {at}', { at: c.startAt });
    case 'not-before':
      return c.met
        ? wording("the {pct}% step's not-before time passed", { pct: c.forPercentage })
        : wording("the {pct}% step's not-before time ({at})", { pct: c.forPercentage, at: c.notBefore });
    case 'person':
      return wording('a person to resume ({reason})', { reason: c.reasonWording ?? c.reason });
    case 'flag-killed':
      return c.reasonWording ?? c.reason;
  }
}

/** One line on where the rollout stands or how it ended, with units: for the CLI, the report and notifications. */
export function statusWording(r: Rollout, status: RolloutStatus): Wording {
  const place = { flag: r.flag, pct: r.percentage, env: r.environment, served: status.served.textWording ?? status.served.text };
  const ended = status.ended;
  if (ended) {
    switch (ended.state) {
      case 'completed':
        if (status.watchUntil)
          return wording('Completed, watching until {until}: {flag} reached {pct}% in {env}; now {served}, and a breached rollback rule still rolls it back.', {
            ...place,
            until: status.watchUntil,
          });
        return wording('Completed: {flag} reached {pct}% in {env}; now {served}.{watched}', { ...place, watched: watchedWording(r) });
      case 'rolled_back':
        return wording('Rolled back at {pct}%{watch}: {flag} is {served} in {env}.{cause}', {
          ...place,
          watch: ended.completedAt ? wording(' during the watch after completion (completed {at})', { at: ended.completedAt }) : '',
          cause: ended.cause ? wording(' Cause: {cause}.', { cause: causeWording(ended.cause) }) : '',
        });
      case 'aborted':
        return wording('Aborted: {reason}; {flag} is {served} in {env}.', { ...place, reason: ended.reasonWording ?? ended.reason });
    }
  }
  const waits = status.waitingFor.filter((c) => !c.met).map(conditionWording);
  const waiting = waits.length ? waits.reduce((first, next) => wording('{first}; {next}', { first, next })) : wording('the next analysis');
  return wording('{state}, {served}; waiting for {waits}.', { ...place, state: wording(stateWords(r.state)), waits: waiting });
}

/** After a watch that ended without a breach: " Its rollback rules watched for 2h after completion, with no breach." */
function watchedWording(r: Rollout): Reason {
  const watch = r.plan.watchAfterCompletion; // undefined in plans stored before it existed
  return watch > 0 ? wording(' Its rollback rules watched for {duration} after completion, with no breach.', { duration: formatDuration(watch) }) : '';
}

// What a step's evidence led to, in the go-live report (go-live-report.ts).
/** `names`: who approved the step, as written ("Ada, Bob"). */
export const advancedApprovedBy = (pct: number, names: string) => wording('advanced to {pct}%, approved by {names}', { pct, names });
export const latestAnalysis = (verdict: 'healthy' | 'waiting' | 'failing') => wording('latest analysis ({verdict})', { verdict: wording(verdict) });

// What a person may do after a rollout ended (rollout-status.ts nextSteps).
export const newRolloutStep = (flag: string, restoring: boolean): Wording =>
  restoring
    ? wording('Start a new rollout of {flag} from 0%, restoring the flag as it starts: every step watched and approved again', { flag })
    : wording('Start a new rollout of {flag} from 0%: every step watched and approved again', { flag });
export const restoreFlagStep = (flag: string, env: string) => wording('Restore {flag} in {env} as it is', { flag, env });
export const restoreFlagWarning = (pct: number) => wording('it would serve {pct}% again at once, and no rollout would watch it or roll it back', { pct });
