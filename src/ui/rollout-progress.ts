import { changeWindowOpen } from '../policies/change-window.js';
import { stepPlans } from '../policies/policy-schema.js';
import { isFinal, type CheckResult, type Rollout } from '../rollouts/rollout-model.js';
import { requestsIn } from '../metrics/outcome-fields.js';

/**
 * Where a rollout stands and what it is waiting for, as the dashboard shows it: pure, from the
 * rollout document and the controller's clock. Nothing here changes with each second that passes
 * (durations are left as "since" and "minimum" for the browser to count down), so the answer's
 * ETag only changes when something actually happened.
 */

/** One condition for leaving the current step, and whether it holds. */
export type WaitItem =
  | { kind: 'time'; met: boolean; stepStartedAt: string; minDurationMs: number }
  | { kind: 'samples'; met: boolean; samples: number; minSamples: number }
  | { kind: 'gates'; met: boolean; pass: number; fail: number; inconclusive: number; total: number }
  | { kind: 'approval'; met: boolean; approvals: number; required: number; roles: string[]; forPercentage: number }
  | { kind: 'window'; met: boolean; reason?: string }
  | { kind: 'person'; met: false; reason: string };

export interface RolloutProgress {
  /** Percentages of the plan's steps, e.g. [1, 10, 50, 100]. */
  steps: number[];
  stepIndex: number;
  active: boolean;
  /** Conditions of the current step (none once the rollout is final). */
  waitingFor: WaitItem[];
}

/** Treatment requests counted in the current step, as far as the last analysis knows. */
export function stepSamples(rollout: Rollout): number {
  const fromGates = rollout.gates.filter((g) => g.cohort === 'treatment').map((g) => g.samples);
  return Math.max(0, rollout.stepTotals ? requestsIn(rollout.stepTotals.fields, 'treatment') : 0, ...fromGates);
}

function gateCounts(gates: CheckResult[]): { pass: number; fail: number; inconclusive: number } {
  const counts = { pass: 0, fail: 0, inconclusive: 0 };
  for (const g of gates) counts[g.verdict]++;
  return counts;
}

export function rolloutProgress(rollout: Rollout, now: Date): RolloutProgress {
  const plans = stepPlans(rollout.plan);
  const base = { steps: plans.map((p) => p.percentage), stepIndex: rollout.stepIndex, active: !isFinal(rollout.state) };
  const window = changeWindowOpen(rollout.plan.windows, now);
  const windowItem: WaitItem = { kind: 'window', met: window.open, ...(window.reason ? { reason: window.reason } : {}) };
  switch (rollout.state) {
    case 'completed':
    case 'rolled_back':
    case 'aborted':
      return { ...base, waitingFor: [] };
    case 'pending':
      return { ...base, waitingFor: [windowItem] };
    case 'paused':
      return { ...base, waitingFor: [{ kind: 'person', met: false, reason: rollout.pauseReason ?? 'paused' }] };
    case 'running':
    case 'awaiting_approval': {
      const plan = plans[rollout.stepIndex]!;
      const elapsed = now.getTime() - Date.parse(rollout.stepStartedAt);
      const samples = stepSamples(rollout);
      const counts = gateCounts(rollout.gates);
      // The last analysis's checks include the policy's traffic checks; before any, the policy's gates.
      const total = Math.max(rollout.gates.length, rollout.plan.gates.length);
      const items: WaitItem[] = [
        { kind: 'time', met: elapsed >= plan.minDurationMs, stepStartedAt: rollout.stepStartedAt, minDurationMs: plan.minDurationMs },
        { kind: 'samples', met: samples >= plan.minSamples, samples, minSamples: plan.minSamples },
        // Gates not judged yet (a step that just began) count as not passing.
        { kind: 'gates', met: counts.pass === total, ...counts, total },
      ];
      const next = plans[rollout.stepIndex + 1];
      if (next) {
        const approvals = rollout.approvals.filter((a) => a.step === rollout.stepIndex + 1).length;
        items.push({ kind: 'approval', met: approvals >= next.approval.required, approvals, required: next.approval.required, roles: next.approval.roles, forPercentage: next.percentage });
        items.push(windowItem);
      }
      return { ...base, waitingFor: items };
    }
  }
}
