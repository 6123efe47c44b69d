import { stepPlans, type StepPlan } from '../policies/policy-schema.js';
import type { Approval, Decision, Person, Rollout } from './rollout-model.js';

/**
 * The rules of sign-off, pure: which step a rollout awaits, which approvals count for it, and
 * whether a person's approval may be recorded. An approval always names the step it is for, so a
 * repeated or late click can never approve a step its author did not see.
 */

/**
 * Whether the rollout has entered any step. Every step serves more than 0 % (the policy schema
 * refuses 0), and only a final abort sets 0 % again, so 0 % means the first step is still ahead:
 * the rollout is pending or waiting for its Go/No-Go.
 */
export function hasEnteredAStep(r: Pick<Rollout, 'percentage'>): boolean {
  return r.percentage > 0;
}

/** Index of the step the rollout would enter next, or undefined on its last step. */
export function nextStepIndex(r: Pick<Rollout, 'percentage' | 'stepIndex' | 'plan'>): number | undefined {
  const index = hasEnteredAStep(r) ? r.stepIndex + 1 : 0;
  return index < r.plan.steps.length ? index : undefined;
}

/** Index of the step the rollout is waiting to have approved, or undefined when it waits for none. */
export function awaitedStepIndex(r: Pick<Rollout, 'state' | 'percentage' | 'stepIndex' | 'plan'>): number | undefined {
  return r.state === 'awaiting_approval' ? nextStepIndex(r) : undefined;
}

/** Approvals that count towards entering step `index`. */
export function approvalsFor(r: Pick<Rollout, 'approvals'>, index: number): Approval[] {
  return r.approvals.filter((a) => a.step === index);
}

/** Approvals still to be used: those for steps not yet entered. */
export function unusedApprovals(r: Pick<Rollout, 'approvals' | 'percentage' | 'stepIndex' | 'plan'>): Approval[] {
  const next = nextStepIndex(r);
  return next === undefined ? [] : r.approvals.filter((a) => a.step >= next);
}

/** Whether step `index` has every approval its plan asks for. */
export function isApproved(r: Pick<Rollout, 'approvals'>, plan: StepPlan, index: number): boolean {
  return approvalsFor(r, index).length >= plan.approval.required;
}

type Refused = Extract<Decision, { kind: 'refused' }>;

function refused(refusal: Refused['refusal'], errorId: string, message: string, awaited: number | undefined, plans: StepPlan[]): Refused {
  return { kind: 'refused', refusal, errorId, message, details: { awaitingStep: awaited === undefined ? null : plans[awaited]!.percentage } };
}

/**
 * What an approve command may record. Returns the approval to add, the one the same person gave
 * before (the command is then idempotent and changes nothing), or a refusal that names the step
 * the rollout awaits.
 */
export function admitApproval(
  r: Rollout,
  input: { by: Person; comment?: string; step?: number; ahead?: boolean },
  at: string,
): { kind: 'new'; approval: Approval } | { kind: 'repeat'; approval: Approval } | Refused {
  const plans = stepPlans(r.plan);
  const awaited = awaitedStepIndex(r);
  const waits = awaited === undefined ? 'it awaits no approval' : `it awaits approval for ${plans[awaited]!.percentage}%`;
  if (r.state !== 'pending' && r.state !== 'running' && r.state !== 'awaiting_approval') {
    return refused('conflict', 'cannot_approve', `a ${r.state.replace('_', ' ')} rollout cannot be approved`, awaited, plans);
  }
  let target: number;
  if (input.step === undefined) {
    if (awaited === undefined)
      return refused('conflict', 'not_awaiting_approval', `nothing to approve: the rollout is ${r.state.replace('_', ' ')} and ${waits}`, awaited, plans);
    target = awaited;
  } else {
    target = plans.findIndex((p) => p.percentage === input.step);
    if (target < 0)
      return refused(
        'conflict',
        'no_such_step',
        `the plan has no ${input.step}% step (its steps: ${plans.map((p) => `${p.percentage}%`).join(', ')}); ${waits}`,
        awaited,
        plans,
      );
  }
  const label = `${plans[target]!.percentage}%`;
  // The same person approving the same step again (a double click, a retry) gets their first approval back.
  const mine = approvalsFor(r, target).find((a) => a.by.id === input.by.id);
  if (mine) return { kind: 'repeat', approval: mine };
  const next = nextStepIndex(r);
  const ahead = target !== awaited;
  if (ahead) {
    const reachable = next !== undefined && target >= next;
    if (!reachable) return refused('conflict', 'step_already_entered', `the ${label} step was entered already; ${waits}`, awaited, plans);
    if (!input.ahead)
      return refused(
        'conflict',
        'not_awaited_step',
        `the ${label} step is not awaiting approval; ${waits} (to approve a later step in advance, send "ahead": true)`,
        awaited,
        plans,
      );
  }
  const plan = plans[target]!;
  if (plan.approval.required === 0) return refused('conflict', 'approval_not_required', `the ${label} step needs no approval`, awaited, plans);
  if (isApproved(r, plan, target))
    return refused('conflict', 'step_already_approved', `the ${label} step already has the ${plan.approval.required} approval(s) it needs`, awaited, plans);
  // Separation of duties: whoever started a rollout cannot also sign it off.
  if (input.by.id === r.startedBy.id) return refused('forbidden', 'separation_of_duties', 'the person who started a rollout cannot approve it', awaited, plans);
  if (!input.by.role || !plan.approval.roles.includes(input.by.role))
    return refused('forbidden', 'role_not_allowed', `approving the ${label} step needs one of the roles ${plan.approval.roles.join(', ')}`, awaited, plans);
  const approval: Approval = { by: input.by, at, step: target, ...(input.comment ? { comment: input.comment } : {}), ...(ahead ? { ahead: true } : {}) };
  return { kind: 'new', approval };
}
