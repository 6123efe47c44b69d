import type { Policy } from '../policies/policy-schema.js';
import type { Preflight } from './preflight.js';
import type { OutcomeFields, OutcomeTotals } from '../metrics/outcome-model.js';
import type { QueryResult } from '../metrics/prometheus/query-result.js';
import type { DistinctUsers } from '../metrics/user-sample.js';
import type { TrafficWindow } from './traffic-window.js';
import type { Wording } from './reason-wording.js';

export const ROLLOUTS = 'rollouts';

export const ROLLOUT_STATES = ['scheduled', 'pending', 'running', 'awaiting_approval', 'paused', 'completed', 'rolled_back', 'aborted'] as const;
export type RolloutState = (typeof ROLLOUT_STATES)[number];
export type ActiveState = Exclude<RolloutState, 'completed' | 'rolled_back' | 'aborted'>;

/** Every flag a rollout ramps: a release's flags, or the rollout's one flag. */
export function rolloutFlags(r: Pick<Rollout, 'flag' | 'release'>): string[] {
  return r.release?.flags ?? [r.flag];
}

export function isFinal(state: RolloutState): boolean {
  return state === 'completed' || state === 'rolled_back' || state === 'aborted';
}

/**
 * A completed rollout that still watches its rollback rules (the policy's `watchAfterCompletion`):
 * its state is final, yet the loop keeps analysing it until `watchUntil`, and a breach still kills.
 */
export function isWatching(r: Pick<Rollout, 'state' | 'watchUntil'>): boolean {
  return r.state === 'completed' && r.watchUntil !== undefined;
}

/** Whether the controller is done with a rollout for good: final, and not watching. Nothing analyses or writes it again. */
export function isDone(r: Pick<Rollout, 'state' | 'watchUntil'>): boolean {
  return isFinal(r.state) && !isWatching(r);
}

export interface Person {
  id: string;
  name: string;
  role?: string;
}

export interface Approval {
  by: Person;
  at: string;
  /** Index of the step this approval lets the rollout enter (0 is the Go/No-Go of the first step). */
  step: number;
  comment?: string;
  /** Given in advance, for a step the rollout was not yet awaiting (`{"step": n, "ahead": true}`). */
  ahead?: boolean;
}

export type Verdict = 'pass' | 'fail' | 'inconclusive';

export interface CheckResult {
  /** Readable rule, in ASCII (see checks.ts), e.g. "error_rate(treatment) <= 0.01". */
  rule: string;
  metric: string;
  cohort: string;
  threshold: number;
  value: number | null;
  samples: number;
  verdict: Verdict;
  reason?: string;
  /** The template and values `reason` was filled from, when the controller worded it (verdict-wording.ts): to say it in another language. */
  reasonWording?: Wording;
  /** When a check compares treatment with control: each cohort's metric and request count. */
  cohorts?: Partial<Record<'treatment' | 'control', { value: number | null; samples: number }>>;
  /** The statistical test behind the verdict, when the check asks for one. */
  /**
   * `always-valid-users`: judged on users (hashed user buckets, the spread between them); `always-valid`:
   * on requests, as if each were independent (what a report without per-user counts allows).
   * `share-of-users`: the sample-ratio check on distinct users (user-share-test.ts); `share-of-evaluations`:
   * the share of evaluations, shown for information only (`informational`); `chi-squared`: the
   * sample-ratio check on evaluations of earlier versions, in checks recorded before.
   */
  test?: {
    method: 'always-valid' | 'always-valid-users' | 'share-of-users' | 'share-of-evaluations' | 'chi-squared';
    confidence: number;
    estimate: number;
    lower: number;
    upper: number;
    pValue?: number;
  };
  /**
   * Shown for information, not judged: it neither holds nor fails the step (its verdict is `pass`).
   * The sample-ratio check without per-user counts: a share of evaluations follows heavy users.
   */
  informational?: true;
  /** A failure on evidence (the test's bound is past the line), not a point estimate over it. */
  confident?: boolean;
  /**
   * A confidence gate over its line by its value but not beyond doubt (inconclusive): how far over,
   * for the typical user, as a multiple of the line (`excess`; see checks.ts `doubt`). Judge-step may
   * then pass it on the policy's benefit of the doubt, and says so with `benefitOfDoubt`.
   */
  doubtful?: { excess: number };
  benefitOfDoubt?: boolean;
  /**
   * Attribution: a failing treatment check whose rule control breaches too, judged the same way over
   * the same window (`cohorts` then holds both figures). A shared incident, not the feature's fault:
   * it holds the rollout instead of killing the flag (see the policy's `onSharedBreach`).
   */
  shared?: boolean;
  /** A release's gate judged on one of its flags alone (without it: on the whole release, or the rollout's one flag). */
  flag?: string;
}

/**
 * Where the current step stands, as of the last analysis. `shared`: the step is held for an incident
 * control shares (a rollback rule or a gate breached in both cohorts), not for the feature's own failure.
 */
export type StepVerdict =
  | { kind: 'waiting'; reason: string; reasonWording?: Wording }
  | { kind: 'failing'; reason: string; reasonWording?: Wording; shared?: boolean }
  | { kind: 'healthy' };

export interface Transition {
  at: string;
  from: RolloutState;
  to: RolloutState;
  stepIndex: number;
  percentage: number;
  reason: string;
  /** The template and values `reason` was filled from, when the controller worded it (reason-wording.ts): to say it in another language. */
  reasonWording?: Wording;
  actor: string;
  gates?: CheckResult[];
  rollbackChecks?: CheckResult[];
  samples?: { treatment: number; control: number };
  approvals?: Approval[];
  /** Approvals not yet used that this transition made void (a pause or a restarted step asks for them afresh). */
  voidedApprovals?: Approval[];
  /** The check whose failure caused this transition (a rollback: the breached rule or the gate that failed beyond doubt). */
  cause?: CheckResult & { kind: 'rollback-rule' | 'gate' };
  /**
   * On the transition that started the rollout: the pre-flight the start was told (preflight.ts).
   * Kept in the history, written once, rather than on the record every analysis rewrites.
   */
  preflight?: Preflight;
  /** On a transition an incoming alert made (src/alerts): what the alert said, bounded in size. */
  alert?: AlertNote;
}

/**
 * An incoming alert as a rollout's history keeps it: who raised it and what it said, each text
 * already cut to a bounded length by src/alerts.
 */
export interface AlertNote {
  /** `alertmanager` or `generic`: the route it came in on. */
  source: string;
  fingerprint: string;
  status: 'firing' | 'resolved';
  alertname?: string;
  startsAt?: string;
  generatorURL?: string;
  summary?: string;
  description?: string;
  labels: Record<string, string>;
}

/**
 * A rollout's state, with what only some states carry: a paused rollout always knows the state it
 * returns to on resume and why it was paused, and no other state has either.
 */
export type RolloutPhase =
  | { state: Exclude<RolloutState, 'paused'>; pausedFrom?: never; pauseReason?: never }
  | {
      state: 'paused';
      /** The state to return to on resume. */
      pausedFrom: ActiveState;
      pauseReason: string;
    };

export type Rollout = RolloutFields & RolloutPhase;

/** Everything a rollout holds besides its phase. */
export interface RolloutFields {
  id: string;
  /** The flag this rollout ramps; for a release, its first flag (all of them are in `flags`). */
  flag: string;
  /**
   * A release (several flags ramped as one): its name and every flag it ramps, `flag` first. Each
   * flag's owned strategy has the same stickiness and group id (the release's), so the same users get
   * every flag of the module at each step; one kill turns them all off. Absent on a one-flag rollout.
   */
  release?: { name: string; flags: string[] };
  /** A scheduled rollout: when it starts (state `scheduled` until then). Kept once it has started. */
  startAt?: string;
  /** Per step percentage ("100"), the time before which that step is not entered, even when approved and healthy. */
  notBefore?: Record<string, string>;
  environment: string;
  /** Name of the policy the rollout follows. */
  policy: string;
  /** That policy as it was when the rollout started: a rollout follows the plan it was started with. */
  plan: Policy;
  /** id of the flexibleRollout strategy this rollout owns on the flag. */
  strategyId: string;
  stepIndex: number;
  percentage: number;
  stepStartedAt: string;
  startedBy: Person;
  createdAt: string;
  updatedAt: string;
  lastEvaluatedAt?: string;
  stepVerdict: StepVerdict;
  gates: CheckResult[];
  rollbackChecks: CheckResult[];
  /** Per rollback rule (same order as the policy's): since when its threshold has been exceeded, or null. */
  breachingSince: Array<string | null>;
  checks: { failed: number; consecutiveFailed: number; inconclusive: number; providerErrors: number };
  approvals: Approval[];
  /**
   * Outcomes of the current step in the buckets that are complete, summed once: an analysis then
   * reads only the buckets since `until` (and the one still filling), however long the step lasts.
   */
  stepTotals?: { fields: OutcomeFields; until: number };
  /**
   * When the current step's traffic began to count for the traffic checks: once the SDKs fetching
   * flags before the step had fetched it (traffic-window.ts). Unset until then, and at every new step.
   */
  trafficSettledAt?: string;
  /**
   * A completed rollout whose policy watches after completion: until when its rollback rules are
   * still checked (a breach kills the flag, completed → rolled_back). Dropped when the watch ends.
   */
  watchUntil?: string;
  history: Transition[];
}

export interface Measurements {
  /** Outcomes since the current step began. */
  step: OutcomeTotals;
  /** Outcomes of the last analysis interval (for rollback rules, which look at what is happening now). */
  recent: OutcomeTotals;
  /** The complete-bucket part of `step`, for the rollout to keep (see Rollout.stepTotals). */
  stepTotals?: Rollout['stepTotals'];
  /** Results of the policy's PromQL checks, by Measurements key (see checks.ts queryKey). */
  queries?: Record<string, QueryResult>;
  /**
   * Evaluations SDKs and server-side evaluation reported for the flag since the step's traffic began
   * to count (on: got the feature), or since the step began while it waits to; for the traffic checks.
   */
  exposures?: { on: number; off: number };
  /** Distinct users seen in each cohort since the step's traffic began to count; absent when none was reported. */
  users?: { on: DistinctUsers; off: DistinctUsers };
  /** Where counting for the traffic checks stands (absent: counting from the step's start). */
  trafficWindow?: TrafficWindow;
  /** A release: each flag's own outcomes since the step began (`step` and `recent` above are all of them together). */
  perFlag?: Array<{ flag: string; step: OutcomeTotals; recent: OutcomeTotals }>;
}

/** What the decision core is asked to consider. */
export type DecisionInput =
  | { kind: 'analysis'; measurements: Measurements }
  | { kind: 'provider-error'; error: string }
  /** `step` is the percentage of the step being approved; without it, the step awaiting approval. */
  | { kind: 'approve'; by: Person; comment?: string; step?: number; ahead?: boolean }
  | { kind: 'reject'; by: Person; comment?: string }
  /** `alert`: the incoming alert that asks for it, kept on the transition. */
  | { kind: 'pause'; by: Person; comment?: string; alert?: AlertNote }
  | { kind: 'resume'; by: Person; comment?: string; alert?: AlertNote }
  | { kind: 'abort'; by: Person; comment?: string }
  /** Kill the flag (and the policy's killSwitches) and end rolled_back, on someone's word rather than a breached rule. */
  | { kind: 'rollback'; by: Person; comment?: string; alert?: AlertNote };

/** Side effects the loop carries out, in the same commit as the new rollout state. */
export type Action = { kind: 'set-percentage'; percentage: number } | { kind: 'kill'; flags: string[]; reason: string };

/** Why a command was refused, in the core's own words; the HTTP edge maps each to a status. */
export type Refusal = 'conflict' | 'forbidden';

export type Decision =
  /** `approval` is the approval an approve command stands for (the first one, when it was given before). */
  | { kind: 'decided'; next: Rollout; actions: Action[]; approval?: Approval }
  | { kind: 'refused'; refusal: Refusal; errorId: string; message: string; details?: Record<string, unknown> };
