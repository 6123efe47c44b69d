import { changeWindowOpen } from '../policies/change-window.js';
import { stepPlans, type StepPlan } from '../policies/policy-schema.js';
import { evaluateGate, evaluateQueryGate, evaluateQueryRollbackRule, evaluateRollbackRule, evaluateTraffic } from './checks.js';
import type { Action, ActiveState, Approval, CheckResult, Decision, DecisionInput, Measurements, Person, Rollout, RolloutState, StepVerdict } from './rollout-model.js';
import { isFinal } from './rollout-model.js';

/**
 * The decision core: what a rollout does next, given what it was asked to consider and the time.
 * Pure: no I/O and no clock of its own, so every rule of a policy is a row in a table test.
 */
export function decide(rollout: Rollout, input: DecisionInput, now: Date): Decision {
  if (isFinal(rollout.state)) return refuse(409, 'rollout_finished', `the rollout is ${rollout.state}`);
  const at = now.toISOString();
  const r: Rollout = { ...rollout, updatedAt: at };
  switch (input.kind) {
    case 'analysis':
      return analyse(r, input.measurements, now);
    case 'provider-error': {
      const next = { ...r, lastEvaluatedAt: at, checks: { ...r.checks, providerErrors: r.checks.providerErrors + 1, inconclusive: r.checks.inconclusive + 1 } };
      // Without data nothing is known about the step: it can neither advance nor stay "healthy".
      if (next.state === 'running' || next.state === 'awaiting_approval') next.stepVerdict = { kind: 'waiting', reason: `metrics unavailable: ${input.error}` };
      return progress(next, now, 'controller');
    }
    case 'approve':
      return approve(r, input.by, input.comment, now);
    case 'reject':
      if (r.state !== 'awaiting_approval') return refuse(409, 'not_awaiting_approval', `the rollout is ${r.state}, not awaiting approval`);
      return decided(pause(r, now, `rejected by ${input.by.name}${input.comment ? `: ${input.comment}` : ''}`, input.by.name), []);
    case 'pause':
      if (r.state === 'paused') return refuse(409, 'already_paused', 'the rollout is already paused');
      return decided(pause(r, now, `paused by ${input.by.name}${input.comment ? `: ${input.comment}` : ''}`, input.by.name), []);
    case 'resume': {
      if (r.state !== 'paused') return refuse(409, 'not_paused', `the rollout is ${r.state}, not paused`);
      const to = r.pausedFrom === 'pending' ? 'pending' : 'running';
      // Resuming restarts the step's clock and window: a person has looked at it and wants it judged afresh.
      const resumed = transition({ ...r, stepStartedAt: at, stepTotals: undefined, stepVerdict: { kind: 'waiting', reason: 'step restarted on resume' }, pausedFrom: undefined, pauseReason: undefined }, to, now, `resumed by ${input.by.name}`, input.by.name);
      return progress(resumed, now, input.by.name);
    }
    case 'abort':
      return decided({ ...transition(r, 'aborted', now, `aborted by ${input.by.name}${input.comment ? `: ${input.comment}` : ''}`, input.by.name), percentage: 0 }, [{ kind: 'set-percentage', percentage: 0 }]);
  }
}

function analyse(r: Rollout, m: Measurements, now: Date): Decision {
  const at = now.toISOString();
  // Rollback rules are checked in every active state: waiting for approval, paused or outside a window.
  const rollbackChecks = r.plan.rollback.map((rule, i) => ('query' in rule ? evaluateQueryRollbackRule(rule, i, m.queries) : evaluateRollbackRule(rule, m.recent)));
  const breachingSince = rollbackChecks.map((check, i) => {
    const since = r.breachingSince[i] ?? null;
    if (check.verdict === 'fail') return since ?? at;
    // Inconclusive keeps the clock as it was: no evidence either way. A pass clears it.
    return check.verdict === 'inconclusive' ? since : null;
  });
  let next: Rollout = { ...r, rollbackChecks, breachingSince, lastEvaluatedAt: at, ...(m.stepTotals ? { stepTotals: m.stepTotals } : {}) };
  // A rollout that never exposed anyone (pending, or paused before it started) has nothing to roll back.
  const neverStarted = r.state === 'pending' || (r.state === 'paused' && r.pausedFrom === 'pending');
  const breached = neverStarted ? -1 : rollbackChecks.findIndex((check, i) => check.verdict === 'fail' && now.getTime() - Date.parse(breachingSince[i]!) >= r.plan.rollback[i]!.for);
  if (breached >= 0) {
    const check = rollbackChecks[breached]!;
    const reason = `rollback rule ${check.rule} breached: ${check.metric} ${check.value} over ${check.samples} requests`;
    const killed = transition(next, 'rolled_back', now, reason, 'controller', { rollbackChecks, samples: samplesOf(m) });
    return decided(killed, [{ kind: 'kill', flags: [r.flag, ...r.plan.killSwitches], reason }]);
  }
  // Gates are judged while waiting for approval too: an approval must not advance a step that has turned unhealthy.
  if (next.state === 'running' || next.state === 'awaiting_approval') {
    next = judgeStep(next, m, now);
    // A gate that fails on evidence (its always-valid bound past the line) is as good as a breach when the policy says so.
    const proven = r.plan.onGateFailure === 'rollback' ? next.gates.find((g) => g.verdict === 'fail' && g.confident) : undefined;
    if (proven) {
      const reason = `gate ${proven.rule} failed beyond doubt: ${proven.metric} ${proven.value} over ${proven.samples} requests${proven.test ? ` (bounds ${proven.test.lower} to ${proven.test.upper} at ${proven.test.confidence} confidence)` : ''}`;
      const killed = transition(next, 'rolled_back', now, reason, 'controller', { gates: next.gates, rollbackChecks, samples: samplesOf(m) });
      return decided(killed, [{ kind: 'kill', flags: [r.flag, ...r.plan.killSwitches], reason }]);
    }
  }
  return progress(next, now, 'controller', samplesOf(m));
}

/** Judges the current step's gates on the outcomes since it began. */
function judgeStep(r: Rollout, m: Measurements, now: Date): Rollout {
  const plan = stepPlans(r.plan)[r.stepIndex]!;
  const traffic = r.plan.traffic ? evaluateTraffic(r.plan.traffic, m.exposures ?? { on: 0, off: 0 }, r.percentage) : [];
  const gates = [...traffic, ...r.plan.gates.map((gate, i) => ('query' in gate ? evaluateQueryGate(gate, i, m.queries) : evaluateGate(gate, m.step, plan)))];
  const elapsed = now.getTime() - Date.parse(r.stepStartedAt);
  const samples = m.step.treatment.requests;
  const failed = gates.filter((g) => g.verdict === 'fail');
  const checks = { ...r.checks };
  let stepVerdict: StepVerdict;
  if (failed.length > 0) {
    checks.failed++;
    checks.consecutiveFailed++;
    stepVerdict = { kind: 'failing', reason: failed.map(describe).join('; ') };
  } else {
    checks.consecutiveFailed = 0;
    const inconclusive = gates.find((g) => g.verdict === 'inconclusive');
    if (inconclusive) checks.inconclusive++;
    stepVerdict =
      elapsed < plan.minDurationMs
        ? { kind: 'waiting', reason: `step minimum duration: ${Math.ceil((plan.minDurationMs - elapsed) / 1000)}s to go` }
        : samples < plan.minSamples
          ? { kind: 'waiting', reason: `${samples} of ${plan.minSamples} treatment samples` }
          : inconclusive
            ? { kind: 'waiting', reason: `${inconclusive.rule}: ${inconclusive.reason}` }
            : { kind: 'healthy' };
  }
  return { ...r, gates, checks, stepVerdict };
}

/** Moves the state machine on from what is already known: no new measurements are needed for this. */
function progress(r: Rollout, now: Date, actor: string, samples?: Transition['samples']): Decision {
  const plans = stepPlans(r.plan);
  const plan = plans[r.stepIndex]!;
  const window = changeWindowOpen(r.plan.windows, now);
  switch (r.state) {
    case 'pending':
      if (!window.open) return decided(r, []);
      return decided(enterStep(r, 0, plans[0]!, now, 'rollout started', actor), [{ kind: 'set-percentage', percentage: plans[0]!.percentage }]);
    case 'running': {
      if (r.stepVerdict.kind !== 'healthy') {
        const elapsed = now.getTime() - Date.parse(r.stepStartedAt);
        if (elapsed < plan.maxDurationMs) return decided(r, []);
        return decided(pause(r, now, `step ${r.stepIndex + 1} (${plan.percentage}%) did not pass its gates within its maximum duration: ${r.stepVerdict.reason}`, actor), []);
      }
      if (r.stepIndex === plans.length - 1) return decided(transition(r, 'completed', now, 'last step healthy', actor, { gates: r.gates, samples }), []);
      return advanceOrWait(r, plans, now, actor, samples);
    }
    case 'awaiting_approval':
      if (r.stepVerdict.kind !== 'healthy') return decided(r, []);
      return advanceOrWait(r, plans, now, actor, samples);
    case 'paused':
    case 'completed':
    case 'rolled_back':
    case 'aborted':
      return decided(r, []);
  }
}

function advanceOrWait(r: Rollout, plans: StepPlan[], now: Date, actor: string, samples?: Transition['samples']): Decision {
  const nextIndex = r.stepIndex + 1;
  const nextPlan = plans[nextIndex]!;
  const approvals = approvalsFor(r, nextIndex);
  if (approvals.length < nextPlan.approval.required) {
    if (r.state === 'awaiting_approval') return decided(r, []);
    return decided(transition(r, 'awaiting_approval', now, `step ${r.stepIndex + 1} healthy; ${nextPlan.approval.required - approvals.length} approval(s) needed for ${nextPlan.percentage}%`, actor, { gates: r.gates, samples }), []);
  }
  if (!changeWindowOpen(r.plan.windows, now).open) return decided(r, []);
  const advanced = enterStep(r, nextIndex, nextPlan, now, `advanced to ${nextPlan.percentage}%`, actor, { gates: r.gates, samples, approvals });
  return decided(advanced, [{ kind: 'set-percentage', percentage: nextPlan.percentage }]);
}

function approve(r: Rollout, by: Person, comment: string | undefined, now: Date): Decision {
  if (r.state !== 'running' && r.state !== 'awaiting_approval') return refuse(409, 'cannot_approve', `a ${r.state} rollout cannot be approved`);
  const plans = stepPlans(r.plan);
  const step = r.stepIndex + 1;
  const plan = plans[step];
  if (!plan) return refuse(409, 'no_next_step', 'the rollout is on its last step');
  // Separation of duties: whoever started a rollout cannot also sign it off.
  if (by.id === r.startedBy.id) return refuse(403, 'separation_of_duties', 'the person who started a rollout cannot approve it');
  if (!by.role || !plan.approval.roles.includes(by.role)) return refuse(403, 'role_not_allowed', `approving step ${step + 1} needs one of the roles ${plan.approval.roles.join(', ')}`);
  if (approvalsFor(r, step).some((a) => a.by.id === by.id)) return refuse(409, 'already_approved', `${by.name} already approved step ${step + 1}`);
  const approval: Approval = { by, at: now.toISOString(), step, ...(comment ? { comment } : {}) };
  const next = { ...r, approvals: [...r.approvals, approval] };
  // An approval takes effect at once when the step is already healthy: no need to wait for a tick.
  return progress(next, now, by.name);
}

function approvalsFor(r: Rollout, step: number): Approval[] {
  return r.approvals.filter((a) => a.step === step);
}

function enterStep(r: Rollout, index: number, plan: StepPlan, now: Date, reason: string, actor: string, extra: Partial<Transition> = {}): Rollout {
  const entered = transition(r, 'running', now, reason, actor, extra);
  return {
    ...entered,
    stepIndex: index,
    percentage: plan.percentage,
    stepStartedAt: now.toISOString(),
    stepTotals: undefined,
    stepVerdict: { kind: 'waiting', reason: 'step just started' },
    gates: [],
    checks: { ...entered.checks, consecutiveFailed: 0 },
    history: entered.history.map((t, i) => (i === entered.history.length - 1 ? { ...t, stepIndex: index, percentage: plan.percentage } : t)),
  };
}

function pause(r: Rollout, now: Date, reason: string, actor: string): Rollout {
  const from = r.state === 'paused' ? r.pausedFrom : (r.state as ActiveState);
  return { ...transition(r, 'paused', now, reason, actor), pausedFrom: from, pauseReason: reason };
}

type Transition = Rollout['history'][number];

function transition(r: Rollout, to: RolloutState, now: Date, reason: string, actor: string, extra: Partial<Transition> = {}): Rollout {
  const entry: Transition = { at: now.toISOString(), from: r.state, to, stepIndex: r.stepIndex, percentage: r.percentage, reason, actor, ...extra };
  return { ...r, state: to, history: [...r.history, entry] };
}

function samplesOf(m: Measurements): Transition['samples'] {
  return { treatment: m.step.treatment.requests, control: m.step.control.requests };
}

function describe(check: CheckResult): string {
  return check.reason ? `${check.rule}: ${check.reason}` : `${check.rule}: ${check.value} over ${check.samples} requests`;
}

function decided(next: Rollout, actions: Action[]): Decision {
  return { kind: 'decided', next, actions };
}

function refuse(status: number, errorId: string, message: string): Decision {
  return { kind: 'refused', status, errorId, message };
}
