import { type Policy, type StepPlan, stepPlans } from '../policies/policy-schema.js';
import { attributeGate } from './attribution.js';
import { evaluateGate } from './checks.js';
import { evaluateQueryGate } from './query-checks.js';
import { evaluateTraffic } from './traffic-checks.js';
import type { CheckResult, Measurements, Rollout, StepVerdict } from './rollout-model.js';
import type { Wording } from './reason-wording.js';
import {
  allOf,
  benefitOfTheDoubt,
  minimumDurationToGo,
  type Reason,
  ruleOnFlagSays,
  ruleSays,
  sharedBreach,
  treatmentSamplesSoFar,
  valueOver,
  worded,
} from './verdict-wording.js';

/**
 * Part of the decision core (decide.ts), pure: judges the current step's gates on the outcomes since
 * it began, and says where the step stands. `held`: rollback rules breached in both cohorts (a
 * shared incident, see attribution.ts), which hold the step as a failing gate does.
 */
export function judgeStep(r: Rollout, m: Measurements, now: Date, held: CheckResult[]): Rollout {
  const plan = stepPlans(r.plan)[r.stepIndex]!;
  const traffic = r.plan.traffic ? evaluateTraffic(r.plan.traffic, m, r.percentage) : [];
  const elapsed = now.getTime() - Date.parse(r.stepStartedAt);
  const samples = m.step.treatment.requests;
  const judged = r.plan.gates.map((gate, i) =>
    'query' in gate
      ? evaluateQueryGate(gate, i, m.queries)
      : withBenefitOfDoubt(attributeGate(r, gate, evaluateGate(gate, m.step, plan), m.step, plan), r.plan.benefitOfDoubt, plan, elapsed, samples),
  );
  const gates = [...traffic, ...judged, ...eachFlagsGates(r, m, plan, elapsed)];
  const failed = gates.filter((g) => g.verdict === 'fail');
  const checks = { ...r.checks };
  let stepVerdict: StepVerdict;
  if (held.length > 0 || failed.length > 0) {
    if (failed.length > 0) {
      checks.failed++;
      checks.consecutiveFailed++;
    }
    const reason = allOf([...held.map((check) => sharedBreach(check, 'rollback rule')), ...failed.map(describe)]);
    const shared = held.length > 0 || failed.some((g) => g.shared);
    stepVerdict = { kind: 'failing', ...worded(reason), ...(shared ? { shared: true } : {}) };
  } else {
    checks.consecutiveFailed = 0;
    // A flag of a release judged alone may have too little traffic to say anything: only the release's
    // gates over all its flags together wait for evidence; one flag's gates can only fail the step.
    const inconclusive = gates.find((g) => g.verdict === 'inconclusive' && g.flag === undefined);
    if (inconclusive) checks.inconclusive++;
    stepVerdict =
      elapsed < plan.minDurationMs
        ? { kind: 'waiting', ...worded(minimumDurationToGo(Math.ceil((plan.minDurationMs - elapsed) / 1000))) }
        : samples < plan.minSamples
          ? { kind: 'waiting', ...worded(treatmentSamplesSoFar(samples, plan.minSamples)) }
          : inconclusive
            ? { kind: 'waiting', ...worded(ruleSays(inconclusive.rule, reasonOf(inconclusive))) }
            : { kind: 'healthy' };
  }
  return { ...r, gates, checks, stepVerdict };
}

/**
 * A release's outcome gates judged on each of its flags alone (named by `flag`), beside the same
 * gates over all of them together: a regression in one switch of a module must not hide in the
 * others' traffic. PromQL gates and traffic checks are judged once, on the release.
 */
function eachFlagsGates(r: Rollout, m: Measurements, plan: StepPlan, elapsed: number): CheckResult[] {
  if (!m.perFlag) return [];
  return m.perFlag.flatMap(({ flag, step }) =>
    r.plan.gates.flatMap((gate) =>
      'query' in gate
        ? []
        : [
            {
              ...withBenefitOfDoubt(
                attributeGate(r, gate, evaluateGate(gate, step, plan), step, plan),
                r.plan.benefitOfDoubt,
                plan,
                elapsed,
                step.treatment.requests,
              ),
              flag,
            },
          ],
    ),
  );
}

/**
 * The policy's benefit of the doubt (policy-schema.ts `benefitOfDoubt`): a gate over its line but
 * not beyond doubt passes once the step has run `after` times its minimum duration and collected
 * `after` times its minimum samples, provided the typical user is at most `upTo` times over its line
 * (checks.ts `doubt`). Harm shown beyond doubt still fails at once; a regression most users feel (a
 * ×10 whose bounds are wide because few users are in the cohort) keeps holding until the step's
 * maximum duration pauses it; one heavy or failing user who happened to land in treatment does not.
 */
export function withBenefitOfDoubt(check: CheckResult, rule: Policy['benefitOfDoubt'], plan: StepPlan, elapsedMs: number, samples: number): CheckResult {
  if (!rule || !check.doubtful || check.verdict !== 'inconclusive') return check;
  if (elapsedMs < rule.after * plan.minDurationMs || samples < rule.after * plan.minSamples) return check;
  if (check.doubtful.excess > rule.upTo) return check;
  const { doubtful: _doubtful, ...rest } = check;
  return {
    ...rest,
    verdict: 'pass',
    ...worded(benefitOfTheDoubt(rule.after)),
    benefitOfDoubt: true,
  };
}

/** A failing check in words, with its unit. */
function describe(check: CheckResult): Wording {
  if (check.shared) return sharedBreach(check, 'gate');
  const why = check.reason === undefined ? valueOver(check) : reasonOf(check);
  return check.flag ? ruleOnFlagSays(check.rule, check.flag, why) : ruleSays(check.rule, why);
}

/** A check's reason as its wording, or as the text it was stored with (`undefined` written as before). */
const reasonOf = (check: CheckResult): Reason => check.reasonWording ?? String(check.reason);
