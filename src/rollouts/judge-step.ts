import { stepPlans } from '../policies/policy-schema.js';
import { attributeGate, sharedText } from './attribution.js';
import { evaluateGate } from './checks.js';
import { evaluateQueryGate } from './query-checks.js';
import { evaluateTraffic } from './traffic-checks.js';
import type { CheckResult, Measurements, Rollout, StepVerdict } from './rollout-model.js';
import { metricText, samplesText } from './units.js';

/**
 * Part of the decision core (decide.ts), pure: judges the current step's gates on the outcomes since
 * it began, and says where the step stands. `held`: rollback rules breached in both cohorts (a
 * shared incident, see attribution.ts), which hold the step as a failing gate does.
 */
export function judgeStep(r: Rollout, m: Measurements, now: Date, held: CheckResult[]): Rollout {
  const plan = stepPlans(r.plan)[r.stepIndex]!;
  const traffic = r.plan.traffic ? evaluateTraffic(r.plan.traffic, m, r.percentage) : [];
  const judged = r.plan.gates.map((gate, i) =>
    'query' in gate ? evaluateQueryGate(gate, i, m.queries) : attributeGate(r, gate, evaluateGate(gate, m.step, plan), m.step, plan),
  );
  const gates = [...traffic, ...judged];
  const elapsed = now.getTime() - Date.parse(r.stepStartedAt);
  const samples = m.step.treatment.requests;
  const failed = gates.filter((g) => g.verdict === 'fail');
  const checks = { ...r.checks };
  let stepVerdict: StepVerdict;
  if (held.length > 0 || failed.length > 0) {
    if (failed.length > 0) {
      checks.failed++;
      checks.consecutiveFailed++;
    }
    const reason = [...held.map((check) => sharedText(check, 'rollback rule')), ...failed.map(describe)].join('; ');
    const shared = held.length > 0 || failed.some((g) => g.shared);
    stepVerdict = { kind: 'failing', reason, ...(shared ? { shared: true } : {}) };
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

/** A failing check in words, with its unit. */
function describe(check: CheckResult): string {
  if (check.shared) return sharedText(check, 'gate');
  return check.reason
    ? `${check.rule}: ${check.reason}`
    : `${check.rule}: ${metricText(check.metric, check.value)} over ${samplesText(check.metric, check.samples)}`;
}
