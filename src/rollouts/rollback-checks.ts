import type { AnyRollbackRule } from '../policies/policy-schema.js';
import { attributeRollbackRule } from './attribution.js';
import { evaluateRollbackRule } from './checks.js';
import { evaluateQueryRollbackRule } from './query-checks.js';
import type { CheckResult, Measurements, Rollout } from './rollout-model.js';

/**
 * Part of the decision core, pure: the policy's rollback rules over the last interval, each with the
 * time since when it has been breached. A release's outcome rules are also judged on each of its
 * flags alone (named by `flag`), so one switch's failure cannot hide in the module's traffic; every
 * result keeps its own breach clock, by position, which stays the same for the life of the rollout
 * (the plan and the release's flags do not change).
 */
export function judgeRollbackRules(
  r: Rollout,
  m: Measurements,
  at: string,
): { checks: CheckResult[]; rules: AnyRollbackRule[]; breachingSince: Array<string | null> } {
  const checks: CheckResult[] = [];
  const rules: AnyRollbackRule[] = [];
  r.plan.rollback.forEach((rule, i) => {
    rules.push(rule);
    // A failing rule on treatment is judged on control too (attribution.ts): a breach control shares holds, it does not kill.
    checks.push(
      'query' in rule ? evaluateQueryRollbackRule(rule, i, m.queries) : attributeRollbackRule(r, rule, evaluateRollbackRule(rule, m.recent), m.recent),
    );
  });
  for (const { flag, recent } of m.perFlag ?? []) {
    for (const rule of r.plan.rollback) {
      if ('query' in rule) continue;
      rules.push(rule);
      checks.push({ ...attributeRollbackRule(r, rule, evaluateRollbackRule(rule, recent), recent), flag });
    }
  }
  const breachingSince = checks.map((check, i) => {
    const since = r.breachingSince[i] ?? null;
    if (check.verdict === 'fail') return since ?? at;
    // Inconclusive keeps the clock as it was: no evidence either way. A pass clears it.
    return check.verdict === 'inconclusive' ? since : null;
  });
  return { checks, rules, breachingSince };
}

/**
 * The rollback results that hold the step for an incident control shares. A shared breach holds
 * from its first analysis: `for` keeps noise from killing, while holding costs nothing, and a rollout
 * must not widen in the middle of an incident. An analysis too thin to judge (too few requests in
 * the last interval) does not end the incident either: while the rule's breach clock still runs,
 * the last shared evidence keeps holding.
 */
export function heldByIncident(r: Rollout, checks: CheckResult[], breachingSince: Array<string | null>): CheckResult[] {
  return checks.flatMap((check, i) => {
    if (check.verdict === 'fail') return check.shared ? [check] : [];
    const before = r.rollbackChecks[i];
    return check.verdict === 'inconclusive' && breachingSince[i] !== null && before?.shared ? [before] : [];
  });
}
