import type { QueryGate, QueryRollbackRule } from '../policies/policy-schema.js';
import type { QueryResult } from '../metrics/prometheus/query-result.js';
import type { CheckResult } from './rollout-model.js';
import { result, rollbackRuleText } from './checks.js';
import { noQueryResult, type Reason } from './verdict-wording.js';

/**
 * Checks on PromQL queries (src/metrics/prometheus): which queries an analysis runs, and how their
 * values become verdicts. Samples are not known to a query, so they are reported as 0.
 */

/** Where a query check's result is kept in Measurements.queries. */
export const queryKey = {
  gate: (index: number, cohort: 'treatment' | 'control') => `gate:${index}:${cohort}`,
  rollback: (index: number) => `rollback:${index}`,
};

/** The queries an analysis must run for a rollout's checks: key, template, cohort and window. */
export function queriesFor(
  gates: Array<{ index: number; gate: QueryGate }>,
  rules: Array<{ index: number; rule: QueryRollbackRule }>,
  stepWindowMs: number,
  recentWindowMs: number,
): Array<{ key: string; query: string; cohort: 'treatment' | 'control'; windowMs: number }> {
  const out: Array<{ key: string; query: string; cohort: 'treatment' | 'control'; windowMs: number }> = [];
  for (const { index, gate } of gates) {
    const cohorts = 'compare' in gate ? (['treatment', 'control'] as const) : [gate.cohort];
    for (const cohort of cohorts) out.push({ key: queryKey.gate(index, cohort), query: gate.query, cohort, windowMs: stepWindowMs });
  }
  for (const { index, rule } of rules) out.push({ key: queryKey.rollback(index), query: rule.query, cohort: 'treatment', windowMs: recentWindowMs });
  return out;
}

function queryValue(result: QueryResult | undefined): { value?: number; reason?: Reason; series: number } {
  if (!result) return { reason: noQueryResult(), series: 0 };
  return result.kind === 'value' ? { value: result.value, series: result.series } : { reason: result.reason, series: 0 };
}

/**
 * A gate on a PromQL query: its value against a limit, or treatment's against control's × (1 +
 * margin). Every failure to get a number is inconclusive, never a pass. Samples are not known to
 * a query, so they are reported as 0.
 */
export function evaluateQueryGate(gate: QueryGate, index: number, queries: Record<string, QueryResult> | undefined): CheckResult {
  if ('compare' in gate) {
    const rule = `${gate.name}(treatment) <= control x ${1 + gate.maxRelativeIncrease}`;
    const t = queryValue(queries?.[queryKey.gate(index, 'treatment')]);
    const c = queryValue(queries?.[queryKey.gate(index, 'control')]);
    const threshold = (c.value ?? 0) * (1 + gate.maxRelativeIncrease);
    const cohorts = { treatment: { value: t.value ?? null, samples: 0 }, control: { value: c.value ?? null, samples: 0 } };
    if (t.value === undefined || c.value === undefined)
      return result(rule, gate.name, 'treatment', threshold, t.value, 0, 'inconclusive', t.reason ?? c.reason, { cohorts });
    return result(rule, gate.name, 'treatment', threshold, t.value, 0, t.value <= threshold ? 'pass' : 'fail', undefined, { cohorts });
  }
  const rule = `${gate.name}(${gate.cohort}) <= ${gate.max}`;
  const q = queryValue(queries?.[queryKey.gate(index, gate.cohort)]);
  if (q.value === undefined) return result(rule, gate.name, gate.cohort, gate.max, undefined, 0, 'inconclusive', q.reason);
  return result(rule, gate.name, gate.cohort, gate.max, q.value, 0, q.value <= gate.max ? 'pass' : 'fail');
}

/** A rollback rule on a PromQL query over the last interval: "fail" means over the threshold now. */
export function evaluateQueryRollbackRule(rule: QueryRollbackRule, index: number, queries: Record<string, QueryResult> | undefined): CheckResult {
  const text = rollbackRuleText(rule);
  const q = queryValue(queries?.[queryKey.rollback(index)]);
  if (q.value === undefined) return result(text, rule.name, 'treatment', rule.above, undefined, 0, 'inconclusive', q.reason);
  return result(text, rule.name, 'treatment', rule.above, q.value, 0, q.value > rule.above ? 'fail' : 'pass');
}
