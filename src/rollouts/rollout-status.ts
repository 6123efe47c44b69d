import { changeWindowOpen } from '../policies/change-window.js';
import { stepPlans } from '../policies/policy-schema.js';
import type { KillSwitch } from '../flags/schema.js';
import { requestsIn } from '../metrics/outcome-fields.js';
import { approvalsFor, awaitedStepIndex, hasEnteredAStep, nextStepIndex } from './approvals.js';
import { isDone, isFinal, isWatching, type CheckResult, type Rollout, type RolloutState, type Transition } from './rollout-model.js';
import { trafficOf, type TrafficJudgement } from './traffic-status.js';
import { say, type Wording } from './reason-wording.js';
import { causeWording, conditionWording, newRolloutStep, restoreFlagStep, restoreFlagWarning, servedWording, statusWording } from './status-wording.js';
import { flagKilledHere, worded } from './verdict-wording.js';

/**
 * Where a rollout stands, computed once for every reader: what users are served now, what the
 * current step still waits for, why the rollout ended and what a person may do next. The dashboard,
 * rolloutctl, the go-live report and the notifications all read it from here, so they cannot
 * disagree. Pure: the flag's kill switch and the time are parameters. Nothing in it changes with
 * each second that passes (durations are given as "since" and "minimum"), so an answer built from
 * it changes only when something happened.
 */

/** One condition for leaving where the rollout is, and whether it holds. Counts carry their unit in `kind`. */
export type Condition =
  | { kind: 'time'; met: boolean; stepStartedAt: string; minDurationMs: number }
  /** Treatment requests reported in the step. */
  | { kind: 'samples'; met: boolean; samples: number; minSamples: number }
  /** `reason`: the last analysis's word on the step when it is not healthy ("1 of 3 gates failing: …", "metrics unavailable: …"). */
  | { kind: 'gates'; met: boolean; pass: number; fail: number; inconclusive: number; total: number; reason?: string; reasonWording?: Wording }
  | { kind: 'approval'; met: boolean; approvals: number; required: number; roles: string[]; forPercentage: number; approvedBy: string[] }
  /** `opensAt`: when a shut window next opens (absent when open, or shut beyond the horizon). */
  | { kind: 'window'; met: boolean; reason?: string; reasonWording?: Wording; opensAt?: string }
  /** A scheduled rollout's start time. */
  | { kind: 'start-time'; met: boolean; startAt: string }
  /** The next step's not-before time (the rollout's `notBefore`). */
  | { kind: 'not-before'; met: boolean; forPercentage: number; notBefore: string }
  /** `reasonWording` beside a reason: its template and values (verdict-wording.ts), to say it in another language. */
  | { kind: 'person'; met: false; reason: string; reasonWording?: Wording }
  /** The flag is killed in the environment: nothing is served, so nothing can be measured. */
  | { kind: 'flag-killed'; met: false; reason: string; reasonWording?: Wording };

/** What users of the environment get from the flag right now. */
export interface Served {
  /** Share of users served the feature, 0 when killed. */
  percentage: number;
  killed: boolean;
  killSwitch?: KillSwitch;
  /** "serving 10%", "served disabled (kill switch: …)". */
  text: string;
  textWording?: Wording;
}

/** Why a rollout ended: the final transition, and for a rollback the check that caused it. */
export interface Ending {
  state: Extract<RolloutState, 'completed' | 'rolled_back' | 'aborted'>;
  at: string;
  reason: string;
  /** The reason's wording (reason-wording.ts), for readers in another language; absent on older entries. */
  reasonWording?: Transition['reasonWording'];
  by: string;
  cause?: Transition['cause'];
  /** The cause in words, with its unit: "error_rate(treatment) > 0.05 for 5m: 8% over 2,000 requests". */
  causeText?: string;
  causeWording?: Wording;
  /** A rollback during the watch after completion: when the rollout had completed. */
  completedAt?: string;
}

/** Something a person may do from here, with what it will do; each text's wording beside it (status-wording.ts). */
export interface NextStep {
  kind: 'new-rollout' | 'restore-flag';
  text: string;
  textWording?: Wording;
  warning?: string;
  warningWording?: Wording;
}

export interface RolloutStatus {
  /** Percentages of the plan's steps, e.g. [1, 10, 50, 100]. */
  steps: number[];
  stepIndex: number;
  active: boolean;
  /** Whether a step was entered (false while pending or at its Go/No-Go). */
  started: boolean;
  /** The percentage of the step awaiting approval, or null. */
  awaitingStep: number | null;
  served: Served;
  /** Conditions of where it stands (none once final). */
  waitingFor: Condition[];
  ended?: Ending;
  /** A completed rollout whose rollback rules still watch (the policy's watchAfterCompletion): until when. */
  watchUntil?: string;
  /** How the current step's traffic is judged, once a policy with traffic checks has analysed it. */
  traffic?: TrafficJudgement;
  nextSteps: NextStep[];
}

/** Treatment requests counted in the current step, as far as the last analysis knows. */
export function stepSamples(rollout: Rollout): number {
  const fromGates = rollout.gates.filter((g) => g.cohort === 'treatment').map((g) => g.samples);
  return Math.max(0, rollout.stepTotals ? requestsIn(rollout.stepTotals.fields, 'treatment') : 0, ...fromGates);
}

export function rolloutStatus(rollout: Rollout, killSwitch: KillSwitch | undefined, now: Date): RolloutStatus {
  const plans = stepPlans(rollout.plan);
  const awaited = awaitedStepIndex(rollout);
  const served = servedNow(rollout, killSwitch);
  const ended = endingOf(rollout);
  return {
    steps: plans.map((p) => p.percentage),
    stepIndex: rollout.stepIndex,
    // Still watched after completion counts as active: its rollback rules can still kill the flag.
    active: !isDone(rollout),
    started: hasEnteredAStep(rollout),
    awaitingStep: awaited === undefined ? null : plans[awaited]!.percentage,
    served,
    waitingFor: conditions(rollout, killSwitch, now),
    ...(ended ? { ended } : {}),
    ...(isWatching(rollout) ? { watchUntil: rollout.watchUntil } : {}),
    ...trafficOf(rollout),
    nextSteps: nextSteps(rollout, served),
  };
}

function servedNow(r: Rollout, killSwitch: KillSwitch | undefined): Served {
  // An aborted rollout returned its strategy to 0 %; every other state serves its percentage.
  const percentage = killSwitch || r.state === 'aborted' ? 0 : r.percentage;
  const served = servedWording(killSwitch, percentage);
  return { percentage, killed: killSwitch !== undefined, ...(killSwitch ? { killSwitch } : {}), text: say(served), textWording: served };
}

function conditions(r: Rollout, killSwitch: KillSwitch | undefined, now: Date): Condition[] {
  if (isFinal(r.state)) return [];
  const killed: Condition[] = killSwitch ? [{ kind: 'flag-killed', met: false, ...worded(flagKilledHere(killSwitch.reason)) }] : [];
  const plans = stepPlans(r.plan);
  const window = changeWindowOpen(r.plan.windows, now);
  const windowItem: Condition = {
    kind: 'window',
    met: window.open,
    ...(window.reason ? { reason: window.reason, ...(window.reasonWording ? { reasonWording: window.reasonWording } : {}) } : {}),
    ...(window.opensAt ? { opensAt: window.opensAt } : {}),
  };
  const next = nextStepIndex(r);
  const notBefore = (): Condition[] => {
    const forPercentage = next === undefined ? undefined : plans[next]!.percentage;
    const at = forPercentage === undefined ? undefined : r.notBefore?.[String(forPercentage)];
    return at ? [{ kind: 'not-before', met: now.getTime() >= Date.parse(at), forPercentage: forPercentage!, notBefore: at }] : [];
  };
  const approval = (): Condition[] => {
    if (next === undefined) return [];
    const plan = plans[next]!;
    if (plan.approval.required === 0) return [];
    const given = approvalsFor(r, next);
    return [
      {
        kind: 'approval',
        met: given.length >= plan.approval.required,
        approvals: given.length,
        required: plan.approval.required,
        roles: plan.approval.roles,
        forPercentage: plan.percentage,
        approvedBy: given.map((a) => a.by.name),
      },
    ];
  };
  if (r.state === 'scheduled') return [...killed, { kind: 'start-time', met: false, startAt: r.startAt! }, ...approval(), windowItem];
  if (r.state === 'paused') return [...killed, { kind: 'person', met: false, ...pauseReasonOf(r) }];
  // Before the first step: its Go/No-Go (if it asks for one) and a window.
  if (!hasEnteredAStep(r)) return [...killed, ...approval(), windowItem, ...notBefore()];
  const plan = plans[r.stepIndex]!;
  const elapsed = now.getTime() - Date.parse(r.stepStartedAt);
  const samples = stepSamples(r);
  const counts = { pass: 0, fail: 0, inconclusive: 0 };
  // A check shown for information only did not judge: it is neither passing nor in the way.
  const judged = r.gates.filter((g) => !g.informational);
  for (const g of judged) counts[g.verdict]++;
  // The last analysis's checks include the policy's traffic checks; before any, the policy's gates.
  const total = Math.max(judged.length, r.plan.gates.length);
  return [
    ...killed,
    { kind: 'time', met: elapsed >= plan.minDurationMs, stepStartedAt: r.stepStartedAt, minDurationMs: plan.minDurationMs },
    { kind: 'samples', met: samples >= plan.minSamples, samples, minSamples: plan.minSamples },
    // Gates not judged yet (a step that just began) count as not passing.
    {
      kind: 'gates',
      met: counts.pass === total,
      ...counts,
      total,
      ...(r.stepVerdict.kind === 'healthy' ? {} : worded(r.stepVerdict.reasonWording ?? r.stepVerdict.reason)),
    },
    ...approval(),
    ...(next === undefined ? [] : [windowItem, ...notBefore()]),
  ];
}

/** Why a paused rollout is paused, with the wording of the transition into paused when that is the reason kept. */
function pauseReasonOf(r: Rollout & { state: 'paused' }): { reason: string; reasonWording?: Wording } {
  const entry = r.history.findLast((t) => t.to === 'paused');
  return entry?.reason === r.pauseReason && entry.reasonWording ? worded(entry.reasonWording) : { reason: r.pauseReason };
}

/** The check a rollback was caused by, in words with units. */
export const causeText = (cause: CheckResult): string => say(causeWording(cause));

/** When the rollout reached its final state, if it has (its last transition into it). */
export function endedAt(r: Rollout): string | undefined {
  return endingOf(r)?.at;
}

function endingOf(r: Rollout): Ending | undefined {
  if (r.state !== 'completed' && r.state !== 'rolled_back' && r.state !== 'aborted') return undefined;
  const last = r.history.findLast((t) => t.to === r.state);
  const cause = last?.cause;
  const completed = last?.from === 'completed' ? r.history.findLast((t) => t.to === 'completed') : undefined;
  return {
    state: r.state,
    at: last?.at ?? r.updatedAt,
    reason: last?.reason ?? r.state.replace('_', ' '),
    ...(last?.reasonWording ? { reasonWording: last.reasonWording } : {}),
    by: last?.actor ?? 'controller',
    ...(cause ? { cause, causeText: causeText(cause), causeWording: causeWording(cause) } : {}),
    ...(completed ? { completedAt: completed.at } : {}),
  };
}

const textOf = (w: Wording) => ({ text: say(w), textWording: w });

function nextSteps(r: Rollout, served: Served): NextStep[] {
  // While a completed rollout still watches, it is the flag's active rollout: a new one waits for the watch to end.
  if (isWatching(r)) return [];
  const newRollout: NextStep = { kind: 'new-rollout', ...textOf(newRolloutStep(r.flag, served.killed)) };
  if (r.state === 'rolled_back' || (isFinal(r.state) && served.killed)) {
    if (!served.killed) return [newRollout];
    const warning = restoreFlagWarning(r.percentage);
    const restore: NextStep = { kind: 'restore-flag', ...textOf(restoreFlagStep(r.flag, r.environment)), warning: say(warning), warningWording: warning };
    return [newRollout, restore];
  }
  if (r.state === 'aborted' || r.state === 'completed') return [newRollout];
  return [];
}

/** One line on where the rollout stands or how it ended, with units: for the CLI, the report and notifications. */
export const statusLine = (r: Rollout, status: RolloutStatus): string => say(statusWording(r, status));

/** A condition in plain words with units (the dashboard renders its own, with live countdowns). */
export function conditionText(c: Condition): string {
  const text = conditionWording(c);
  return typeof text === 'string' ? text : say(text);
}
