import { createHash } from 'node:crypto';
import { stepPlans } from '../policies/policy-schema.js';
import type { CheckResult, Rollout, RolloutState, Transition } from '../rollouts/rollout-model.js';
import { nextStepIndex } from '../rollouts/approvals.js';

/**
 * What a release manager is told about. Derived, not recorded: the rollout document and its history
 * are the record; an event is a view of one change of it, made by a pure function so that every rule
 * ("tell once when gates start failing, not at every analysis") is a row in a table test.
 */
export const EVENT_TYPES = [
  'rollout.started',
  'rollout.step_advanced',
  'rollout.awaiting_approval',
  'rollout.gate_failing',
  'rollout.paused',
  'rollout.resumed',
  'rollout.rolled_back',
  'rollout.completed',
  'rollout.aborted',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** The rollout as it stood when the event happened (for a transition: right after it). */
export type RolloutRef = Pick<Rollout, 'id' | 'flag' | 'environment' | 'policy' | 'state' | 'stepIndex' | 'percentage'>;

export interface ApprovalNote {
  by: string;
  at: string;
  comment?: string;
}

/** One union for every event; receivers switch on `type`. */
export type EventDetails =
  | { type: 'rollout.started'; startedBy: string; percentage: number; reason: string }
  | { type: 'rollout.step_advanced'; fromPercentage: number; toPercentage: number; step: number; steps: number; by: string; approvals: ApprovalNote[]; gates: CheckResult[] }
  | { type: 'rollout.awaiting_approval'; nextPercentage: number; approvalsNeeded: number; roles: string[]; gates: CheckResult[]; reason: string }
  | { type: 'rollout.gate_failing'; reason: string; failing: CheckResult[] }
  | { type: 'rollout.paused'; reason: string; by: string }
  | { type: 'rollout.resumed'; by: string }
  | { type: 'rollout.rolled_back'; reason: string; breaches: CheckResult[]; killed: string[]; samples?: { treatment: number; control: number } }
  | { type: 'rollout.completed'; percentage: number; gates: CheckResult[]; samples?: { treatment: number; control: number } }
  | { type: 'rollout.aborted'; reason: string; by: string };

type DetailsOf<T extends EventType> = Omit<Extract<EventDetails, { type: T }>, 'type'>;

/** The plain JSON form of an event, exactly as a `format: json` webhook receives it. */
export type RolloutEvent = {
  [T in EventType]: { id: string; type: T; occurredAt: string; rollout: RolloutRef; details: DetailsOf<T> };
}[EventType];

/**
 * The events one committed change of a rollout gives rise to, oldest first. `before` is null when
 * the rollout was just created. One change can hold several transitions (an approval that advances
 * at once, a start that enters the first step), so each new history entry is looked at in turn.
 */
export function deriveEvents(before: Rollout | null, after: Rollout): RolloutEvent[] {
  const events: RolloutEvent[] = [];
  // Gates are judged before the state machine moves on, so a failing verdict comes before any
  // pause it causes. Only the turn to failing is news: staying failing is not repeated.
  if (after.stepVerdict.kind === 'failing' && before?.stepVerdict.kind !== 'failing' && isJudged(after.state)) {
    events.push(
      event(after, 'rollout.gate_failing', after.updatedAt, ref(after, after), {
        reason: after.stepVerdict.reason,
        failing: after.gates.filter((g) => g.verdict === 'fail'),
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

function isJudged(state: RolloutState): boolean {
  return state === 'running' || state === 'awaiting_approval' || state === 'paused';
}

function transitionEvent(r: Rollout, t: Transition, index: number, servedBefore: number): RolloutEvent | null {
  const at = ref(r, t);
  switch (t.to) {
    case 'running':
      // Entering the first step, whether straight from pending or after its Go/No-Go.
      if (t.from === 'pending' || servedBefore === 0) return event(r, 'rollout.started', t.at, at, { startedBy: r.startedBy.name, percentage: t.percentage, reason: t.reason }, index);
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
      return event(r, 'rollout.awaiting_approval', t.at, at, {
        nextPercentage: next?.percentage ?? t.percentage,
        approvalsNeeded: Math.max(0, (next?.approval.required ?? 0) - given),
        roles: next?.approval.roles ?? [],
        gates: t.gates ?? [],
        reason: t.reason,
      }, index);
    }
    case 'paused':
      return event(r, 'rollout.paused', t.at, at, { reason: t.reason, by: t.actor }, index);
    case 'rolled_back':
      return event(r, 'rollout.rolled_back', t.at, at, {
        reason: t.reason,
        // The values that tripped the rule, as they were at the moment of the kill.
        breaches: (t.rollbackChecks ?? []).filter((c) => c.verdict === 'fail'),
        killed: [r.flag, ...r.plan.killSwitches],
        ...(t.samples ? { samples: t.samples } : {}),
      }, index);
    case 'completed':
      return event(r, 'rollout.completed', t.at, at, { percentage: t.percentage, gates: t.gates ?? [], ...(t.samples ? { samples: t.samples } : {}) }, index);
    case 'aborted':
      return event(r, 'rollout.aborted', t.at, at, { reason: t.reason, by: t.actor }, index);
  }
}

function ref(r: Rollout, at: Pick<Rollout, 'stepIndex' | 'percentage'> & ({ state: RolloutState } | { to: RolloutState })): RolloutRef {
  return {
    id: r.id,
    flag: r.flag,
    environment: r.environment,
    policy: r.policy,
    state: 'state' in at ? at.state : at.to,
    stepIndex: at.stepIndex,
    percentage: at.percentage,
  };
}

function event<T extends EventType>(r: Rollout, type: T, occurredAt: string, rollout: RolloutRef, details: DetailsOf<T>, historyIndex = -1): RolloutEvent {
  // `details` is checked against `type` at each call; the union cannot see that through the generic.
  return { id: eventId(r.id, type, occurredAt, historyIndex), type, occurredAt, rollout, details } as unknown as RolloutEvent;
}

/**
 * The same change always yields the same id (rollout, type, time and place in the history), so a
 * receiver can drop repeats and a retried outbox write lands on the same job instead of a twin.
 */
export function eventId(rolloutId: string, type: EventType, occurredAt: string, historyIndex: number): string {
  return `evt_${createHash('sha256').update(`${rolloutId}|${type}|${occurredAt}|${historyIndex}`).digest('hex').slice(0, 32)}`;
}
