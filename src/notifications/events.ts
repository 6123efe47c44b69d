import { createHash } from 'node:crypto';
import { stepPlans } from '../policies/policy-schema.js';
import type { CheckResult, Rollout, RolloutState, Transition } from '../rollouts/rollout-model.js';
import { nextStepIndex } from '../rollouts/approvals.js';
import type { Wording } from '../rollouts/reason-wording.js';
import { EVENT_TYPES, FLAG_EVENT_TYPES, ROLLOUT_EVENT_TYPES } from './event-types.js';
import { rolloutScheduledEvent, type AlertEvent, type DrillEvent, type TestEvent } from './published-events.js';

export {
  alertActedEvent,
  flagDrilledEvent,
  pipelinePromotedEvent,
  rolloutScheduledEvent,
  type AlertEvent,
  type DrillEvent,
  type RolloutNote,
  type TestEvent,
} from './published-events.js';

export { EVENT_TYPES, FLAG_EVENT_TYPES, ROLLOUT_EVENT_TYPES } from './event-types.js';
export { isFlagEvent, isRolloutEvent, scopeOf } from './event-scope.js';

/**
 * What a release manager is told about. Derived, not recorded: the rollout document and its history
 * are the record; an event is a view of one change of it, made by a pure function so that every rule
 * ("tell once when gates start failing, not at every analysis") is a row in a table test.
 */
export type RolloutEventType = (typeof ROLLOUT_EVENT_TYPES)[number];
export type FlagEventType = (typeof FLAG_EVENT_TYPES)[number];
export type EventType = (typeof EVENT_TYPES)[number];

/**
 * Where a person reads more, on the dashboard: added when the event is queued (see links.ts), so
 * every retry carries the same links. Absolute with PUBLIC_URL set, else paths on the controller.
 */
export interface EventLinks {
  /** The rollout's page for rollout events; the flag in its environment for flag events. */
  dashboard: string;
  /** Flag events: the page of the rollout active in that environment, when there is one. */
  rollout?: string;
}

/** The rollout as it stood when the event happened (for a transition: right after it). */
/** `release`: a release's name and flags (absent for a rollout of one flag). */
export type RolloutRef = Pick<Rollout, 'id' | 'flag' | 'environment' | 'policy' | 'state' | 'stepIndex' | 'percentage' | 'release'>;

export interface ApprovalNote {
  by: string;
  at: string;
  comment?: string;
}

/**
 * One union for every event; receivers switch on `type`. `reasonWording`: the template and values a
 * reason the controller worded was filled from (src/rollouts/reason-wording.ts), absent when a
 * person's or an older record's text is all there is.
 */
export type EventDetails =
  | { type: 'rollout.started'; startedBy: string; percentage: number; reason: string }
  | {
      type: 'rollout.step_advanced';
      fromPercentage: number;
      toPercentage: number;
      step: number;
      steps: number;
      by: string;
      approvals: ApprovalNote[];
      gates: CheckResult[];
    }
  | { type: 'rollout.awaiting_approval'; nextPercentage: number; approvalsNeeded: number; roles: string[]; gates: CheckResult[]; reason: string }
  | { type: 'rollout.gate_failing'; reason: string; reasonWording?: Wording; failing: CheckResult[] }
  | { type: 'rollout.paused'; reason: string; reasonWording?: Wording; by: string }
  | { type: 'rollout.resumed'; by: string }
  | {
      type: 'rollout.rolled_back';
      reason: string;
      reasonWording?: Wording;
      breaches: CheckResult[];
      killed: string[];
      samples?: { treatment: number; control: number };
    }
  | { type: 'rollout.completed'; percentage: number; gates: CheckResult[]; samples?: { treatment: number; control: number } }
  | { type: 'rollout.aborted'; reason: string; reasonWording?: Wording; by: string }
  | { type: 'rollout.scheduled'; startAt: string; by: string }
  | { type: 'pipeline.promoted'; pipeline: string; fromEnvironment: string; toEnvironment: string; rolloutId: string; rule?: string };

type DetailsOf<T extends RolloutEventType> = Omit<Extract<EventDetails, { type: T }>, 'type'>;

/** The plain JSON form of a rollout's event, exactly as a `format: json` webhook receives it. */
export type RolloutEvent = {
  [T in RolloutEventType]: { id: string; type: T; occurredAt: string; rollout: RolloutRef; details: DetailsOf<T>; links?: EventLinks };
}[RolloutEventType];

/** A kill switch a person flipped (or lifted) in one environment, with the rollout active there, if any. */
export interface FlagEvent {
  id: string;
  type: FlagEventType;
  occurredAt: string;
  flag: { name: string; environment: string };
  details: { reason: string; actor: string; at: string; rollout?: { id: string; policy: string; state: RolloutState; percentage: number } };
  links?: EventLinks;
}

/** Every event a webhook may receive; receivers switch on `type`. */
export type NotificationEvent = RolloutEvent | FlagEvent | AlertEvent | DrillEvent | TestEvent;

/** The event of a kill switch that moved; its id is fixed by flag, environment, kind and time, like a rollout event's. */
export function flagEvent(
  change: { flag: string; environment: string; killed: boolean; reason: string; actor: { name: string }; at: string },
  rollout: Pick<Rollout, 'id' | 'policy' | 'state' | 'percentage'> | undefined,
): FlagEvent {
  const type: FlagEventType = change.killed ? 'flag.killed' : 'flag.restored';
  return {
    id: `evt_${createHash('sha256').update(`flag|${change.flag}|${change.environment}|${type}|${change.at}`).digest('hex').slice(0, 32)}`,
    type,
    occurredAt: change.at,
    flag: { name: change.flag, environment: change.environment },
    details: {
      reason: change.reason,
      actor: change.actor.name,
      at: change.at,
      ...(rollout ? { rollout: { id: rollout.id, policy: rollout.policy, state: rollout.state, percentage: rollout.percentage } } : {}),
    },
  };
}

/**
 * The events one committed change of a rollout gives rise to, oldest first. `before` is null when
 * the rollout was just created. One change can hold several transitions (an approval that advances
 * at once, a start that enters the first step), so each new history entry is looked at in turn.
 */
export function deriveEvents(before: Rollout | null, after: Rollout): RolloutEvent[] {
  const events: RolloutEvent[] = [];
  // Gates are judged before the state machine moves on, so a failing verdict comes before any
  // pause it causes. Only the turn to failing is news: staying failing is not repeated. A step held
  // for a shared incident (control as bad as treatment) is news too, even when it was failing already.
  if (after.stepVerdict.kind === 'failing' && isJudged(after.state) && (!isFailing(before) || (after.stepVerdict.shared && !isFailing(before, true)))) {
    events.push(
      event(after, 'rollout.gate_failing', after.updatedAt, ref(after, after), {
        reason: after.stepVerdict.reason,
        ...(after.stepVerdict.reasonWording ? { reasonWording: after.stepVerdict.reasonWording } : {}),
        // With the rollback rules that hold it, breached in both cohorts.
        failing: [...after.gates, ...after.rollbackChecks.filter((c) => c.shared)].filter((c) => c.verdict === 'fail'),
      }),
    );
  }
  const seen = before?.history.length ?? 0;
  // What was served before each transition: the rollout's percentage, then each transition's.
  let served = before?.percentage ?? 0;
  after.history.slice(seen).forEach((t, i) => {
    const e = transitionEvent(after, t, seen + i, served);
    if (e) events.push(e);
    served = t.percentage;
  });
  return events;
}

/** Whether the step was failing before this change (held for a shared incident, with `shared`). */
function isFailing(r: Rollout | null, shared = false): boolean {
  return r?.stepVerdict.kind === 'failing' && (!shared || r.stepVerdict.shared === true);
}

function isJudged(state: RolloutState): boolean {
  return state === 'running' || state === 'awaiting_approval' || state === 'paused';
}

function transitionEvent(r: Rollout, t: Transition, index: number, servedBefore: number): RolloutEvent | null {
  const at = ref(r, t);
  switch (t.to) {
    case 'scheduled':
      // Only the transition a scheduled rollout is created with; its start later is told as rollout.started.
      return r.startAt && t.from === 'scheduled' ? rolloutScheduledEvent(at, { startAt: r.startAt, by: t.actor }, t.at) : null;
    case 'running':
      // Entering the first step, whether straight from pending or after its Go/No-Go.
      if (t.from === 'pending' || servedBefore === 0)
        return event(r, 'rollout.started', t.at, at, { startedBy: r.startedBy.name, percentage: t.percentage, reason: t.reason }, index);
      if (t.from === 'paused') return event(r, 'rollout.resumed', t.at, at, { by: t.actor }, index);
      return event(r, 'rollout.step_advanced', t.at, at, {
        fromPercentage: servedBefore,
        toPercentage: t.percentage,
        step: t.stepIndex + 1,
        steps: r.plan.steps.length,
        by: t.actor,
        approvals: (t.approvals ?? []).map((a) => ({ by: a.by.name, at: a.at, ...(a.comment ? { comment: a.comment } : {}) })),
        gates: t.gates ?? [],
      });
    case 'pending':
      // Resumed before it ever started (it was paused while waiting for its first change window).
      return t.from === 'paused' ? event(r, 'rollout.resumed', t.at, at, { by: t.actor }, index) : null;
    case 'awaiting_approval': {
      const nextIndex = nextStepIndex({ plan: r.plan, stepIndex: t.stepIndex, percentage: t.percentage });
      const next = nextIndex === undefined ? undefined : stepPlans(r.plan)[nextIndex];
      const given = r.approvals.filter((a) => a.step === nextIndex).length;
      return event(
        r,
        'rollout.awaiting_approval',
        t.at,
        at,
        {
          nextPercentage: next?.percentage ?? t.percentage,
          approvalsNeeded: Math.max(0, (next?.approval.required ?? 0) - given),
          roles: next?.approval.roles ?? [],
          gates: t.gates ?? [],
          reason: t.reason,
        },
        index,
      );
    }
    case 'paused':
      return event(r, 'rollout.paused', t.at, at, { ...reasonOf(t), by: t.actor }, index);
    case 'rolled_back':
      return event(
        r,
        'rollout.rolled_back',
        t.at,
        at,
        {
          ...reasonOf(t),
          // The values that tripped the rule, as they were at the moment of the kill.
          breaches: (t.rollbackChecks ?? []).filter((c) => c.verdict === 'fail'),
          killed: [r.flag, ...r.plan.killSwitches],
          ...(t.samples ? { samples: t.samples } : {}),
        },
        index,
      );
    case 'completed':
      return event(r, 'rollout.completed', t.at, at, { percentage: t.percentage, gates: t.gates ?? [], ...(t.samples ? { samples: t.samples } : {}) }, index);
    case 'aborted':
      return event(r, 'rollout.aborted', t.at, at, { ...reasonOf(t), by: t.actor }, index);
  }
}

/** A transition's reason, with its wording when the controller worded it. */
const reasonOf = (t: Transition) => ({ reason: t.reason, ...(t.reasonWording ? { reasonWording: t.reasonWording } : {}) });

function ref(r: Rollout, at: Pick<Rollout, 'stepIndex' | 'percentage'> & ({ state: RolloutState } | { to: RolloutState })): RolloutRef {
  return {
    id: r.id,
    flag: r.flag,
    ...(r.release ? { release: r.release } : {}),
    environment: r.environment,
    policy: r.policy,
    state: 'state' in at ? at.state : at.to,
    stepIndex: at.stepIndex,
    percentage: at.percentage,
  };
}

function event<T extends RolloutEventType>(
  r: Rollout,
  type: T,
  occurredAt: string,
  rollout: RolloutRef,
  details: DetailsOf<T>,
  historyIndex = -1,
): RolloutEvent {
  // `details` is checked against `type` at each call; the union cannot see that through the generic.
  return { id: eventId(r.id, type, occurredAt, historyIndex), type, occurredAt, rollout, details } as unknown as RolloutEvent;
}

/**
 * The same change always yields the same id (rollout, type, time and place in the history), so a
 * receiver can drop repeats and a retried outbox write lands on the same job instead of a twin.
 */
export function eventId(rolloutId: string, type: RolloutEventType, occurredAt: string, historyIndex: number): string {
  return `evt_${createHash('sha256').update(`${rolloutId}|${type}|${occurredAt}|${historyIndex}`).digest('hex').slice(0, 32)}`;
}
