import { expect } from 'vitest';
import { emptyCohort } from '../../src/metrics/outcome-math.js';
import type { CohortTotals, OutcomeTotals } from '../../src/metrics/outcome-model.js';
import { policySchema, type Policy, type PolicyInput } from '../../src/policies/policy-schema.js';
import type { Decision, DecisionInput, Measurements, Person, Rollout } from '../../src/rollouts/rollout-model.js';

/**
 * Builders for table tests of the decision core. Every time is fixed: T0 is a Monday noon (UTC),
 * and the base policy has no change windows, so only the rows about windows bring their own.
 */

export const T0 = new Date('2026-03-02T12:00:00.000Z');
export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;

/** A fixed instant, `ms` after T0. */
export const at = (ms: number): Date => new Date(T0.getTime() + ms);
export const iso = (ms: number): string => at(ms).toISOString();

export const FLAG = 'checkout-v2';
export const EXTRA_KILL = 'checkout-v2-banner';

/** The base plan: 1 → 10 → 50 → 100 %, 10 min and 1000 samples per step, pause after 1 h, one release manager. */
export const BASE_POLICY: PolicyInput = {
  name: 'test-plan',
  steps: [1, 10, 50, 100],
  stepDefaults: { minDuration: '10m', minSamples: 1000, maxDuration: '1h', approval: { required: 1, roles: ['release-manager'] } },
  analysisInterval: '30s',
  gates: [
    { metric: 'error_rate', cohort: 'treatment', max: 0.01 },
    { metric: 'latency_p99_ms', cohort: 'treatment', max: 500 },
  ],
  rollback: [{ metric: 'error_rate', cohort: 'treatment', above: 0.05, for: '5m' }],
  killSwitches: [EXTRA_KILL],
};

/** A policy validated by the real schema, the base plan with `overrides` on top (top-level keys replace). */
export function policy(overrides: Partial<PolicyInput> = {}): Policy {
  return policySchema.parse({ ...BASE_POLICY, ...overrides });
}

/** The base plan without approvals anywhere. */
export const noApprovalPolicy = (overrides: Partial<PolicyInput> = {}): Policy =>
  policy({ stepDefaults: { ...BASE_POLICY.stepDefaults, approval: { required: 0 } }, ...overrides });

/** Windows open Monday to Thursday 10:00–17:00 in Shanghai; T0 (Mon 20:00 there) is outside. */
export const SHANGHAI_OFFICE_HOURS: NonNullable<PolicyInput['windows']> = {
  allow: [{ days: ['mon', 'tue', 'wed', 'thu'], hours: '10:00-17:00', tz: 'Asia/Shanghai' }],
};
/** Tuesday 2026-03-03 10:30 in Shanghai (02:30 UTC), inside SHANGHAI_OFFICE_HOURS: T0 + 14 h 30 m. */
export const SHANGHAI_TUESDAY_MORNING = at(14 * HOUR + 30 * MINUTE);

export const alice: Person = { id: 'u-alice', name: 'Alice', role: 'release-manager' };
export const bob: Person = { id: 'u-bob', name: 'Bob', role: 'release-manager' };
export const carol: Person = { id: 'u-carol', name: 'Carol', role: 'release-manager' };
export const dave: Person = { id: 'u-dave', name: 'Dave', role: 'editor' };
export const eve: Person = { id: 'u-eve', name: 'Eve' };
export const admin: Person = { id: 'u-root', name: 'Root', role: 'admin' };

/** A rollout started by Alice at T0 following `overrides.plan` (the base policy unless told), running step 0 at 1 % unless told. */
export function rollout(overrides: Partial<Rollout> = {}): Rollout {
  const p = overrides.plan ?? policy();
  return {
    id: 'r-1',
    flag: FLAG,
    environment: 'production',
    policy: p.name,
    plan: p,
    strategyId: 'rollout:r-1',
    state: 'running',
    stepIndex: 0,
    percentage: 1,
    stepStartedAt: T0.toISOString(),
    startedBy: alice,
    createdAt: T0.toISOString(),
    updatedAt: T0.toISOString(),
    stepVerdict: { kind: 'waiting', reason: 'step just started' },
    gates: [],
    rollbackChecks: [],
    breachingSince: p.rollback.map(() => null),
    checks: { failed: 0, consecutiveFailed: 0, inconclusive: 0, providerErrors: 0 },
    approvals: [],
    history: [],
    ...overrides,
    // Overrides may make any phase (a paused rollout without a reason, to test the fallbacks).
  } as Rollout;
}

/** A rollout on step `stepIndex` of its policy, at that step's percentage. */
export function onStep(stepIndex: number, overrides: Partial<Rollout> = {}): Rollout {
  const p = overrides.plan ?? policy();
  const step = p.steps[stepIndex]!;
  return rollout({ stepIndex, percentage: typeof step === 'number' ? step : step.percentage, ...overrides, plan: p, policy: p.name });
}

export interface CohortSpec {
  requests: number;
  errors?: number;
  /** Latency histogram: upper bound (ms) → count in that bucket. */
  latency?: Record<string, number>;
  latencySumMs?: number;
}

function cohort(spec: CohortSpec | undefined): CohortTotals {
  if (!spec) return emptyCohort();
  return { requests: spec.requests, errors: spec.errors ?? 0, latencyBuckets: { ...(spec.latency ?? {}) }, latencySumMs: spec.latencySumMs ?? 0 };
}

/** Outcome totals of both cohorts; a cohort left out has no traffic. */
export function totals(spec: { treatment?: CohortSpec; control?: CohortSpec }): OutcomeTotals {
  return { treatment: cohort(spec.treatment), control: cohort(spec.control) };
}

/** Fast (p99 well under 500 ms) latency histogram for `n` requests. */
export const fast = (n: number): Record<string, number> => ({ '50': n - Math.ceil(n / 200), '250': Math.ceil(n / 200) });

/** Healthy traffic: 2000 treatment requests at 0.2 % errors, fast; 20 000 control requests at 0.2 %. */
export const HEALTHY = totals({
  treatment: { requests: 2000, errors: 4, latency: fast(2000) },
  control: { requests: 20_000, errors: 40, latency: fast(20_000) },
});
/** Breaching the base rollback rule (8 % > 5 %) and the error gate. */
export const BREACHING = totals({
  treatment: { requests: 2000, errors: 160, latency: fast(2000) },
  control: { requests: 20_000, errors: 40, latency: fast(20_000) },
});
/** Failing the error gate (1.5 % > 1 %) without breaching the rollback rule. */
export const GATE_FAILING = totals({
  treatment: { requests: 2000, errors: 30, latency: fast(2000) },
  control: { requests: 20_000, errors: 40, latency: fast(20_000) },
});
/** Too few treatment requests for gates (500 < 1000) and for rollback rules (10 < 20). */
export const SPARSE = totals({ treatment: { requests: 500, errors: 0, latency: fast(500) }, control: { requests: 5000, errors: 5, latency: fast(5000) } });
export const TRICKLE = totals({ treatment: { requests: 10, errors: 5 }, control: { requests: 100 } });

/** Measurements where the step window and the recent window are the same unless told. */
export const measured = (step: OutcomeTotals, recent: OutcomeTotals = step): Measurements => ({ step, recent });
export const analysis = (step: OutcomeTotals, recent: OutcomeTotals = step): DecisionInput => ({ kind: 'analysis', measurements: measured(step, recent) });
/** An analysis with more measured than outcomes (exposures for the traffic checks). */
export const analysisWith = (step: OutcomeTotals, extra: Partial<Measurements>): DecisionInput => ({
  kind: 'analysis',
  measurements: { ...measured(step), ...extra },
});

export function expectDecided(d: Decision): Extract<Decision, { kind: 'decided' }> {
  if (d.kind !== 'decided') expect.fail(`expected a decision, got refused (${d.refusal}) ${d.errorId}: ${d.message}`);
  return d;
}

export function expectRefused(d: Decision): Extract<Decision, { kind: 'refused' }> {
  if (d.kind !== 'refused') expect.fail(`expected a refusal, got ${d.next.state}`);
  return d;
}
