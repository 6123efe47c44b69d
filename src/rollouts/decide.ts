import { isWindowOpen } from '../policies/change-window.js';
import { formatDuration } from '../policies/durations.js';
import { stepPlans, type StepPlan } from '../policies/policy-schema.js';
import { heldByIncident, judgeRollbackRules } from './rollback-checks.js';
import type { Action, ActiveState, Decision, DecisionInput, Measurements, Refusal, Rollout, RolloutState } from './rollout-model.js';
import { isFinal, isWatching, rolloutFlags } from './rollout-model.js';
import {
  abortedBy,
  advancedTo,
  approvalsNeeded,
  gateFailedBeyondDoubt,
  goNoGoNeeds,
  lastStepHealthy,
  lastStepHealthyWatching,
  pausedBy,
  rejectedBy,
  resumedBy,
  rolledBackBy,
  rolloutStarted,
  ruleBreached,
  say,
  scheduledStart,
  stepHealthyNeeds,
  timedOut,
  type Wording,
} from './reason-wording.js';
import { admitApproval, approvalsFor, hasEnteredAStep, nextStepIndex, unusedApprovals } from './approvals.js';
import { judgeStep } from './judge-step.js';
import { goNoGo, metricsUnavailable, stepJustStarted, stepRestartedOnResume, worded } from './verdict-wording.js';

/**
 * The decision core: what a rollout does next, given what it was asked to consider and the time.
 * Pure: no I/O and no clock of its own, so every rule of a policy is a row in a table test.
 */
export function decide(rollout: Rollout, input: DecisionInput, now: Date): Decision {
  // A completed rollout that still watches (watchAfterCompletion) is analysed, and may be rolled back, nothing else.
  const watched = isWatching(rollout) && (input.kind === 'analysis' || input.kind === 'provider-error' || input.kind === 'rollback');
  if (isFinal(rollout.state) && !watched) return refuse('conflict', 'rollout_finished', `the rollout is ${rollout.state.replace('_', ' ')}`);
  const at = now.toISOString();
  const r: Rollout = { ...rollout, updatedAt: at };
  if (watched && now.getTime() >= Date.parse(rollout.watchUntil!)) {
    // The watch is over: no more analysis, no more kill. Written without watchUntil, the rollout is done for good.
    const { watchUntil: _until, ...done } = r;
    return decided({ ...done, lastEvaluatedAt: at }, []);
  }
  if (r.state === 'scheduled') {
    const started = startIfDue(r, input, now);
    if (started) return started;
  }
  switch (input.kind) {
    case 'analysis':
      return analyse(r, input.measurements, now);
    case 'provider-error': {
      const next = { ...r, lastEvaluatedAt: at, checks: { ...r.checks, providerErrors: r.checks.providerErrors + 1, inconclusive: r.checks.inconclusive + 1 } };
      // Without data nothing is known about the step: it can neither advance nor stay "healthy".
      if (next.state === 'running' || next.state === 'awaiting_approval') next.stepVerdict = { kind: 'waiting', ...worded(metricsUnavailable(input.error)) };
      return progress(next, now, 'controller');
    }
    case 'approve': {
      const admitted = admitApproval(rollout, input, at);
      if (admitted.kind === 'refused') return admitted;
      // A repeated approval changes nothing: the rollout is answered as it stands, with the first approval.
      if (admitted.kind === 'repeat') return { kind: 'decided', next: rollout, actions: [], approval: admitted.approval };
      // It takes effect at once when the step is already healthy: no need to wait for a tick.
      const decision = progress({ ...r, approvals: [...r.approvals, admitted.approval] }, now, input.by.name);
      return decision.kind === 'decided' ? { ...decision, approval: admitted.approval } : decision;
    }
    case 'reject':
      if (r.state !== 'awaiting_approval')
        return refuse('conflict', 'not_awaiting_approval', `the rollout is ${r.state.replace('_', ' ')}, not awaiting approval`);
      return decided(pause(r, now, rejectedBy(input.by.name, input.comment), input.by.name), []);
    case 'pause':
      if (r.state === 'scheduled') return refuse('conflict', 'not_started', `the rollout is scheduled for ${r.startAt}: abort it to cancel it`);
      if (r.state === 'paused') return refuse('conflict', 'already_paused', 'the rollout is already paused');
      return decided(pause(r, now, pausedBy(input.by.name, input.comment), input.by.name, alertOf(input)), []);
    case 'resume': {
      if (r.state !== 'paused') return refuse('conflict', 'not_paused', `the rollout is ${r.state.replace('_', ' ')}, not paused`);
      // Before its first step (waiting for a window or its Go/No-Go) it starts over from pending.
      const to = hasEnteredAStep(r) ? 'running' : 'pending';
      // Resuming restarts the step's clock and window: a person has looked at it and wants it judged afresh.
      const { pausedFrom: _from, pauseReason: _reason, ...unpaused } = r;
      const resumed = transition(
        {
          ...unpaused,
          state: to,
          stepStartedAt: at,
          stepTotals: undefined,
          trafficSettledAt: undefined,
          stepVerdict: { kind: 'waiting', ...worded(stepRestartedOnResume()) },
        },
        to,
        now,
        resumedBy(input.by.name),
        input.by.name,
        alertOf(input),
        'paused',
      );
      return progress(resumed, now, input.by.name);
    }
    case 'abort':
      return decided({ ...transition(r, 'aborted', now, abortedBy(input.by.name, input.comment), input.by.name), percentage: 0 }, [
        { kind: 'set-percentage', percentage: 0 },
      ]);
    case 'rollback': {
      // The same kill as a breached rule, on someone's word (an incoming alert): there is no measurement to show.
      const reason = rolledBackBy(input.by.name, input.comment);
      return decided(transition(r, 'rolled_back', now, reason, input.by.name, alertOf(input)), [
        { kind: 'kill', flags: [...rolloutFlags(r), ...r.plan.killSwitches], reason: say(reason) },
      ]);
    }
  }
}

/** The alert a command came from, for its transition. */
function alertOf(input: { alert?: Transition['alert'] }): Partial<Transition> {
  return input.alert ? { alert: input.alert } : {};
}

/**
 * A scheduled rollout's analysis: nothing before `startAt` (the flag serves nobody from its owned
 * strategy at 0 %), then pending, and on as any rollout from there (window, Go/No-Go, first step).
 * Commands other than an analysis fall through to the usual rules.
 */
function startIfDue(r: Rollout, input: DecisionInput, now: Date): Decision | undefined {
  if (input.kind !== 'analysis' && input.kind !== 'provider-error') return undefined;
  if (now.getTime() < Date.parse(r.startAt!)) return decided({ ...r, lastEvaluatedAt: now.toISOString() }, []);
  const due = transition(r, 'pending', now, scheduledStart(r.startAt!), 'schedule');
  return progress({ ...due, stepStartedAt: now.toISOString(), lastEvaluatedAt: now.toISOString() }, now, 'schedule');
}

function analyse(r: Rollout, m: Measurements, now: Date): Decision {
  const at = now.toISOString();
  // Rollback rules are checked in every active state: waiting for approval, paused or outside a window.
  const { checks: rollbackChecks, rules, breachingSince } = judgeRollbackRules(r, m, at);
  let next: Rollout = {
    ...r,
    rollbackChecks,
    breachingSince,
    lastEvaluatedAt: at,
    ...(m.stepTotals ? { stepTotals: m.stepTotals } : {}),
    // Once the step's traffic counts, from when is kept: it never moves for the rest of the step.
    ...(m.trafficWindow?.kind === 'counting' && !r.trafficSettledAt ? { trafficSettledAt: new Date(m.trafficWindow.since).toISOString() } : {}),
  };
  // A rollout that never exposed anyone (before its first step, or paused there) has nothing to roll back.
  const neverStarted = !hasEnteredAStep(r);
  // The breach clock runs the same whether control shares the breach or not: one in treatment alone
  // kills as fast as ever, and one that stays in treatment once control recovers kills at once.
  const breached = neverStarted
    ? -1
    : rollbackChecks.findIndex((check, i) => check.verdict === 'fail' && !check.shared && now.getTime() - Date.parse(breachingSince[i]!) >= rules[i]!.for);
  const held = neverStarted ? [] : heldByIncident(r, rollbackChecks, breachingSince);
  if (breached >= 0) {
    const check = rollbackChecks[breached]!;
    const reason = ruleBreached(check, r.state === 'completed' ? r.plan.watchAfterCompletion : undefined);
    return rollBack(next, m, now, reason, { rollbackChecks, cause: { ...check, kind: 'rollback-rule' } });
  }
  // Gates are judged while waiting for approval too: an approval must not advance a step that has turned unhealthy.
  if ((next.state === 'running' || next.state === 'awaiting_approval') && !neverStarted) {
    next = judgeStep(next, m, now, held);
    // A gate that fails on evidence (its always-valid bound past the line) is as good as a breach when the policy says so,
    // unless control fails it beyond doubt too (a shared incident: it holds).
    const proven = r.plan.onGateFailure === 'rollback' ? next.gates.find((g) => g.verdict === 'fail' && g.confident && !g.shared) : undefined;
    if (proven) {
      return rollBack(next, m, now, gateFailedBeyondDoubt(proven), { gates: next.gates, rollbackChecks, cause: { ...proven, kind: 'gate' } });
    }
  }
  return progress(next, now, 'controller', samplesOf(m));
}

/** Flips the kill switch of the flag and of the policy's killSwitches: the rollout ends rolled_back, with the evidence. */
function rollBack(r: Rollout, m: Measurements, now: Date, reason: Wording, evidence: Partial<Transition>): Decision {
  const killed = transition(r, 'rolled_back', now, reason, 'controller', { ...evidence, samples: samplesOf(m) });
  return decided(killed, [{ kind: 'kill', flags: [...rolloutFlags(r), ...r.plan.killSwitches], reason: say(reason) }]);
}

/** Moves the state machine on from what is already known: no new measurements are needed for this. */
function progress(r: Rollout, now: Date, actor: string, samples?: Transition['samples']): Decision {
  const plans = stepPlans(r.plan);
  const plan = plans[r.stepIndex]!;
  switch (r.state) {
    case 'scheduled':
      return decided(r, []);
    case 'pending':
      if (!isWindowOpen(r.plan.windows, now)) return decided(r, []);
      return advanceOrWait(r, plans, now, actor);
    case 'running': {
      if (r.stepVerdict.kind !== 'healthy') {
        const elapsed = now.getTime() - Date.parse(r.stepStartedAt);
        if (elapsed < plan.maxDurationMs) return decided(r, []);
        return decided(pause(r, now, timedOut(plan.percentage, r.stepVerdict.reasonWording ?? r.stepVerdict.reason), actor), []);
      }
      if (r.stepIndex === plans.length - 1) return decided(complete(r, now, actor, samples), []);
      return advanceOrWait(r, plans, now, actor, samples);
    }
    case 'awaiting_approval':
      // The Go/No-Go has no step to judge yet; a later step must stay healthy until it is approved.
      if (hasEnteredAStep(r) && r.stepVerdict.kind !== 'healthy') return decided(r, []);
      return advanceOrWait(r, plans, now, actor, samples);
    case 'paused':
    case 'completed':
    case 'rolled_back':
    case 'aborted':
      return decided(r, []);
  }
}

/** Enters the next step (the first one from pending) when it is approved and a window is open, or waits for approval. */
function advanceOrWait(r: Rollout, plans: StepPlan[], now: Date, actor: string, samples?: Transition['samples']): Decision {
  const nextIndex = nextStepIndex(r)!;
  const nextPlan = plans[nextIndex]!;
  const approvals = approvalsFor(r, nextIndex);
  const first = nextIndex === 0;
  if (approvals.length < nextPlan.approval.required) {
    if (r.state === 'awaiting_approval') return decided(r, []);
    const needed = approvalsNeeded(nextPlan.approval.required - approvals.length, nextPlan.approval.roles.join(' or '), nextPlan.percentage);
    // The Go/No-Go: a first step that asks for approval serves nothing until it is given.
    const reason = first ? goNoGoNeeds(needed) : stepHealthyNeeds(plans[r.stepIndex]!.percentage, needed);
    const waiting = transition(r, 'awaiting_approval', now, reason, actor, first ? {} : { gates: r.gates, samples });
    return decided(first ? { ...waiting, stepVerdict: { kind: 'waiting', ...worded(goNoGo(nextPlan.percentage)) } } : waiting, []);
  }
  if (!isWindowOpen(r.plan.windows, now)) return decided(r, []);
  // A not-before time on the step (the plan's "full release on the 18th at 10:00"): approved and healthy, it waits.
  const notBefore = r.notBefore?.[String(nextPlan.percentage)];
  if (notBefore && now.getTime() < Date.parse(notBefore)) return decided(r, []);
  const reason = first ? rolloutStarted() : advancedTo(nextPlan.percentage);
  const advanced = enterStep(
    r,
    nextIndex,
    nextPlan,
    now,
    reason,
    actor,
    first ? (approvals.length ? { approvals } : {}) : { gates: r.gates, samples, approvals },
  );
  return decided(advanced, [{ kind: 'set-percentage', percentage: nextPlan.percentage }]);
}

/** The last step was healthy. With watchAfterCompletion, the rollback rules keep watching until watchUntil. */
function complete(r: Rollout, now: Date, actor: string, samples?: Transition['samples']): Rollout {
  const watch = r.plan.watchAfterCompletion; // undefined in plans stored before it existed: no watch
  if (!(watch > 0)) return transition(r, 'completed', now, lastStepHealthy(), actor, { gates: r.gates, samples });
  const until = new Date(now.getTime() + watch).toISOString();
  const reason = lastStepHealthyWatching(until, formatDuration(watch));
  return { ...transition(r, 'completed', now, reason, actor, { gates: r.gates, samples }), watchUntil: until };
}

function enterStep(r: Rollout, index: number, plan: StepPlan, now: Date, reason: Reason, actor: string, extra: Partial<Transition> = {}): Rollout {
  const entered = transition(r, 'running', now, reason, actor, extra);
  return {
    ...entered,
    stepIndex: index,
    percentage: plan.percentage,
    stepStartedAt: now.toISOString(),
    stepTotals: undefined,
    trafficSettledAt: undefined,
    stepVerdict: { kind: 'waiting', ...worded(stepJustStarted()) },
    gates: [],
    checks: { ...entered.checks, consecutiveFailed: 0 },
    history: entered.history.map((t, i) => (i === entered.history.length - 1 ? { ...t, stepIndex: index, percentage: plan.percentage } : t)),
  };
}

/**
 * Pauses the rollout. Approvals not yet used become void: they were given for what the approver saw
 * before the pause, and the step is judged afresh on resume, so it must be approved afresh too.
 */
function pause(r: Rollout, now: Date, reason: Reason, actor: string, extra: Partial<Transition> = {}): Rollout {
  const from: ActiveState = r.state === 'paused' ? r.pausedFrom : (r.state as ActiveState);
  const voided = unusedApprovals(r);
  const kept = voided.length ? r.approvals.filter((a) => !voided.includes(a)) : r.approvals;
  const entry = transitionEntry(r, 'paused', now, reason, actor, voided.length ? { ...extra, voidedApprovals: voided } : extra);
  return { ...r, approvals: kept, state: 'paused', pausedFrom: from, pauseReason: entry.reason, history: [...r.history, entry] };
}

type Transition = Rollout['history'][number];
/** A reason as text, or as its wording (kept beside the English text, to be said in other languages). */
type Reason = string | Wording;

function transitionEntry(
  r: Rollout,
  to: RolloutState,
  now: Date,
  reason: Reason,
  actor: string,
  extra: Partial<Transition>,
  from: RolloutState = r.state,
): Transition {
  const worded = typeof reason === 'string' ? { reason } : { reason: say(reason), reasonWording: reason };
  return { at: now.toISOString(), from, to, stepIndex: r.stepIndex, percentage: r.percentage, ...worded, actor, ...extra };
}

/** Moves a rollout to any state but paused (pause() builds that one, with where it came from and why). A watch ends with any transition. */
function transition(
  r: Rollout,
  to: Exclude<RolloutState, 'paused'>,
  now: Date,
  reason: Reason,
  actor: string,
  extra: Partial<Transition> = {},
  from: RolloutState = r.state,
): Rollout {
  const { pausedFrom: _from, pauseReason: _reason, watchUntil: _until, ...rest } = r;
  return { ...rest, state: to, history: [...r.history, transitionEntry(r, to, now, reason, actor, extra, from)] };
}

function samplesOf(m: Measurements): Transition['samples'] {
  return { treatment: m.step.treatment.requests, control: m.step.control.requests };
}

function decided(next: Rollout, actions: Action[]): Decision {
  return { kind: 'decided', next, actions };
}

function refuse(refusal: Refusal, errorId: string, message: string): Decision {
  return { kind: 'refused', refusal, errorId, message };
}
