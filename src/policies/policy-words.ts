import type { AnyRollbackRule, Gate, Policy, Traffic, Windows } from './policy-schema.js';
import { denyText } from './change-window.js';
import { formatDuration } from './duration-text.js';

/**
 * A policy in plain words: its steps, gates, traffic checks, rollback rules and windows, the same
 * in the go-live report and on the dashboard. Type imports only but for zod-free helpers, so the
 * browser bundle uses it as it is.
 */

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

export function gateRule(gate: Gate): string {
  if ('query' in gate) {
    const limit = 'compare' in gate ? `≤ control × ${1 + gate.maxRelativeIncrease}` : `(${gate.cohort}) ≤ ${gate.max}`;
    return `${gate.name} ${limit}, from PromQL \`${gate.query}\``;
  }
  if ('max' in gate) return `${gate.metric}(${gate.cohort}) ≤ ${gate.max}${gate.confidence ? ` at ${gate.confidence} confidence` : ''}`;
  return (
    `${gate.metric}(treatment) ≤ control × ${1 + gate.maxRelativeIncrease}${gate.confidence ? ` at ${gate.confidence} confidence` : ''}` +
    ` (at least ${gate.minControlSamples} control samples)`
  );
}

export function rollbackRule(rule: AnyRollbackRule): string {
  if ('query' in rule) return `${rule.name}(treatment) > ${rule.above} for ${formatDuration(rule.for)}, from PromQL \`${rule.query}\``;
  return `${rule.metric}(${rule.cohort}) > ${rule.above} for ${formatDuration(rule.for)} (at least ${rule.minSamples} requests per window)`;
}

export function sharedBreachText(plan: Policy): string {
  // Plans stored before attribution existed have no onSharedBreach: they roll back, as they did.
  if (plan.onSharedBreach !== 'hold') return 'a breach control shares rolls back like any other';
  return 'a breach control shares (same rule, same window) holds the step until it clears; at 100 % no control is left, so breaches roll back';
}

/** The policy's traffic checks in words, as plans and reports list them. */
export function trafficRules(traffic: Traffic): string[] {
  return [
    `the flag evaluated at least ${traffic.minExposures} times in the step (evaluations SDKs report, counted once the SDKs have fetched the step)`,
    ...(traffic.sampleRatio
      ? [
          `the share of users that got the feature matches the step's percentage (sample-ratio check on distinct users, p >= ${traffic.sampleRatio.pValue}); ` +
            'judged where applications report users (the SDK helper, the frontend API, OFREP), shown for information on evaluations otherwise',
        ]
      : []),
  ];
}

export function onGateFailureText(plan: Pick<Policy, 'onGateFailure'>): string {
  return plan.onGateFailure === 'rollback' ? 'a gate that fails beyond doubt (at its confidence) rolls back' : 'a failing gate holds the step for a person';
}

export function watchText(plan: Pick<Policy, 'watchAfterCompletion'>): string | undefined {
  return plan.watchAfterCompletion > 0 ? `rollback rules keep watching for ${formatDuration(plan.watchAfterCompletion)} after completion` : undefined;
}

/** "allow mon, tue 09:00-17:00 Europe/Oslo; deny the holidays of cn-mainland (Asia/Shanghai)", or undefined when always open. */
export function windowsText(windows: Windows | undefined): string | undefined {
  if (!windows || (windows.allow.length === 0 && windows.deny.length === 0)) return undefined;
  return [...windows.allow.map((w) => `allow ${w.days.join(', ')} ${w.hours} ${w.tz}`), ...windows.deny.map(denyText)].join('; ');
}
