import type { AnyRollbackRule, DenyEntry, Gate, Policy, Traffic, Windows } from './policy-schema.js';
import { formatDuration } from './duration-text.js';

/**
 * A policy in plain words: its steps, gates, traffic checks, rollback rules and windows, the same
 * in the go-live report and on the dashboard. Type imports only but for zod-free helpers, so the
 * browser bundle uses it as it is.
 *
 * Each sentence is an English template with `{name}` placeholders, passed through `words`: by
 * default they are only filled in; the dashboard passes its `t`, whose catalogs translate them.
 */

/** Fills a template's `{name}` placeholders, after translating it when the caller's function does. */
export type Words = (template: string, vars?: Record<string, string | number>) => string;

export const english: Words = (template, vars) =>
  vars ? template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole)) : template;

export interface StepPlan {
  percentage: number;
  minDurationMs: number;
  minSamples: number;
  maxDurationMs: number;
  approval: { required: number; roles: string[] };
}

/** Each step with the defaults filled in. */
export function stepPlans(policy: Policy): StepPlan[] {
  const d = policy.stepDefaults;
  return policy.steps.map((step) => {
    const s = typeof step === 'number' ? { percentage: step } : step;
    return {
      percentage: s.percentage,
      minDurationMs: s.minDuration ?? d.minDuration,
      minSamples: s.minSamples ?? d.minSamples,
      maxDurationMs: s.maxDuration ?? d.maxDuration,
      approval: { ...d.approval, ...s.approval },
    };
  });
}

export function gateRule(gate: Gate, w: Words = english): string {
  if ('query' in gate) {
    return 'compare' in gate
      ? w('{name} ≤ control × {factor}, from PromQL `{query}`', { name: gate.name, factor: 1 + gate.maxRelativeIncrease, query: gate.query })
      : w('{name} ({cohort}) ≤ {max}, from PromQL `{query}`', { name: gate.name, cohort: w(gate.cohort), max: gate.max, query: gate.query });
  }
  if ('max' in gate) {
    const vars = { metric: gate.metric, cohort: w(gate.cohort), max: gate.max };
    return gate.confidence
      ? w('{metric}({cohort}) ≤ {max} at {confidence} confidence', { ...vars, confidence: gate.confidence })
      : w('{metric}({cohort}) ≤ {max}', vars);
  }
  const vars = { metric: gate.metric, factor: 1 + gate.maxRelativeIncrease, samples: gate.minControlSamples };
  return gate.confidence
    ? w('{metric}(treatment) ≤ control × {factor} at {confidence} confidence (at least {samples} control samples)', { ...vars, confidence: gate.confidence })
    : w('{metric}(treatment) ≤ control × {factor} (at least {samples} control samples)', vars);
}

export function rollbackRule(rule: AnyRollbackRule, w: Words = english): string {
  if ('query' in rule)
    return w('{name}(treatment) > {above} for {duration}, from PromQL `{query}`', {
      name: rule.name,
      above: rule.above,
      duration: formatDuration(rule.for),
      query: rule.query,
    });
  return w('{metric}({cohort}) > {above} for {duration} (at least {samples} requests per window)', {
    metric: rule.metric,
    cohort: w(rule.cohort),
    above: rule.above,
    duration: formatDuration(rule.for),
    samples: rule.minSamples,
  });
}

export function sharedBreachText(plan: Pick<Policy, 'onSharedBreach'>, w: Words = english): string {
  // Plans stored before attribution existed have no onSharedBreach: they roll back, as they did.
  if (plan.onSharedBreach !== 'hold') return w('a breach control shares rolls back like any other');
  return w('a breach control shares (same rule, same window) holds the step until it clears; at 100 % no control is left, so breaches roll back');
}

/** The policy's traffic checks in words, as plans and reports list them. */
export function trafficRules(traffic: Traffic, w: Words = english): string[] {
  return [
    w('the flag evaluated at least {n} times in the step (evaluations SDKs report, counted once the SDKs have fetched the step)', { n: traffic.minExposures }),
    ...(traffic.sampleRatio
      ? [
          w(
            "the share of users that got the feature matches the step's percentage (sample-ratio check on distinct users, p >= {p}); " +
              'judged where applications report users (the SDK helper, the frontend API, OFREP), shown for information on evaluations otherwise',
            { p: traffic.sampleRatio.pValue },
          ),
        ]
      : []),
  ];
}

export function onGateFailureText(plan: Pick<Policy, 'onGateFailure'>, w: Words = english): string {
  return plan.onGateFailure === 'rollback'
    ? w('a gate that fails beyond doubt (at its confidence) rolls back')
    : w('a failing gate holds the step for a person');
}

export function watchText(plan: Pick<Policy, 'watchAfterCompletion'>, w: Words = english): string | undefined {
  return plan.watchAfterCompletion > 0
    ? w('rollback rules keep watching for {duration} after completion', { duration: formatDuration(plan.watchAfterCompletion) })
    : undefined;
}

/** A deny entry in words: "deny the last 2 day(s) of each month, the holidays of cn-mainland (Asia/Shanghai)". */
export function denyText(deny: DenyEntry, w: Words = english): string {
  const parts = [
    ...(deny.lastDaysOfMonth !== undefined ? [w('the last {n} day(s) of each month', { n: deny.lastDaysOfMonth })] : []),
    ...(deny.holidays ? [w('the holidays of {calendar}', { calendar: deny.holidays })] : []),
    ...(deny.dates && !deny.holidays ? [deny.dates.join(', ')] : []),
  ];
  return w('deny {what} ({tz})', { what: parts.join(', '), tz: deny.tz });
}

/** "allow mon, tue 09:00-17:00 Europe/Oslo; deny the holidays of cn-mainland (Asia/Shanghai)", or undefined when always open. */
export function windowsText(windows: Windows | undefined, w: Words = english): string | undefined {
  if (!windows || (windows.allow.length === 0 && windows.deny.length === 0)) return undefined;
  return [
    ...windows.allow.map((a) => w('allow {days} {hours} {tz}', { days: a.days.join(', '), hours: a.hours, tz: a.tz })),
    ...windows.deny.map((d) => denyText(d, w)),
  ].join('; ');
}
