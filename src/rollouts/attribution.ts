import type { OutcomeTotals } from '../metrics/outcome-model.js';
import type { OutcomeGate, RollbackRule, StepPlan } from '../policies/policy-schema.js';
import { evaluateGate, evaluateRollbackRule } from './checks.js';
import type { CheckResult, Rollout } from './rollout-model.js';

/**
 * Attribution: "a breach that control shares is an incident, not the feature's fault". When a check
 * that would kill the flag fails for treatment, the very same check is judged on control over the
 * same window. If control breaches it too, the breach is shared: the rollout holds instead of
 * rolling back, and goes on by itself once it clears. Pure, like the rest of the decision core.
 *
 * "As bad" means: over the same line, judged the same way. Control must breach the rule's own
 * threshold with the rule's own minimum samples, and with a confidence its always-valid lower bound
 * must clear the line too (a control merely over the line by chance is inconclusive: not shared, so
 * the feature is rolled back as before). Why this and not "control's value close to treatment's":
 * the threshold is the line the policy drew for "bad enough to kill"; once control is past it,
 * killing the feature would not bring users back under it, and no margin needs tuning. A treatment
 * far worse than control during an incident is what a gate compared with control (`compare:
 * control`) is for, and those are never attributed: they already are the comparison.
 *
 * Not attributed, so judged on their own threshold as before:
 * - at 100 % (no control cohort left: a control measured earlier, at the last step or before the
 *   rollout, cannot tell an incident happening now from the feature);
 * - rules and gates on the control cohort, comparisons with control, and PromQL rules (a query need
 *   not tell cohorts apart, so control would always look "as bad");
 * - policies with `onSharedBreach: rollback`, and plans stored before the field existed (rollouts
 *   keep the behaviour they started with).
 */

/** Whether the rollout's breaches are attributed at all (see above). */
export function attributes(r: Pick<Rollout, 'plan' | 'percentage'>): boolean {
  return r.plan.onSharedBreach === 'hold' && r.percentage < 100;
}

/** A failing treatment rollback rule, with control's figures and, when control breaches it too, `shared`. */
export function attributeRollbackRule(r: Pick<Rollout, 'plan' | 'percentage'>, rule: RollbackRule, check: CheckResult, recent: OutcomeTotals): CheckResult {
  if (!attributes(r) || rule.cohort !== 'treatment' || check.verdict !== 'fail') return check;
  const control = evaluateRollbackRule({ ...rule, cohort: 'control' }, recent);
  return withControl(check, control, control.verdict === 'fail');
}

/**
 * An absolute treatment gate failing beyond doubt under `onGateFailure: rollback` (the only gate
 * failure that kills), with control's figures and, when control fails it beyond doubt too, `shared`.
 */
export function attributeGate(
  r: Pick<Rollout, 'plan' | 'percentage'>,
  gate: OutcomeGate,
  check: CheckResult,
  totals: OutcomeTotals,
  plan: StepPlan,
): CheckResult {
  if (!attributes(r) || r.plan.onGateFailure !== 'rollback' || !('max' in gate) || gate.cohort !== 'treatment') return check;
  if (check.verdict !== 'fail' || !check.confident) return check;
  const control = evaluateGate({ ...gate, cohort: 'control' }, totals, plan);
  return withControl(check, control, control.verdict === 'fail' && control.confident === true);
}

function withControl(check: CheckResult, control: CheckResult, shared: boolean): CheckResult {
  return {
    ...check,
    cohorts: { treatment: { value: check.value, samples: check.samples }, control: { value: control.value, samples: control.samples } },
    ...(shared ? { shared: true } : {}),
  };
}
