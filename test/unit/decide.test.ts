import { describe, expect, it } from 'vitest';
import { emptyTotals } from '../../src/metrics/outcome-math.js';
import { decide } from '../../src/rollouts/decide.js';
import type {
  Action,
  ActiveState,
  CheckResult,
  Decision,
  DecisionInput,
  Rollout,
  RolloutState,
  StepVerdict,
  Transition,
} from '../../src/rollouts/rollout-model.js';
import {
  admin,
  alice,
  analysis,
  analysisWith,
  at,
  bob,
  BREACHING,
  carol,
  dave,
  eve,
  EXTRA_KILL,
  expectDecided,
  expectRefused,
  FLAG,
  GATE_FAILING,
  HEALTHY,
  HOUR,
  iso,
  MINUTE,
  noApprovalPolicy,
  onStep,
  policy,
  rollout,
  SECOND,
  SHANGHAI_OFFICE_HOURS,
  SHANGHAI_TUESDAY_MORNING,
  SPARSE,
  T0,
  totals,
  TRICKLE,
  BASE_POLICY,
} from './decide-fixtures.js';

// ---------------------------------------------------------------------------------------------
// Expectations, shared by every table
// ---------------------------------------------------------------------------------------------

interface ExpectedTransition {
  from: RolloutState;
  to: RolloutState;
  stepIndex: number;
  percentage: number;
  reason: RegExp;
  actor: string;
  /** Gate results recorded with the transition (matched partially, in order). */
  gates?: Array<Partial<Record<keyof CheckResult, unknown>>>;
  rollbackChecks?: Array<Partial<Record<keyof CheckResult, unknown>>>;
  samples?: { treatment: number; control: number };
  /** ids of the people whose approvals are recorded with the transition. */
  approvals?: string[];
}

interface Expected {
  state: RolloutState;
  stepIndex: number;
  percentage: number;
  /** Exact list of actions. */
  actions: Action[];
  verdict?: { kind: StepVerdict['kind']; reason?: RegExp };
  checks?: Rollout['checks'];
  breachingSince?: Array<string | null>;
  stepStartedAt?: string;
  pausedFrom?: ActiveState | undefined;
  pauseReason?: RegExp;
  /** ids of everyone who approved, in order. */
  approvals?: string[];
  /** The transitions this decision appended: none (null), or exactly these. */
  history: null | ExpectedTransition | ExpectedTransition[];
  /** The decision returns the rollout exactly as it was (a repeated command): nothing to write. */
  unchanged?: true;
}

interface Refusal {
  refused: 'conflict' | 'forbidden';
  errorId: string;
}

function expectOutcome(before: Rollout, decision: Decision, now: Date, e: Expected): Rollout {
  const { next, actions } = expectDecided(decision);
  expect({ state: next.state, stepIndex: next.stepIndex, percentage: next.percentage }).toEqual({
    state: e.state,
    stepIndex: e.stepIndex,
    percentage: e.percentage,
  });
  expect(actions).toEqual(e.actions);
  if (e.unchanged) expect(next).toBe(before);
  else expect(next.updatedAt).toBe(now.toISOString());
  if (e.verdict) {
    expect(next.stepVerdict.kind).toBe(e.verdict.kind);
    if (e.verdict.reason) expect('reason' in next.stepVerdict ? next.stepVerdict.reason : '').toMatch(e.verdict.reason);
  }
  if (e.checks) expect(next.checks).toEqual(e.checks);
  if (e.breachingSince) expect(next.breachingSince).toEqual(e.breachingSince);
  if (e.stepStartedAt) expect(next.stepStartedAt).toBe(e.stepStartedAt);
  if ('pausedFrom' in e) expect(next.pausedFrom).toBe(e.pausedFrom);
  if (e.pauseReason) expect(next.pauseReason).toMatch(e.pauseReason);
  if (e.approvals) expect(next.approvals.map((a) => a.by.id)).toEqual(e.approvals);

  // History is append-only: what was there stays, and only this decision's transitions follow.
  expect(next.history.slice(0, before.history.length)).toEqual(before.history);
  const added = next.history.slice(before.history.length);
  const wanted = e.history === null ? [] : Array.isArray(e.history) ? e.history : [e.history];
  expect(added).toHaveLength(wanted.length);
  wanted.forEach((w, i) => expectTransition(added[i]!, w, now));
  return next;
}

function expectTransition(t: Transition, w: ExpectedTransition, now: Date): void {
  expect({ at: t.at, from: t.from, to: t.to, stepIndex: t.stepIndex, percentage: t.percentage, actor: t.actor }).toEqual({
    at: now.toISOString(),
    from: w.from,
    to: w.to,
    stepIndex: w.stepIndex,
    percentage: w.percentage,
    actor: w.actor,
  });
  expect(t.reason).toMatch(w.reason);
  if (w.gates) expect(t.gates).toMatchObject(w.gates);
  if (w.rollbackChecks) expect(t.rollbackChecks).toMatchObject(w.rollbackChecks);
  if (w.samples) expect(t.samples).toEqual(w.samples);
  if (w.approvals) expect((t.approvals ?? []).map((a) => a.by.id)).toEqual(w.approvals);
}

function expectRefusal(decision: Decision, r: Refusal): void {
  const refused = expectRefused(decision);
  expect({ refusal: refused.refusal, errorId: refused.errorId }).toEqual({ refusal: r.refused, errorId: r.errorId });
  expect(refused.message.length).toBeGreaterThan(0);
}

// ---------------------------------------------------------------------------------------------
// Shared data
// ---------------------------------------------------------------------------------------------

const CLEAN = { failed: 0, consecutiveFailed: 0, inconclusive: 0, providerErrors: 0 };

/** Gate results of HEALTHY under the base policy, as recorded with a transition. */
const HEALTHY_GATES = [
  { rule: 'error_rate(treatment) <= 0.01', metric: 'error_rate', cohort: 'treatment', threshold: 0.01, value: 0.002, samples: 2000, verdict: 'pass' },
  { rule: 'latency_p99_ms(treatment) <= 500', metric: 'latency_p99_ms', threshold: 500, value: expect.closeTo(49.75, 2), samples: 2000, verdict: 'pass' },
];
const HEALTHY_SAMPLES = { treatment: 2000, control: 20_000 };

const KILL_REASON = /^rollback rule error_rate\(treatment\) > 0\.05 for 5m breached: error_rate 8% over 2,000 requests$/;
const kill = (reason: RegExp = KILL_REASON): Action => ({
  kind: 'kill',
  flags: [FLAG, EXTRA_KILL],
  reason: expect.stringMatching(reason) as unknown as string,
});
const BREACH_RECORD = [{ rule: 'error_rate(treatment) > 0.05 for 5m', metric: 'error_rate', threshold: 0.05, value: 0.08, samples: 2000, verdict: 'fail' }];

/**
 * A rollout (on `plan`) whose first step passed its gates at T0+15m and went to awaiting_approval,
 * built by decide itself; the other overrides are laid on afterwards (approvals given while it
 * waited, a breach clock, a pause…).
 */
function awaiting({ plan, ...after }: Partial<Rollout> = {}): Rollout {
  const start = rollout(plan ? { plan } : {});
  const next = expectDecided(decide(start, analysis(HEALTHY), at(15 * MINUTE))).next;
  expect(next.state).toBe('awaiting_approval');
  return { ...next, ...after } as Rollout;
}

const approval = (by: typeof bob, step: number, ms = 5 * MINUTE) => ({ by, step, at: iso(ms) });

// ---------------------------------------------------------------------------------------------
// One decision per row
// ---------------------------------------------------------------------------------------------

interface Row {
  name: string;
  rollout: Rollout;
  input: DecisionInput;
  now: Date;
  expect: Expected | Refusal;
}

function runRow(row: Row): void {
  const frozen = structuredClone(row.rollout);
  const decision = decide(row.rollout, row.input, row.now);
  // Pure: the input rollout is never changed.
  expect(row.rollout).toEqual(frozen);
  if ('refused' in row.expect) expectRefusal(decision, row.expect);
  else expectOutcome(row.rollout, decision, row.now, row.expect);
}

const advancing: Row[] = [
  {
    name: 'healthy step, no approval needed → advances (set-percentage of the next step)',
    rollout: rollout({ plan: noApprovalPolicy() }),
    input: analysis(HEALTHY),
    now: at(15 * MINUTE),
    expect: {
      state: 'running',
      stepIndex: 1,
      percentage: 10,
      actions: [{ kind: 'set-percentage', percentage: 10 }],
      verdict: { kind: 'waiting', reason: /step just started/ },
      stepStartedAt: iso(15 * MINUTE),
      checks: CLEAN,
      history: {
        from: 'running',
        to: 'running',
        stepIndex: 1,
        percentage: 10,
        reason: /advanced to 10%/,
        actor: 'controller',
        gates: HEALTHY_GATES,
        samples: HEALTHY_SAMPLES,
        approvals: [],
      },
    },
  },
  {
    name: 'healthy step exactly at its minimum duration → advances',
    rollout: rollout({ plan: noApprovalPolicy() }),
    input: analysis(HEALTHY),
    now: at(10 * MINUTE),
    expect: {
      state: 'running',
      stepIndex: 1,
      percentage: 10,
      actions: [{ kind: 'set-percentage', percentage: 10 }],
      history: {
        from: 'running',
        to: 'running',
        stepIndex: 1,
        percentage: 10,
        reason: /advanced to 10%/,
        actor: 'controller',
        gates: HEALTHY_GATES,
        samples: HEALTHY_SAMPLES,
      },
    },
  },
  {
    name: 'healthy step, approval needed → awaiting_approval with gates recorded',
    rollout: rollout(),
    input: analysis(HEALTHY),
    now: at(15 * MINUTE),
    expect: {
      state: 'awaiting_approval',
      stepIndex: 0,
      percentage: 1,
      actions: [],
      verdict: { kind: 'healthy' },
      checks: CLEAN,
      history: {
        from: 'running',
        to: 'awaiting_approval',
        stepIndex: 0,
        percentage: 1,
        reason: /^the 1% step is healthy; 1 approval\(s\) from release-manager needed for 10%$/,
        actor: 'controller',
        gates: HEALTHY_GATES,
        samples: HEALTHY_SAMPLES,
      },
    },
  },
  {
    name: 'an approval given earlier for the next step counts → advances at once when the step turns healthy',
    rollout: rollout({ approvals: [approval(bob, 1)] }),
    input: analysis(HEALTHY),
    now: at(15 * MINUTE),
    expect: {
      state: 'running',
      stepIndex: 1,
      percentage: 10,
      actions: [{ kind: 'set-percentage', percentage: 10 }],
      approvals: ['u-bob'],
      history: {
        from: 'running',
        to: 'running',
        stepIndex: 1,
        percentage: 10,
        reason: /advanced to 10%/,
        actor: 'controller',
        gates: HEALTHY_GATES,
        samples: HEALTHY_SAMPLES,
        approvals: ['u-bob'],
      },
    },
  },
  {
    name: 'an approval for another step (used, or ahead for a later one) does not count → awaiting_approval',
    rollout: onStep(1, { approvals: [approval(bob, 1), { ...approval(carol, 3), ahead: true }] }),
    input: analysis(HEALTHY),
    now: at(15 * MINUTE),
    expect: {
      state: 'awaiting_approval',
      stepIndex: 1,
      percentage: 10,
      actions: [],
      history: {
        from: 'running',
        to: 'awaiting_approval',
        stepIndex: 1,
        percentage: 10,
        reason: /the 10% step is healthy; 1 approval\(s\) from release-manager needed for 50%/,
        actor: 'controller',
        gates: HEALTHY_GATES,
      },
    },
  },
  {
    name: 'per-step approval override (stepPlans): step 3 needs two approvals → awaiting says 2 needed',
    rollout: onStep(1, { plan: policy({ steps: [1, 10, { percentage: 50, approval: { required: 2 } }, 100] }) }),
    input: analysis(HEALTHY),
    now: at(15 * MINUTE),
    expect: {
      state: 'awaiting_approval',
      stepIndex: 1,
      percentage: 10,
      actions: [],
      history: {
        from: 'running',
        to: 'awaiting_approval',
        stepIndex: 1,
        percentage: 10,
        reason: /2 approval\(s\) from release-manager needed for 50%/,
        actor: 'controller',
      },
    },
  },
  {
    name: 'per-step minimum duration override: 30m step not done at 15m → waiting',
    rollout: onStep(1, { plan: noApprovalPolicy({ steps: [1, { percentage: 10, minDuration: '30m' }, 100] }) }),
    input: analysis(HEALTHY),
    now: at(15 * MINUTE),
    expect: {
      state: 'running',
      stepIndex: 1,
      percentage: 10,
      actions: [],
      verdict: { kind: 'waiting', reason: /minimum duration: 900s to go/ },
      history: null,
    },
  },
  {
    name: 'last step healthy → completed, no actions',
    rollout: onStep(3),
    input: analysis(HEALTHY),
    now: at(15 * MINUTE),
    expect: {
      state: 'completed',
      stepIndex: 3,
      percentage: 100,
      actions: [],
      history: {
        from: 'running',
        to: 'completed',
        stepIndex: 3,
        percentage: 100,
        reason: /last step healthy/,
        actor: 'controller',
        gates: HEALTHY_GATES,
        samples: HEALTHY_SAMPLES,
      },
    },
  },
  {
    name: 'awaiting_approval with its approvals (given while the window was closed) advances on the next analysis',
    rollout: awaiting({ approvals: [approval(bob, 1)], plan: policy({ windows: SHANGHAI_OFFICE_HOURS }) }),
    input: analysis(HEALTHY),
    now: SHANGHAI_TUESDAY_MORNING,
    expect: {
      state: 'running',
      stepIndex: 1,
      percentage: 10,
      actions: [{ kind: 'set-percentage', percentage: 10 }],
      stepStartedAt: SHANGHAI_TUESDAY_MORNING.toISOString(),
      history: { from: 'awaiting_approval', to: 'running', stepIndex: 1, percentage: 10, reason: /advanced to 10%/, actor: 'controller', approvals: ['u-bob'] },
    },
  },
];

const inconclusive: Row[] = [
  {
    name: 'minimum duration not reached → waiting, nothing counted',
    rollout: rollout(),
    input: analysis(HEALTHY),
    now: at(5 * MINUTE),
    expect: {
      state: 'running',
      stepIndex: 0,
      percentage: 1,
      actions: [],
      verdict: { kind: 'waiting', reason: /minimum duration: 300s to go/ },
      checks: CLEAN,
      history: null,
    },
  },
  {
    name: 'too few samples → stays running, waiting, inconclusive counted',
    rollout: rollout(),
    input: analysis(SPARSE),
    now: at(15 * MINUTE),
    expect: {
      state: 'running',
      stepIndex: 0,
      percentage: 1,
      actions: [],
      verdict: { kind: 'waiting', reason: /500 of 1000 treatment samples/ },
      checks: { ...CLEAN, inconclusive: 1 },
      history: null,
    },
  },
  {
    name: 'too few samples at the step maximum duration → paused for a person',
    rollout: rollout({ checks: { ...CLEAN, inconclusive: 7 } }),
    input: analysis(SPARSE),
    now: at(1 * HOUR),
    expect: {
      state: 'paused',
      stepIndex: 0,
      percentage: 1,
      actions: [],
      pausedFrom: 'running',
      checks: { ...CLEAN, inconclusive: 8 },
      pauseReason: /maximum duration/,
      history: {
        from: 'running',
        to: 'paused',
        stepIndex: 0,
        percentage: 1,
        reason: /^the 1% step did not pass its gates within its maximum duration: 500 of 1000 treatment samples$/,
        actor: 'controller',
      },
    },
  },
  {
    name: 'a latency gate without latency data → inconclusive "no data" → waiting',
    rollout: rollout(),
    input: analysis(totals({ treatment: { requests: 2000, errors: 2 }, control: { requests: 20_000 } })),
    now: at(15 * MINUTE),
    expect: {
      state: 'running',
      stepIndex: 0,
      percentage: 1,
      actions: [],
      verdict: { kind: 'waiting', reason: /latency_p99_ms\(treatment\) <= 500: no data/ },
      checks: { ...CLEAN, inconclusive: 1 },
      history: null,
    },
  },
  {
    name: 'relative gate with too few control samples → waiting',
    rollout: rollout({ plan: policy({ gates: [{ metric: 'error_rate', compare: 'control', maxRelativeIncrease: 0.2 }] }) }),
    input: analysis(totals({ treatment: { requests: 2000, errors: 2 }, control: { requests: 50 } })),
    now: at(15 * MINUTE),
    expect: { state: 'running', stepIndex: 0, percentage: 1, actions: [], verdict: { kind: 'waiting', reason: /50 of 100 control samples/ }, history: null },
  },
];

const failing: Row[] = [
  {
    name: 'gate fails → failing verdict naming the gate, failed counters increment, no rollback',
    rollout: rollout({ checks: { failed: 2, consecutiveFailed: 1, inconclusive: 3, providerErrors: 1 } }),
    input: analysis(GATE_FAILING),
    now: at(15 * MINUTE),
    expect: {
      state: 'running',
      stepIndex: 0,
      percentage: 1,
      actions: [],
      breachingSince: [null],
      verdict: { kind: 'failing', reason: /^error_rate\(treatment\) <= 0\.01: 1\.5% over 2,000 requests$/ },
      checks: { failed: 3, consecutiveFailed: 2, inconclusive: 3, providerErrors: 1 },
      history: null,
    },
  },
  {
    name: 'gate fails before the minimum duration → failing already',
    rollout: rollout(),
    input: analysis(GATE_FAILING),
    now: at(1 * MINUTE),
    expect: {
      state: 'running',
      stepIndex: 0,
      percentage: 1,
      actions: [],
      verdict: { kind: 'failing' },
      checks: { ...CLEAN, failed: 1, consecutiveFailed: 1 },
      history: null,
    },
  },
  {
    name: 'a passing analysis resets consecutive failures only',
    rollout: rollout({ checks: { failed: 3, consecutiveFailed: 3, inconclusive: 0, providerErrors: 0 } }),
    input: analysis(HEALTHY),
    now: at(5 * MINUTE),
    expect: {
      state: 'running',
      stepIndex: 0,
      percentage: 1,
      actions: [],
      checks: { failed: 3, consecutiveFailed: 0, inconclusive: 0, providerErrors: 0 },
      history: null,
    },
  },
  {
    name: 'gate still failing at the maximum duration → paused with the failing gate in the reason',
    rollout: rollout(),
    input: analysis(GATE_FAILING),
    now: at(1 * HOUR),
    expect: {
      state: 'paused',
      stepIndex: 0,
      percentage: 1,
      actions: [],
      pausedFrom: 'running',
      history: {
        from: 'running',
        to: 'paused',
        stepIndex: 0,
        percentage: 1,
        reason: /maximum duration: error_rate\(treatment\) <= 0\.01: 1\.5% over 2,000 requests/,
        actor: 'controller',
      },
    },
  },
];

const gateMaths: Row[] = [
  {
    name: 'latency gate uses p99 from the histogram: 980 ≤ 100 ms, 20 ≤ 1000 ms → p99 = 550 ms → fails',
    rollout: rollout({ plan: noApprovalPolicy() }),
    input: analysis(totals({ treatment: { requests: 1000, errors: 0, latency: { '100': 980, '1000': 20 }, latencySumMs: 60_000 } })),
    now: at(15 * MINUTE),
    expect: {
      state: 'running',
      stepIndex: 0,
      percentage: 1,
      actions: [],
      verdict: { kind: 'failing', reason: /^latency_p99_ms\(treatment\) <= 500: 550 ms over 1,000 requests$/ },
      history: null,
    },
  },
  {
    name: 'latency gate uses p99, not the mean: p99 ≈ 99.5 ms passes though the mean is 900 ms',
    rollout: rollout({ plan: noApprovalPolicy() }),
    input: analysis(totals({ treatment: { requests: 1000, errors: 0, latency: { '100': 995, '1000': 5 }, latencySumMs: 900_000 } })),
    now: at(15 * MINUTE),
    expect: {
      state: 'running',
      stepIndex: 1,
      percentage: 10,
      actions: [{ kind: 'set-percentage', percentage: 10 }],
      history: {
        from: 'running',
        to: 'running',
        stepIndex: 1,
        percentage: 10,
        reason: /advanced to 10%/,
        actor: 'controller',
        samples: { treatment: 1000, control: 0 },
        gates: [
          { verdict: 'pass', value: 0 },
          { metric: 'latency_p99_ms', verdict: 'pass', value: expect.closeTo(99.497487, 5), samples: 1000 },
        ],
      },
    },
  },
  {
    name: 'relative gate, point estimate: 1.3 % vs control 1 % × 1.2 → fails',
    rollout: rollout({ plan: noApprovalPolicy({ gates: [{ metric: 'error_rate', compare: 'control', maxRelativeIncrease: 0.2 }], rollback: [] }) }),
    input: analysis(totals({ treatment: { requests: 1000, errors: 13 }, control: { requests: 10_000, errors: 100 } })),
    now: at(15 * MINUTE),
    expect: {
      state: 'running',
      stepIndex: 0,
      percentage: 1,
      actions: [],
      verdict: { kind: 'failing', reason: /^error_rate\(treatment\) <= control x 1\.2: 1\.3% over 1,000 requests$/ },
      history: null,
    },
  },
  {
    name: 'relative gate, point estimate: 1.1 % vs control 1 % × 1.2 → passes (threshold 1.2 % recorded)',
    rollout: rollout({ plan: noApprovalPolicy({ gates: [{ metric: 'error_rate', compare: 'control', maxRelativeIncrease: 0.2 }], rollback: [] }) }),
    input: analysis(totals({ treatment: { requests: 1000, errors: 11 }, control: { requests: 10_000, errors: 100 } })),
    now: at(15 * MINUTE),
    expect: {
      state: 'running',
      stepIndex: 1,
      percentage: 10,
      actions: [{ kind: 'set-percentage', percentage: 10 }],
      history: {
        from: 'running',
        to: 'running',
        stepIndex: 1,
        percentage: 10,
        reason: /advanced/,
        actor: 'controller',
        gates: [{ rule: 'error_rate(treatment) <= control x 1.2', cohort: 'treatment', threshold: 0.012, value: 0.011, samples: 1000, verdict: 'pass' }],
      },
    },
  },
  {
    name: 'relative gate at 0.95 confidence (always valid): 1.3 % vs 1 % on 1000 requests is over the line but not beyond doubt → inconclusive, the step waits',
    rollout: rollout({
      plan: noApprovalPolicy({ gates: [{ metric: 'error_rate', compare: 'control', maxRelativeIncrease: 0.2, confidence: 0.95 }], rollback: [] }),
    }),
    input: analysis(totals({ treatment: { requests: 1000, errors: 13 }, control: { requests: 10_000, errors: 100 } })),
    now: at(15 * MINUTE),
    expect: {
      state: 'running',
      stepIndex: 0,
      percentage: 1,
      actions: [],
      verdict: { kind: 'waiting', reason: /at 0\.95 confidence: worse than allowed but not yet beyond doubt/ },
      history: null,
    },
  },
  {
    name: 'relative gate at 0.95 confidence: 1.1 % vs 1 % × 1.2 on 1000 requests → passes',
    rollout: rollout({
      plan: noApprovalPolicy({ gates: [{ metric: 'error_rate', compare: 'control', maxRelativeIncrease: 0.2, confidence: 0.95 }], rollback: [] }),
    }),
    input: analysis(totals({ treatment: { requests: 1000, errors: 11 }, control: { requests: 10_000, errors: 100 } })),
    now: at(15 * MINUTE),
    expect: {
      state: 'running',
      stepIndex: 1,
      percentage: 10,
      actions: [{ kind: 'set-percentage', percentage: 10 }],
      history: {
        from: 'running',
        to: 'running',
        stepIndex: 1,
        percentage: 10,
        reason: /advanced/,
        actor: 'controller',
        gates: [
          {
            rule: 'error_rate(treatment) <= control x 1.2 at 0.95 confidence',
            threshold: 0.012,
            value: 0.011,
            verdict: 'pass',
            cohorts: { treatment: { value: 0.011, samples: 1000 }, control: { value: 0.01, samples: 10_000 } },
            test: { method: 'always-valid', confidence: 0.95, estimate: -0.001 },
          },
        ],
      },
    },
  },
  {
    name: 'relative gate at 0.95 confidence: 1.4 % vs 1 % on 100 000 requests each is worse beyond doubt (lower bound of 1.4 % − 1.2 % > 0) → fails, and holds',
    rollout: rollout({
      plan: noApprovalPolicy({ gates: [{ metric: 'error_rate', compare: 'control', maxRelativeIncrease: 0.2, confidence: 0.95 }], rollback: [] }),
    }),
    input: analysis(totals({ treatment: { requests: 100_000, errors: 1400 }, control: { requests: 100_000, errors: 1000 } })),
    now: at(15 * MINUTE),
    expect: {
      state: 'running',
      stepIndex: 0,
      percentage: 1,
      actions: [],
      verdict: { kind: 'failing', reason: /at 0\.95 confidence: 1\.4% over 100,000 requests/ },
      checks: { ...CLEAN, failed: 1, consecutiveFailed: 1 },
      history: null,
    },
  },
  {
    name: 'relative gate at 0.99 confidence: the same 1.4 % vs 1 % is not beyond doubt at 99 % → inconclusive',
    rollout: rollout({
      plan: noApprovalPolicy({ gates: [{ metric: 'error_rate', compare: 'control', maxRelativeIncrease: 0.2, confidence: 0.99 }], rollback: [] }),
    }),
    input: analysis(totals({ treatment: { requests: 100_000, errors: 1400 }, control: { requests: 100_000, errors: 1000 } })),
    now: at(15 * MINUTE),
    expect: { state: 'running', stepIndex: 0, percentage: 1, actions: [], verdict: { kind: 'waiting', reason: /not yet beyond doubt/ }, history: null },
  },
  {
    name: 'onGateFailure rollback: a gate failing beyond doubt rolls back and kills, with the bounds in the reason',
    rollout: rollout({
      plan: noApprovalPolicy({
        onGateFailure: 'rollback',
        killSwitches: ['other-switch'],
        gates: [{ metric: 'error_rate', compare: 'control', maxRelativeIncrease: 0.2, confidence: 0.95 }],
        rollback: [],
      }),
    }),
    input: analysis(totals({ treatment: { requests: 100_000, errors: 1400 }, control: { requests: 100_000, errors: 1000 } })),
    now: at(15 * MINUTE),
    expect: {
      state: 'rolled_back',
      stepIndex: 0,
      percentage: 1,
      actions: [
        {
          kind: 'kill',
          flags: [FLAG, 'other-switch'],
          reason: expect.stringMatching(/failed beyond doubt: error_rate 1\.4% over 100,000 requests \(bounds 0\.\d+% to 0\.\d+% at 95% confidence\)/),
        },
      ],
      history: { from: 'running', to: 'rolled_back', stepIndex: 0, percentage: 1, reason: /failed beyond doubt/, actor: 'controller' },
    },
  },
  {
    name: 'onGateFailure rollback: a point-estimate failure (no confidence) only holds',
    rollout: rollout({ plan: noApprovalPolicy({ onGateFailure: 'rollback', gates: [{ metric: 'error_rate', max: 0.01 }], rollback: [] }) }),
    input: analysis(totals({ treatment: { requests: 1000, errors: 50 } })),
    now: at(15 * MINUTE),
    expect: {
      state: 'running',
      stepIndex: 0,
      percentage: 1,
      actions: [],
      verdict: { kind: 'failing', reason: /error_rate\(treatment\) <= 0\.01: 5% over/ },
      checks: { ...CLEAN, failed: 1, consecutiveFailed: 1 },
      history: null,
    },
  },
  {
    name: 'absolute gate at 0.95 confidence: 5 % errors on 1000 requests against 1 % is beyond doubt → rolls back under onGateFailure rollback',
    rollout: rollout({ plan: noApprovalPolicy({ onGateFailure: 'rollback', gates: [{ metric: 'error_rate', max: 0.01, confidence: 0.95 }], rollback: [] }) }),
    input: analysis(totals({ treatment: { requests: 1000, errors: 50 } })),
    now: at(15 * MINUTE),
    expect: {
      state: 'rolled_back',
      stepIndex: 0,
      percentage: 1,
      actions: [{ kind: 'kill', flags: [FLAG, EXTRA_KILL], reason: expect.stringMatching(/failed beyond doubt/) }],
      history: {
        from: 'running',
        to: 'rolled_back',
        stepIndex: 0,
        percentage: 1,
        reason: /error_rate\(treatment\) <= 0\.01 at 0\.95 confidence failed beyond doubt/,
        actor: 'controller',
      },
    },
  },
  {
    name: 'absolute latency gate at 0.95 confidence: 5 % of requests slower than 500 ms puts p99 over 500 beyond doubt → fails (holds)',
    rollout: rollout({ plan: noApprovalPolicy({ gates: [{ metric: 'latency_p99_ms', max: 500, confidence: 0.95 }], rollback: [] }) }),
    input: analysis(totals({ treatment: { requests: 1000, latency: { '100': 950, '500': 0, '1000': 50 } } })),
    now: at(15 * MINUTE),
    expect: {
      state: 'running',
      stepIndex: 0,
      percentage: 1,
      actions: [],
      verdict: { kind: 'failing', reason: /latency_p99_ms\(treatment\) <= 500 at 0\.95 confidence/ },
      checks: { ...CLEAN, failed: 1, consecutiveFailed: 1 },
      history: null,
    },
  },
  {
    name: 'PromQL gate: the queried value under its limit passes (the queried number is recorded with the advance)',
    rollout: rollout({
      plan: noApprovalPolicy({ gates: [{ name: 'prom_errors', query: 'sum(rate(x{flag="{{flag}}"}[{{window}}]))', max: 0.02 }], rollback: [] }),
    }),
    input: analysisWith(HEALTHY, { queries: { 'gate:0:treatment': { kind: 'value', value: 0.01, series: 1 } } }),
    now: at(15 * MINUTE),
    expect: {
      state: 'running',
      stepIndex: 1,
      percentage: 10,
      actions: [{ kind: 'set-percentage', percentage: 10 }],
      history: {
        from: 'running',
        to: 'running',
        stepIndex: 1,
        percentage: 10,
        reason: /advanced/,
        actor: 'controller',
        gates: [{ rule: 'prom_errors(treatment) <= 0.02', metric: 'prom_errors', value: 0.01, verdict: 'pass' }],
      },
    },
  },
  {
    name: 'PromQL gate: an empty or failed query is inconclusive, never a pass: the step waits and says why',
    rollout: rollout({
      plan: noApprovalPolicy({ gates: [{ name: 'prom_errors', query: 'sum(rate(x{flag="{{flag}}"}[{{window}}]))', max: 0.02 }], rollback: [] }),
    }),
    input: analysisWith(HEALTHY, { queries: { 'gate:0:treatment': { kind: 'inconclusive', reason: 'the query returned no series' } } }),
    now: at(15 * MINUTE),
    expect: {
      state: 'running',
      stepIndex: 0,
      percentage: 1,
      actions: [],
      verdict: { kind: 'waiting', reason: /prom_errors\(treatment\) <= 0\.02: the query returned no series/ },
      history: null,
    },
  },
  {
    name: 'PromQL gate compared with control: treatment 0.03 against control 0.01 × 1.5 fails',
    rollout: rollout({
      plan: noApprovalPolicy({
        gates: [{ name: 'prom_errors', query: 'sum(rate(x{cohort="{{cohort}}"}[{{window}}]))', compare: 'control', maxRelativeIncrease: 0.5 }],
        rollback: [],
      }),
    }),
    input: analysisWith(HEALTHY, {
      queries: { 'gate:0:treatment': { kind: 'value', value: 0.03, series: 1 }, 'gate:0:control': { kind: 'value', value: 0.01, series: 1 } },
    }),
    now: at(15 * MINUTE),
    expect: {
      state: 'running',
      stepIndex: 0,
      percentage: 1,
      actions: [],
      verdict: { kind: 'failing', reason: /prom_errors\(treatment\) <= control x 1\.5: 0\.03/ },
      checks: { ...CLEAN, failed: 1, consecutiveFailed: 1 },
      history: null,
    },
  },
  {
    name: 'PromQL rollback rule: over its threshold for its duration rolls back and kills',
    rollout: rollout({
      plan: noApprovalPolicy({ gates: [], rollback: [{ name: 'prom_errors', query: 'sum(rate(x{flag="{{flag}}"}[{{window}}]))', above: 0.2, for: '0s' }] }),
    }),
    input: analysisWith(HEALTHY, { queries: { 'rollback:0': { kind: 'value', value: 0.5, series: 1 } } }),
    now: at(15 * MINUTE),
    expect: {
      state: 'rolled_back',
      stepIndex: 0,
      percentage: 1,
      actions: [{ kind: 'kill', flags: [FLAG, EXTRA_KILL], reason: expect.stringMatching(/prom_errors\(treatment\) > 0\.2 breached: prom_errors 0\.5/) }],
      history: { from: 'running', to: 'rolled_back', stepIndex: 0, percentage: 1, reason: /breached/, actor: 'controller' },
    },
  },
  {
    name: 'traffic: too few evaluations reported for the flag keep the step waiting, however good its outcomes',
    rollout: rollout({ plan: noApprovalPolicy({ traffic: { minExposures: 100 } }) }),
    input: analysisWith(HEALTHY, { exposures: { on: 1, off: 40 } }),
    now: at(15 * MINUTE),
    expect: {
      state: 'running',
      stepIndex: 0,
      percentage: 1,
      actions: [],
      verdict: { kind: 'waiting', reason: /evaluations >= 100: 41 evaluations reported since the step started, of the 100 needed/ },
      history: null,
    },
  },
  {
    name: 'traffic: until the SDKs have fetched the step its traffic does not count, and the step waits',
    rollout: rollout({ plan: noApprovalPolicy({ traffic: { minExposures: 100, sampleRatio: { pValue: 0.001 } } }) }),
    input: analysisWith(HEALTHY, {
      exposures: { on: 50, off: 5000 },
      trafficWindow: { kind: 'waiting', fetched: 2, instances: 3, until: at(15 * MINUTE + 30 * SECOND).getTime() },
    }),
    now: at(15 * MINUTE),
    expect: {
      state: 'running',
      stepIndex: 0,
      percentage: 1,
      actions: [],
      verdict: { kind: 'waiting', reason: /counting starts once the SDKs have fetched the step: 2 of 3 SDK instances have/ },
      history: null,
    },
  },
  {
    name: 'traffic: a sample ratio mismatch on users (5 % treated at a 1 % step) holds the ramp and says why; it never rolls back',
    rollout: rollout({ plan: noApprovalPolicy({ onGateFailure: 'rollback', traffic: { minExposures: 100, sampleRatio: { pValue: 0.001 } } }) }),
    input: analysisWith(HEALTHY, { exposures: { on: 900, off: 9100 }, users: { on: { count: 500, variance: 0 }, off: { count: 9500, variance: 0 } } }),
    now: at(15 * MINUTE),
    expect: {
      state: 'running',
      stepIndex: 0,
      percentage: 1,
      actions: [],
      verdict: { kind: 'failing', reason: /sample ratio mismatch: 5% of 10,000 users got the feature, the step serves 1%/ },
      checks: { ...CLEAN, failed: 1, consecutiveFailed: 1 },
      history: null,
    },
  },
  {
    name: 'traffic: a matching share of users (1.05 % at a 1 % step, p ≈ 0.6) passes and the step advances, however skewed the evaluations',
    rollout: rollout({ plan: noApprovalPolicy({ traffic: { minExposures: 100, sampleRatio: { pValue: 0.001 } } }) }),
    // A few heavy treated users: 30 % of evaluations got the feature.
    input: analysisWith(HEALTHY, { exposures: { on: 3000, off: 7000 }, users: { on: { count: 105, variance: 0 }, off: { count: 9895, variance: 0 } } }),
    now: at(15 * MINUTE),
    expect: {
      state: 'running',
      stepIndex: 1,
      percentage: 10,
      actions: [{ kind: 'set-percentage', percentage: 10 }],
      history: {
        from: 'running',
        to: 'running',
        stepIndex: 1,
        percentage: 10,
        reason: /advanced/,
        actor: 'controller',
        gates: [
          { metric: 'exposures', verdict: 'pass' },
          { metric: 'sample_ratio_users', verdict: 'pass', samples: 10_000, test: { method: 'share-of-users', pValue: 0.615 } },
          { verdict: 'pass' },
          { verdict: 'pass' },
        ],
      },
    },
  },
  {
    name: 'traffic: with no per-user counts (stock SDKs only) the share of evaluations is shown, not judged: a skew from heavy users never holds the step',
    rollout: rollout({ plan: noApprovalPolicy({ traffic: { minExposures: 100, sampleRatio: { pValue: 0.001 } } }) }),
    input: analysisWith(HEALTHY, { exposures: { on: 5000, off: 5000 } }),
    now: at(15 * MINUTE),
    expect: {
      state: 'running',
      stepIndex: 1,
      percentage: 10,
      actions: [{ kind: 'set-percentage', percentage: 10 }],
      history: {
        from: 'running',
        to: 'running',
        stepIndex: 1,
        percentage: 10,
        reason: /advanced/,
        actor: 'controller',
        gates: [
          { metric: 'exposures', verdict: 'pass' },
          { metric: 'sample_ratio', verdict: 'pass', informational: true, value: 0.5, test: { method: 'share-of-evaluations' } },
          { verdict: 'pass' },
          { verdict: 'pass' },
        ],
      },
    },
  },
  {
    name: 'relative latency gate (point estimate): treatment p99 1.5 × control p99 with 20 % allowed → fails',
    rollout: rollout({ plan: noApprovalPolicy({ gates: [{ metric: 'latency_p99_ms', compare: 'control', maxRelativeIncrease: 0.2 }], rollback: [] }) }),
    input: analysis(totals({ treatment: { requests: 1000, latency: { '150': 1000 } }, control: { requests: 1000, latency: { '100': 1000 } } })),
    now: at(15 * MINUTE),
    expect: {
      state: 'running',
      stepIndex: 0,
      percentage: 1,
      actions: [],
      verdict: { kind: 'failing', reason: /latency_p99_ms\(treatment\) <= control x 1\.2: 149 ms over 1,000/ },
      history: null,
    },
  },
];

const rollback: Row[] = [
  {
    name: 'rollback rule exceeded for the first time → still running, breachingSince set to now',
    rollout: rollout(),
    input: analysis(BREACHING),
    now: at(15 * MINUTE),
    expect: { state: 'running', stepIndex: 0, percentage: 1, actions: [], breachingSince: [iso(15 * MINUTE)], verdict: { kind: 'failing' }, history: null },
  },
  {
    name: 'rollback rule exceeded, but for less than its duration (4m59s of 5m) → still running, breachingSince kept',
    rollout: rollout({ breachingSince: [iso(11 * MINUTE)] }),
    input: analysis(BREACHING),
    now: at(15 * MINUTE + 59 * SECOND),
    expect: { state: 'running', stepIndex: 0, percentage: 1, actions: [], breachingSince: [iso(11 * MINUTE)], history: null },
  },
  {
    name: 'rollback rule exceeded for its duration → rolled_back, kill of the flag and the extra kill switches, values recorded',
    rollout: rollout({ breachingSince: [iso(10 * MINUTE)] }),
    input: analysis(BREACHING),
    now: at(15 * MINUTE),
    expect: {
      state: 'rolled_back',
      stepIndex: 0,
      percentage: 1,
      actions: [kill()],
      breachingSince: [iso(10 * MINUTE)],
      history: {
        from: 'running',
        to: 'rolled_back',
        stepIndex: 0,
        percentage: 1,
        reason: KILL_REASON,
        actor: 'controller',
        rollbackChecks: BREACH_RECORD,
        samples: HEALTHY_SAMPLES,
      },
    },
  },
  {
    name: 'rollback rule with `for: 0` fires on the first breach',
    rollout: rollout({ plan: policy({ rollback: [{ metric: 'error_rate', above: 0.05 }] }) }),
    input: analysis(BREACHING),
    now: at(1 * MINUTE),
    expect: {
      state: 'rolled_back',
      stepIndex: 0,
      percentage: 1,
      actions: [kill(/^rollback rule error_rate\(treatment\) > 0\.05 breached: error_rate 8% over 2,000 requests$/)],
      history: {
        from: 'running',
        to: 'rolled_back',
        stepIndex: 0,
        percentage: 1,
        reason: /> 0\.05 breached/,
        actor: 'controller',
        rollbackChecks: [{ rule: 'error_rate(treatment) > 0.05', verdict: 'fail' }],
      },
    },
  },
  {
    name: 'of two rules, the one breached for its own duration fires (the standard pair: 1 % for 10m, 5 % for 1m)',
    rollout: rollout({
      plan: policy({
        rollback: [
          { metric: 'error_rate', above: 0.01, for: '10m' },
          { metric: 'error_rate', above: 0.05, for: '1m' },
        ],
      }),
      breachingSince: [iso(14 * MINUTE), iso(14 * MINUTE)],
    }),
    input: analysis(BREACHING),
    now: at(15 * MINUTE),
    expect: {
      state: 'rolled_back',
      stepIndex: 0,
      percentage: 1,
      actions: [kill(/^rollback rule error_rate\(treatment\) > 0\.05 for 1m breached/)],
      history: {
        from: 'running',
        to: 'rolled_back',
        stepIndex: 0,
        percentage: 1,
        reason: /> 0\.05 for 1m breached/,
        actor: 'controller',
        rollbackChecks: [
          { verdict: 'fail', threshold: 0.01 },
          { verdict: 'fail', threshold: 0.05 },
        ],
      },
    },
  },
  {
    name: 'rollback rule on the control cohort is read from control',
    rollout: rollout({ plan: policy({ rollback: [{ metric: 'error_rate', cohort: 'control', above: 0.05 }] }) }),
    input: analysis(totals({ treatment: { requests: 2000, errors: 200 }, control: { requests: 2000, errors: 2 } })),
    now: at(1 * MINUTE),
    expect: { state: 'running', stepIndex: 0, percentage: 1, actions: [], breachingSince: [null], history: null },
  },
  {
    name: 'an inconclusive interval (10 of 20 samples) keeps breachingSince but does not fire by itself, even past `for`',
    rollout: rollout({ breachingSince: [iso(0)] }),
    input: analysis(SPARSE, TRICKLE),
    now: at(15 * MINUTE),
    expect: { state: 'running', stepIndex: 0, percentage: 1, actions: [], breachingSince: [iso(0)], history: null },
  },
  {
    name: 'a pass clears breachingSince',
    rollout: rollout({ breachingSince: [iso(0)] }),
    input: analysis(SPARSE, HEALTHY),
    now: at(15 * MINUTE),
    expect: { state: 'running', stepIndex: 0, percentage: 1, actions: [], breachingSince: [null], history: null },
  },
  {
    name: 'rollback fires while awaiting_approval',
    rollout: awaiting({ breachingSince: [iso(0)] }),
    input: analysis(BREACHING),
    now: at(20 * MINUTE),
    expect: {
      state: 'rolled_back',
      stepIndex: 0,
      percentage: 1,
      actions: [kill()],
      history: {
        from: 'awaiting_approval',
        to: 'rolled_back',
        stepIndex: 0,
        percentage: 1,
        reason: KILL_REASON,
        actor: 'controller',
        rollbackChecks: BREACH_RECORD,
      },
    },
  },
  {
    name: 'rollback fires while paused',
    rollout: onStep(2, { state: 'paused', pausedFrom: 'running', pauseReason: 'paused by Bob', breachingSince: [iso(0)] }),
    input: analysis(BREACHING),
    now: at(20 * MINUTE),
    expect: {
      state: 'rolled_back',
      stepIndex: 2,
      percentage: 50,
      actions: [kill()],
      history: {
        from: 'paused',
        to: 'rolled_back',
        stepIndex: 2,
        percentage: 50,
        reason: KILL_REASON,
        actor: 'controller',
        rollbackChecks: BREACH_RECORD,
        samples: HEALTHY_SAMPLES,
      },
    },
  },
  {
    name: 'rollback fires outside the change window',
    rollout: rollout({ plan: policy({ windows: SHANGHAI_OFFICE_HOURS }), breachingSince: [iso(0)] }),
    input: analysis(BREACHING),
    now: at(20 * MINUTE),
    expect: {
      state: 'rolled_back',
      stepIndex: 0,
      percentage: 1,
      actions: [kill()],
      history: { from: 'running', to: 'rolled_back', stepIndex: 0, percentage: 1, reason: KILL_REASON, actor: 'controller' },
    },
  },
  {
    name: 'a pending rollout (nothing exposed yet) never rolls back',
    rollout: rollout({ state: 'pending', percentage: 0, plan: policy({ windows: SHANGHAI_OFFICE_HOURS }), breachingSince: [iso(0)] }),
    input: analysis(BREACHING),
    now: at(20 * MINUTE),
    expect: { state: 'pending', stepIndex: 0, percentage: 0, actions: [], history: null },
  },
];

const windows: Row[] = [
  {
    name: 'change window closed: healthy step with its approvals does not advance',
    rollout: rollout({ plan: policy({ windows: SHANGHAI_OFFICE_HOURS }), approvals: [approval(bob, 1)] }),
    input: analysis(HEALTHY),
    now: at(15 * MINUTE),
    expect: { state: 'running', stepIndex: 0, percentage: 1, actions: [], verdict: { kind: 'healthy' }, history: null },
  },
  {
    name: 'change window closed on a denied date: healthy step needing no approval does not advance',
    rollout: rollout({ plan: noApprovalPolicy({ windows: { deny: [{ dates: ['2026-03-02'] }] } }) }),
    input: analysis(HEALTHY),
    now: at(15 * MINUTE),
    expect: { state: 'running', stepIndex: 0, percentage: 1, actions: [], verdict: { kind: 'healthy' }, history: null },
  },
  {
    name: 'change window closed: healthy step without approvals still asks for them (awaiting_approval)',
    rollout: rollout({ plan: policy({ windows: SHANGHAI_OFFICE_HOURS }) }),
    input: analysis(HEALTHY),
    now: at(15 * MINUTE),
    expect: {
      state: 'awaiting_approval',
      stepIndex: 0,
      percentage: 1,
      actions: [],
      history: {
        from: 'running',
        to: 'awaiting_approval',
        stepIndex: 0,
        percentage: 1,
        reason: /approval\(s\) from release-manager needed/,
        actor: 'controller',
      },
    },
  },
  {
    name: 'change window closed: approved awaiting_approval rollout stays',
    rollout: awaiting({ plan: policy({ windows: SHANGHAI_OFFICE_HOURS }), approvals: [approval(bob, 1)] }),
    input: analysis(HEALTHY),
    now: at(20 * MINUTE),
    expect: { state: 'awaiting_approval', stepIndex: 0, percentage: 1, actions: [], history: null },
  },
  {
    name: 'pending + closed window → stays pending',
    rollout: rollout({
      state: 'pending',
      percentage: 0,
      stepVerdict: { kind: 'waiting', reason: 'not started' },
      plan: policy({ windows: SHANGHAI_OFFICE_HOURS }),
    }),
    input: analysis(emptyTotals()),
    now: T0,
    expect: { state: 'pending', stepIndex: 0, percentage: 0, actions: [], history: null },
  },
  {
    name: 'pending + open window, first step needs no approval → running step 0 with set-percentage',
    rollout: rollout({
      state: 'pending',
      percentage: 0,
      stepVerdict: { kind: 'waiting', reason: 'not started' },
      plan: noApprovalPolicy({ windows: SHANGHAI_OFFICE_HOURS }),
    }),
    input: analysis(emptyTotals()),
    now: SHANGHAI_TUESDAY_MORNING,
    expect: {
      state: 'running',
      stepIndex: 0,
      percentage: 1,
      actions: [{ kind: 'set-percentage', percentage: 1 }],
      stepStartedAt: SHANGHAI_TUESDAY_MORNING.toISOString(),
      verdict: { kind: 'waiting' },
      history: { from: 'pending', to: 'running', stepIndex: 0, percentage: 1, reason: /rollout started/, actor: 'controller' },
    },
  },
  {
    name: 'pending without windows, first step needs no approval → running step 0 at once',
    rollout: rollout({ state: 'pending', percentage: 0, plan: noApprovalPolicy({ steps: [5, 100] }) }),
    input: analysis(emptyTotals()),
    now: T0,
    expect: {
      state: 'running',
      stepIndex: 0,
      percentage: 5,
      actions: [{ kind: 'set-percentage', percentage: 5 }],
      stepStartedAt: T0.toISOString(),
      history: { from: 'pending', to: 'running', stepIndex: 0, percentage: 5, reason: /rollout started/, actor: 'controller' },
    },
  },
];

const providerErrors: Row[] = [
  {
    name: 'provider error → waiting, providerErrors and inconclusive counted, not failed',
    rollout: rollout({ checks: { failed: 1, consecutiveFailed: 1, inconclusive: 0, providerErrors: 0 } }),
    input: { kind: 'provider-error', error: 'ECONNREFUSED' },
    now: at(15 * MINUTE),
    expect: {
      state: 'running',
      stepIndex: 0,
      percentage: 1,
      actions: [],
      verdict: { kind: 'waiting', reason: /metrics unavailable: ECONNREFUSED/ },
      checks: { failed: 1, consecutiveFailed: 1, inconclusive: 1, providerErrors: 1 },
      history: null,
    },
  },
  {
    name: 'provider error never rolls back, even with a breach older than the rule’s `for`',
    rollout: rollout({ breachingSince: [iso(0)] }),
    input: { kind: 'provider-error', error: 'timeout' },
    now: at(15 * MINUTE),
    expect: {
      state: 'running',
      stepIndex: 0,
      percentage: 1,
      actions: [],
      breachingSince: [iso(0)],
      checks: { ...CLEAN, inconclusive: 1, providerErrors: 1 },
      history: null,
    },
  },
  {
    name: 'provider error at the step maximum duration → paused',
    rollout: rollout(),
    input: { kind: 'provider-error', error: 'timeout' },
    now: at(2 * HOUR),
    expect: {
      state: 'paused',
      stepIndex: 0,
      percentage: 1,
      actions: [],
      pausedFrom: 'running',
      history: { from: 'running', to: 'paused', stepIndex: 0, percentage: 1, reason: /maximum duration: metrics unavailable: timeout/, actor: 'controller' },
    },
  },
  {
    name: 'provider error while paused → counted, nothing else',
    rollout: rollout({ state: 'paused', pausedFrom: 'running', breachingSince: [iso(0)] }),
    input: { kind: 'provider-error', error: 'timeout' },
    now: at(15 * MINUTE),
    expect: { state: 'paused', stepIndex: 0, percentage: 1, actions: [], checks: { ...CLEAN, inconclusive: 1, providerErrors: 1 }, history: null },
  },
  {
    name: 'provider error while awaiting an approval → stays',
    rollout: awaiting(),
    input: { kind: 'provider-error', error: 'timeout' },
    now: at(20 * MINUTE),
    expect: { state: 'awaiting_approval', stepIndex: 0, percentage: 1, actions: [], checks: { ...CLEAN, inconclusive: 1, providerErrors: 1 }, history: null },
  },
];

const commands: Row[] = [
  {
    name: 'approve while awaiting_approval → advances at once, approval recorded',
    rollout: awaiting(),
    input: { kind: 'approve', by: bob, comment: 'lgtm' },
    now: at(20 * MINUTE),
    expect: {
      state: 'running',
      stepIndex: 1,
      percentage: 10,
      actions: [{ kind: 'set-percentage', percentage: 10 }],
      approvals: ['u-bob'],
      stepStartedAt: iso(20 * MINUTE),
      history: {
        from: 'awaiting_approval',
        to: 'running',
        stepIndex: 1,
        percentage: 10,
        reason: /advanced to 10%/,
        actor: 'Bob',
        approvals: ['u-bob'],
        gates: HEALTHY_GATES,
      },
    },
  },
  {
    name: 'approve while still running, no step named → 409: it awaits no approval',
    rollout: rollout(),
    input: { kind: 'approve', by: bob },
    now: at(5 * MINUTE),
    expect: { refused: 'conflict', errorId: 'not_awaiting_approval' },
  },
  {
    name: 'approve the next step while still running, without ahead → 409',
    rollout: rollout(),
    input: { kind: 'approve', by: bob, step: 10 },
    now: at(5 * MINUTE),
    expect: { refused: 'conflict', errorId: 'not_awaited_step' },
  },
  {
    name: 'approve the next step while still running, ahead → recorded as ahead, nothing else',
    rollout: rollout(),
    input: { kind: 'approve', by: bob, step: 10, ahead: true },
    now: at(5 * MINUTE),
    expect: { state: 'running', stepIndex: 0, percentage: 1, actions: [], approvals: ['u-bob'], history: null },
  },
  {
    name: 'awaiting 10%: an approval naming 50% without ahead → 409 (never lands on another step)',
    rollout: awaiting(),
    input: { kind: 'approve', by: bob, step: 50 },
    now: at(20 * MINUTE),
    expect: { refused: 'conflict', errorId: 'not_awaited_step' },
  },
  {
    name: 'awaiting 10%: an approval naming 10% advances',
    rollout: awaiting(),
    input: { kind: 'approve', by: bob, step: 10 },
    now: at(20 * MINUTE),
    expect: {
      state: 'running',
      stepIndex: 1,
      percentage: 10,
      actions: [{ kind: 'set-percentage', percentage: 10 }],
      approvals: ['u-bob'],
      history: { from: 'awaiting_approval', to: 'running', stepIndex: 1, percentage: 10, reason: /advanced to 10%/, actor: 'Bob', approvals: ['u-bob'] },
    },
  },
  {
    name: 'an approval naming a step the plan does not have → 409',
    rollout: awaiting(),
    input: { kind: 'approve', by: bob, step: 25 },
    now: at(20 * MINUTE),
    expect: { refused: 'conflict', errorId: 'no_such_step' },
  },
  {
    name: 'an approval naming a step already entered, by someone who did not approve it → 409',
    rollout: onStep(1, { approvals: [approval(carol, 1)] }),
    input: { kind: 'approve', by: bob, step: 10 },
    now: at(20 * MINUTE),
    expect: { refused: 'conflict', errorId: 'step_already_entered' },
  },
  {
    name: 'approve by the person who started the rollout → 403',
    rollout: awaiting(),
    input: { kind: 'approve', by: alice },
    now: at(20 * MINUTE),
    expect: { refused: 'forbidden', errorId: 'separation_of_duties' },
  },
  {
    name: 'approve by a role the policy does not name (editor) → 403',
    rollout: awaiting(),
    input: { kind: 'approve', by: dave },
    now: at(20 * MINUTE),
    expect: { refused: 'forbidden', errorId: 'role_not_allowed' },
  },
  {
    name: 'approve by an admin when the policy names only release-manager → 403',
    rollout: awaiting(),
    input: { kind: 'approve', by: admin },
    now: at(20 * MINUTE),
    expect: { refused: 'forbidden', errorId: 'role_not_allowed' },
  },
  {
    name: 'approve by someone without a role → 403',
    rollout: awaiting(),
    input: { kind: 'approve', by: eve },
    now: at(20 * MINUTE),
    expect: { refused: 'forbidden', errorId: 'role_not_allowed' },
  },
  {
    name: 'approve by an editor where the policy names editors → advances',
    rollout: awaiting({ plan: policy({ stepDefaults: { ...BASE_POLICY.stepDefaults, approval: { required: 1, roles: ['editor'] } } }) }),
    input: { kind: 'approve', by: dave },
    now: at(20 * MINUTE),
    expect: {
      state: 'running',
      stepIndex: 1,
      percentage: 10,
      actions: [{ kind: 'set-percentage', percentage: 10 }],
      history: { from: 'awaiting_approval', to: 'running', stepIndex: 1, percentage: 10, reason: /advanced/, actor: 'Dave', approvals: ['u-dave'] },
    },
  },
  {
    name: 'approve twice by the same person → the first approval back, nothing changes',
    rollout: awaiting({ plan: policy({ stepDefaults: { ...BASE_POLICY.stepDefaults, approval: { required: 2 } } }), approvals: [approval(bob, 1)] }),
    input: { kind: 'approve', by: bob },
    now: at(20 * MINUTE),
    expect: { state: 'awaiting_approval', stepIndex: 0, percentage: 1, actions: [], approvals: ['u-bob'], history: null, unchanged: true },
  },
  {
    name: 'the same person approving a step already entered with their approval → their approval back, nothing changes',
    rollout: onStep(1, { approvals: [approval(bob, 1)] }),
    input: { kind: 'approve', by: bob, step: 10 },
    now: at(20 * MINUTE),
    expect: { state: 'running', stepIndex: 1, percentage: 10, actions: [], approvals: ['u-bob'], history: null, unchanged: true },
  },
  {
    name: 'required: 2 — the first approval keeps it waiting',
    rollout: awaiting({ plan: policy({ stepDefaults: { ...BASE_POLICY.stepDefaults, approval: { required: 2 } } }) }),
    input: { kind: 'approve', by: bob },
    now: at(20 * MINUTE),
    expect: { state: 'awaiting_approval', stepIndex: 0, percentage: 1, actions: [], approvals: ['u-bob'], history: null },
  },
  {
    name: 'required: 2 — a second, different person advances it',
    rollout: awaiting({ plan: policy({ stepDefaults: { ...BASE_POLICY.stepDefaults, approval: { required: 2 } } }), approvals: [approval(bob, 1)] }),
    input: { kind: 'approve', by: carol },
    now: at(20 * MINUTE),
    expect: {
      state: 'running',
      stepIndex: 1,
      percentage: 10,
      actions: [{ kind: 'set-percentage', percentage: 10 }],
      approvals: ['u-bob', 'u-carol'],
      history: { from: 'awaiting_approval', to: 'running', stepIndex: 1, percentage: 10, reason: /advanced/, actor: 'Carol', approvals: ['u-bob', 'u-carol'] },
    },
  },
  {
    name: 'approve on the last step → 409',
    rollout: onStep(3),
    input: { kind: 'approve', by: bob },
    now: at(5 * MINUTE),
    expect: { refused: 'conflict', errorId: 'not_awaiting_approval' },
  },
  {
    name: 'approve while paused → 409',
    rollout: rollout({ state: 'paused', pausedFrom: 'running' }),
    input: { kind: 'approve', by: bob },
    now: at(5 * MINUTE),
    expect: { refused: 'conflict', errorId: 'cannot_approve' },
  },
  {
    name: 'approve while pending, no step named → 409',
    rollout: rollout({ state: 'pending', percentage: 0 }),
    input: { kind: 'approve', by: bob },
    now: at(5 * MINUTE),
    expect: { refused: 'conflict', errorId: 'not_awaiting_approval' },
  },
  {
    name: 'reject while awaiting_approval → paused with the reason',
    rollout: awaiting(),
    input: { kind: 'reject', by: bob, comment: 'too risky' },
    now: at(20 * MINUTE),
    expect: {
      state: 'paused',
      stepIndex: 0,
      percentage: 1,
      actions: [],
      pausedFrom: 'awaiting_approval',
      pauseReason: /^rejected by Bob: too risky$/,
      history: { from: 'awaiting_approval', to: 'paused', stepIndex: 0, percentage: 1, reason: /^rejected by Bob: too risky$/, actor: 'Bob' },
    },
  },
  {
    name: 'reject while running → 409',
    rollout: rollout(),
    input: { kind: 'reject', by: bob },
    now: at(5 * MINUTE),
    expect: { refused: 'conflict', errorId: 'not_awaiting_approval' },
  },
  {
    name: 'pause while running → paused, remembers where it was',
    rollout: onStep(1),
    input: { kind: 'pause', by: bob, comment: 'investigating' },
    now: at(5 * MINUTE),
    expect: {
      state: 'paused',
      stepIndex: 1,
      percentage: 10,
      actions: [],
      pausedFrom: 'running',
      pauseReason: /^paused by Bob: investigating$/,
      history: { from: 'running', to: 'paused', stepIndex: 1, percentage: 10, reason: /^paused by Bob: investigating$/, actor: 'Bob' },
    },
  },
  {
    name: 'pause while pending → paused from pending',
    rollout: rollout({ state: 'pending', percentage: 0 }),
    input: { kind: 'pause', by: bob },
    now: at(5 * MINUTE),
    expect: {
      state: 'paused',
      stepIndex: 0,
      percentage: 0,
      actions: [],
      pausedFrom: 'pending',
      history: { from: 'pending', to: 'paused', stepIndex: 0, percentage: 0, reason: /^paused by Bob$/, actor: 'Bob' },
    },
  },
  {
    name: 'pause while paused → 409',
    rollout: rollout({ state: 'paused', pausedFrom: 'running' }),
    input: { kind: 'pause', by: bob },
    now: at(5 * MINUTE),
    expect: { refused: 'conflict', errorId: 'already_paused' },
  },
  {
    name: 'resume → running, the step clock restarts',
    rollout: onStep(1, { state: 'paused', pausedFrom: 'running', pauseReason: 'paused by Bob', stepVerdict: { kind: 'healthy' } }),
    input: { kind: 'resume', by: bob },
    now: at(40 * MINUTE),
    expect: {
      state: 'running',
      stepIndex: 1,
      percentage: 10,
      actions: [],
      stepStartedAt: iso(40 * MINUTE),
      pausedFrom: undefined,
      verdict: { kind: 'waiting', reason: /step restarted on resume/ },
      history: { from: 'paused', to: 'running', stepIndex: 1, percentage: 10, reason: /^resumed by Bob$/, actor: 'Bob' },
    },
  },
  {
    name: 'resume after a reject → running again (not awaiting), clock restarted',
    rollout: awaiting({ state: 'paused', pausedFrom: 'awaiting_approval' }),
    input: { kind: 'resume', by: carol },
    now: at(40 * MINUTE),
    expect: {
      state: 'running',
      stepIndex: 0,
      percentage: 1,
      actions: [],
      stepStartedAt: iso(40 * MINUTE),
      history: { from: 'paused', to: 'running', stepIndex: 0, percentage: 1, reason: /resumed by Carol/, actor: 'Carol' },
    },
  },
  {
    name: 'resume of a rollout paused while pending, window open, no Go/No-Go → pending then straight into step 0',
    rollout: rollout({ state: 'paused', pausedFrom: 'pending', percentage: 0, plan: noApprovalPolicy() }),
    input: { kind: 'resume', by: bob },
    now: at(40 * MINUTE),
    expect: {
      state: 'running',
      stepIndex: 0,
      percentage: 1,
      actions: [{ kind: 'set-percentage', percentage: 1 }],
      stepStartedAt: iso(40 * MINUTE),
      history: [
        { from: 'paused', to: 'pending', stepIndex: 0, percentage: 0, reason: /resumed by Bob/, actor: 'Bob' },
        { from: 'pending', to: 'running', stepIndex: 0, percentage: 1, reason: /rollout started/, actor: 'Bob' },
      ],
    },
  },
  {
    name: 'resume while running → 409',
    rollout: rollout(),
    input: { kind: 'resume', by: bob },
    now: at(5 * MINUTE),
    expect: { refused: 'conflict', errorId: 'not_paused' },
  },
  {
    name: 'abort while running → aborted + set-percentage 0',
    rollout: onStep(2),
    input: { kind: 'abort', by: bob, comment: 'wrong build' },
    now: at(5 * MINUTE),
    expect: {
      state: 'aborted',
      stepIndex: 2,
      percentage: 0,
      actions: [{ kind: 'set-percentage', percentage: 0 }],
      history: { from: 'running', to: 'aborted', stepIndex: 2, percentage: 50, reason: /^aborted by Bob: wrong build$/, actor: 'Bob' },
    },
  },
  {
    name: 'abort while paused → aborted + set-percentage 0',
    rollout: onStep(1, { state: 'paused', pausedFrom: 'running' }),
    input: { kind: 'abort', by: bob },
    now: at(5 * MINUTE),
    expect: {
      state: 'aborted',
      stepIndex: 1,
      percentage: 0,
      actions: [{ kind: 'set-percentage', percentage: 0 }],
      history: { from: 'paused', to: 'aborted', stepIndex: 1, percentage: 10, reason: /^aborted by Bob$/, actor: 'Bob' },
    },
  },
  {
    name: 'abort while awaiting_approval → aborted + set-percentage 0',
    rollout: awaiting(),
    input: { kind: 'abort', by: alice },
    now: at(20 * MINUTE),
    expect: {
      state: 'aborted',
      stepIndex: 0,
      percentage: 0,
      actions: [{ kind: 'set-percentage', percentage: 0 }],
      history: { from: 'awaiting_approval', to: 'aborted', stepIndex: 0, percentage: 1, reason: /aborted by Alice/, actor: 'Alice' },
    },
  },
];

describe('decide: one decision per row', () => {
  describe('advancing', () => it.each(advancing)('$name', runRow));
  describe('inconclusive', () => it.each(inconclusive)('$name', runRow));
  describe('failing gates', () => it.each(failing)('$name', runRow));
  describe('gate arithmetic', () => it.each(gateMaths)('$name', runRow));
  describe('rollback rules', () => it.each(rollback)('$name', runRow));
  describe('change windows', () => it.each(windows)('$name', runRow));
  describe('provider errors', () => it.each(providerErrors)('$name', runRow));
  describe('commands', () => it.each(commands)('$name', runRow));
});

const FINAL_STATES: RolloutState[] = ['completed', 'rolled_back', 'aborted'];
const EVERY_INPUT: DecisionInput[] = [
  analysis(BREACHING),
  { kind: 'provider-error', error: 'x' },
  { kind: 'approve', by: bob },
  { kind: 'reject', by: bob },
  { kind: 'pause', by: bob },
  { kind: 'resume', by: bob },
  { kind: 'abort', by: bob },
];

describe('decide on a final state', () => {
  it.each(FINAL_STATES.flatMap((state) => EVERY_INPUT.map((input) => ({ state, input, kind: input.kind }))))(
    '$state + $kind → refused 409',
    ({ state, input }) => {
      expectRefusal(decide(rollout({ state }), input, at(5 * MINUTE)), { refused: 'conflict', errorId: 'rollout_finished' });
    },
  );
});

// ---------------------------------------------------------------------------------------------
// Sequences: each row is one decision, fed the rollout the previous row produced
// ---------------------------------------------------------------------------------------------

interface Scenario {
  name: string;
  start: Rollout;
  steps: Array<{ at: number; input: DecisionInput; expect: Expected | Refusal }>;
}

function runScenario(s: Scenario): void {
  let current = s.start;
  s.steps.forEach((step, i) => {
    const now = at(step.at);
    const decision = decide(current, step.input, now);
    try {
      if ('refused' in step.expect) expectRefusal(decision, step.expect);
      else current = expectOutcome(current, decision, now, step.expect);
    } catch (err) {
      throw new Error(`step ${i + 1} (${step.input.kind} at +${step.at / 1000}s): ${(err as Error).message}`, { cause: err });
    }
  });
}

const W = (kind: StepVerdict['kind'], reason?: RegExp) => ({ kind, ...(reason ? { reason } : {}) });

const scenarios: Scenario[] = [
  {
    name: 'an approval given while the step is still running counts when it turns healthy',
    start: rollout(),
    steps: [
      {
        at: 5 * MINUTE,
        input: { kind: 'approve', by: bob, step: 10, ahead: true },
        expect: { state: 'running', stepIndex: 0, percentage: 1, actions: [], approvals: ['u-bob'], history: null },
      },
      {
        at: 8 * MINUTE,
        input: analysis(HEALTHY),
        expect: { state: 'running', stepIndex: 0, percentage: 1, actions: [], verdict: W('waiting', /120s to go/), history: null },
      },
      {
        at: 10 * MINUTE,
        input: analysis(HEALTHY),
        expect: {
          state: 'running',
          stepIndex: 1,
          percentage: 10,
          actions: [{ kind: 'set-percentage', percentage: 10 }],
          history: {
            from: 'running',
            to: 'running',
            stepIndex: 1,
            percentage: 10,
            reason: /advanced to 10%/,
            actor: 'controller',
            approvals: ['u-bob'],
            gates: HEALTHY_GATES,
          },
        },
      },
      // The approval was for step 2 only: step 2 → 3 needs a fresh one.
      {
        at: 20 * MINUTE,
        input: analysis(HEALTHY),
        expect: {
          state: 'awaiting_approval',
          stepIndex: 1,
          percentage: 10,
          actions: [],
          history: { from: 'running', to: 'awaiting_approval', stepIndex: 1, percentage: 10, reason: /needed for 50%/, actor: 'controller' },
        },
      },
    ],
  },
  {
    name: 'required: 2 needs two different people',
    start: rollout({ plan: policy({ stepDefaults: { ...BASE_POLICY.stepDefaults, approval: { required: 2 } } }) }),
    steps: [
      {
        at: 15 * MINUTE,
        input: analysis(HEALTHY),
        expect: {
          state: 'awaiting_approval',
          stepIndex: 0,
          percentage: 1,
          actions: [],
          history: {
            from: 'running',
            to: 'awaiting_approval',
            stepIndex: 0,
            percentage: 1,
            reason: /2 approval\(s\) from release-manager needed/,
            actor: 'controller',
          },
        },
      },
      {
        at: 16 * MINUTE,
        input: { kind: 'approve', by: bob },
        expect: { state: 'awaiting_approval', stepIndex: 0, percentage: 1, actions: [], approvals: ['u-bob'], history: null },
      },
      {
        at: 17 * MINUTE,
        input: { kind: 'approve', by: bob },
        expect: { state: 'awaiting_approval', stepIndex: 0, percentage: 1, actions: [], approvals: ['u-bob'], history: null, unchanged: true },
      },
      { at: 17 * MINUTE, input: { kind: 'approve', by: alice }, expect: { refused: 'forbidden', errorId: 'separation_of_duties' } },
      { at: 18 * MINUTE, input: analysis(HEALTHY), expect: { state: 'awaiting_approval', stepIndex: 0, percentage: 1, actions: [], history: null } },
      {
        at: 19 * MINUTE,
        input: { kind: 'approve', by: carol },
        expect: {
          state: 'running',
          stepIndex: 1,
          percentage: 10,
          actions: [{ kind: 'set-percentage', percentage: 10 }],
          approvals: ['u-bob', 'u-carol'],
          history: {
            from: 'awaiting_approval',
            to: 'running',
            stepIndex: 1,
            percentage: 10,
            reason: /advanced/,
            actor: 'Carol',
            approvals: ['u-bob', 'u-carol'],
          },
        },
      },
    ],
  },
  {
    name: 'pause holds everything; resume restarts the step clock',
    start: rollout({ plan: noApprovalPolicy() }),
    steps: [
      {
        at: 8 * MINUTE,
        input: { kind: 'pause', by: bob },
        expect: {
          state: 'paused',
          stepIndex: 0,
          percentage: 1,
          actions: [],
          pausedFrom: 'running',
          history: { from: 'running', to: 'paused', stepIndex: 0, percentage: 1, reason: /paused by Bob/, actor: 'Bob' },
        },
      },
      { at: 15 * MINUTE, input: analysis(HEALTHY), expect: { state: 'paused', stepIndex: 0, percentage: 1, actions: [], history: null } },
      { at: 2 * HOUR, input: analysis(SPARSE), expect: { state: 'paused', stepIndex: 0, percentage: 1, actions: [], history: null } },
      {
        at: 2 * HOUR + 10 * MINUTE,
        input: { kind: 'resume', by: bob },
        expect: {
          state: 'running',
          stepIndex: 0,
          percentage: 1,
          actions: [],
          stepStartedAt: iso(2 * HOUR + 10 * MINUTE),
          history: { from: 'paused', to: 'running', stepIndex: 0, percentage: 1, reason: /resumed by Bob/, actor: 'Bob' },
        },
      },
      {
        at: 2 * HOUR + 15 * MINUTE,
        input: analysis(HEALTHY),
        expect: { state: 'running', stepIndex: 0, percentage: 1, actions: [], verdict: W('waiting', /minimum duration: 300s to go/), history: null },
      },
      {
        at: 2 * HOUR + 20 * MINUTE,
        input: analysis(HEALTHY),
        expect: {
          state: 'running',
          stepIndex: 1,
          percentage: 10,
          actions: [{ kind: 'set-percentage', percentage: 10 }],
          history: { from: 'running', to: 'running', stepIndex: 1, percentage: 10, reason: /advanced/, actor: 'controller' },
        },
      },
    ],
  },
  {
    name: 'inconclusive extends the step; at its maximum duration it pauses',
    start: rollout(),
    steps: [
      {
        at: 15 * MINUTE,
        input: analysis(SPARSE),
        expect: {
          state: 'running',
          stepIndex: 0,
          percentage: 1,
          actions: [],
          verdict: W('waiting', /500 of 1000/),
          checks: { ...CLEAN, inconclusive: 1 },
          history: null,
        },
      },
      {
        at: 30 * MINUTE,
        input: { kind: 'provider-error', error: 'timeout' },
        expect: { state: 'running', stepIndex: 0, percentage: 1, actions: [], checks: { ...CLEAN, inconclusive: 2, providerErrors: 1 }, history: null },
      },
      {
        at: 59 * MINUTE,
        input: analysis(SPARSE),
        expect: { state: 'running', stepIndex: 0, percentage: 1, actions: [], checks: { ...CLEAN, inconclusive: 3, providerErrors: 1 }, history: null },
      },
      {
        at: 60 * MINUTE,
        input: analysis(SPARSE),
        expect: {
          state: 'paused',
          stepIndex: 0,
          percentage: 1,
          actions: [],
          pausedFrom: 'running',
          history: { from: 'running', to: 'paused', stepIndex: 0, percentage: 1, reason: /maximum duration: 500 of 1000/, actor: 'controller' },
        },
      },
    ],
  },
  {
    name: 'a sustained breach with an inconclusive gap: the gap keeps the clock but never fires',
    start: rollout(),
    steps: [
      {
        at: 1 * MINUTE,
        input: analysis(BREACHING),
        expect: { state: 'running', stepIndex: 0, percentage: 1, actions: [], breachingSince: [iso(1 * MINUTE)], history: null },
      },
      {
        at: 3 * MINUTE,
        input: analysis(SPARSE, TRICKLE),
        expect: { state: 'running', stepIndex: 0, percentage: 1, actions: [], breachingSince: [iso(1 * MINUTE)], history: null },
      },
      {
        at: 7 * MINUTE,
        input: analysis(SPARSE, TRICKLE),
        expect: { state: 'running', stepIndex: 0, percentage: 1, actions: [], breachingSince: [iso(1 * MINUTE)], history: null },
      },
      {
        at: 8 * MINUTE,
        input: analysis(BREACHING),
        expect: {
          state: 'rolled_back',
          stepIndex: 0,
          percentage: 1,
          actions: [kill()],
          history: { from: 'running', to: 'rolled_back', stepIndex: 0, percentage: 1, reason: KILL_REASON, actor: 'controller', rollbackChecks: BREACH_RECORD },
        },
      },
    ],
  },
  {
    name: 'a pass in between restarts the breach clock',
    start: rollout(),
    steps: [
      {
        at: 1 * MINUTE,
        input: analysis(BREACHING),
        expect: { state: 'running', stepIndex: 0, percentage: 1, actions: [], breachingSince: [iso(1 * MINUTE)], history: null },
      },
      {
        at: 3 * MINUTE,
        input: analysis(HEALTHY),
        expect: { state: 'running', stepIndex: 0, percentage: 1, actions: [], breachingSince: [null], history: null },
      },
      {
        at: 4 * MINUTE,
        input: analysis(BREACHING),
        expect: { state: 'running', stepIndex: 0, percentage: 1, actions: [], breachingSince: [iso(4 * MINUTE)], history: null },
      },
      {
        at: 8 * MINUTE,
        input: analysis(BREACHING),
        expect: { state: 'running', stepIndex: 0, percentage: 1, actions: [], breachingSince: [iso(4 * MINUTE)], history: null },
      },
      {
        at: 9 * MINUTE,
        input: analysis(BREACHING),
        expect: {
          state: 'rolled_back',
          stepIndex: 0,
          percentage: 1,
          actions: [kill()],
          history: { from: 'running', to: 'rolled_back', stepIndex: 0, percentage: 1, reason: KILL_REASON, actor: 'controller' },
        },
      },
    ],
  },
  {
    name: 'provider errors are counted apart and never roll back, even past `for`; the breach clock survives them',
    start: rollout(),
    steps: [
      {
        at: 1 * MINUTE,
        input: analysis(BREACHING),
        expect: {
          state: 'running',
          stepIndex: 0,
          percentage: 1,
          actions: [],
          breachingSince: [iso(1 * MINUTE)],
          checks: { ...CLEAN, failed: 1, consecutiveFailed: 1 },
          history: null,
        },
      },
      {
        at: 4 * MINUTE,
        input: { kind: 'provider-error', error: 'timeout' },
        expect: { state: 'running', stepIndex: 0, percentage: 1, actions: [], history: null },
      },
      {
        at: 7 * MINUTE,
        input: { kind: 'provider-error', error: 'timeout' },
        expect: { state: 'running', stepIndex: 0, percentage: 1, actions: [], history: null },
      },
      {
        at: 10 * MINUTE,
        input: { kind: 'provider-error', error: 'timeout' },
        expect: {
          state: 'running',
          stepIndex: 0,
          percentage: 1,
          actions: [],
          breachingSince: [iso(1 * MINUTE)],
          checks: { failed: 1, consecutiveFailed: 1, inconclusive: 3, providerErrors: 3 },
          history: null,
        },
      },
      {
        at: 11 * MINUTE,
        input: analysis(BREACHING),
        expect: {
          state: 'rolled_back',
          stepIndex: 0,
          percentage: 1,
          actions: [kill()],
          history: { from: 'running', to: 'rolled_back', stepIndex: 0, percentage: 1, reason: KILL_REASON, actor: 'controller' },
        },
      },
    ],
  },
  {
    name: 'a whole plan without approvals: pending → 1 → 10 → 50 → 100 → completed',
    start: rollout({ state: 'pending', percentage: 0, plan: noApprovalPolicy() }),
    steps: [
      {
        at: 0,
        input: analysis(emptyTotals()),
        expect: {
          state: 'running',
          stepIndex: 0,
          percentage: 1,
          actions: [{ kind: 'set-percentage', percentage: 1 }],
          history: { from: 'pending', to: 'running', stepIndex: 0, percentage: 1, reason: /rollout started/, actor: 'controller' },
        },
      },
      {
        at: 10 * MINUTE,
        input: analysis(HEALTHY),
        expect: {
          state: 'running',
          stepIndex: 1,
          percentage: 10,
          actions: [{ kind: 'set-percentage', percentage: 10 }],
          history: { from: 'running', to: 'running', stepIndex: 1, percentage: 10, reason: /advanced to 10%/, actor: 'controller' },
        },
      },
      {
        at: 20 * MINUTE,
        input: analysis(HEALTHY),
        expect: {
          state: 'running',
          stepIndex: 2,
          percentage: 50,
          actions: [{ kind: 'set-percentage', percentage: 50 }],
          history: { from: 'running', to: 'running', stepIndex: 2, percentage: 50, reason: /advanced to 50%/, actor: 'controller' },
        },
      },
      {
        at: 30 * MINUTE,
        input: analysis(HEALTHY),
        expect: {
          state: 'running',
          stepIndex: 3,
          percentage: 100,
          actions: [{ kind: 'set-percentage', percentage: 100 }],
          history: { from: 'running', to: 'running', stepIndex: 3, percentage: 100, reason: /advanced to 100%/, actor: 'controller' },
        },
      },
      {
        at: 40 * MINUTE,
        input: analysis(HEALTHY),
        expect: {
          state: 'completed',
          stepIndex: 3,
          percentage: 100,
          actions: [],
          history: { from: 'running', to: 'completed', stepIndex: 3, percentage: 100, reason: /last step healthy/, actor: 'controller' },
        },
      },
      { at: 50 * MINUTE, input: analysis(BREACHING), expect: { refused: 'conflict', errorId: 'rollout_finished' } },
    ],
  },
];

describe('decide: sequences', () => {
  it.each(scenarios)('$name', runScenario);
});

// ---------------------------------------------------------------------------------------------
// Regressions: each row states a rule that decide once broke (the bug is described above it),
// and passes since the fix. They are plain tests: a return of the bug fails them.
// ---------------------------------------------------------------------------------------------

describe('decide: regressions of bugs found and fixed', () => {
  // Was bug decide-1, fixed (src/rollouts/decide.ts, analyse: `if (next.state === 'running') next = judgeStep(...)`):
  // gates are not judged while awaiting_approval, so a step whose gate starts failing after it
  // reached awaiting_approval keeps its stale "healthy" verdict and an approval advances it.
  // Rule: advancing needs every gate passing.
  it('a gate failing while awaiting approval blocks the advance an approval would make', () => {
    const waiting = awaiting();
    const after = expectDecided(decide(waiting, analysis(GATE_FAILING), at(20 * MINUTE))).next;
    const approved = expectDecided(decide(after, { kind: 'approve', by: bob }, at(21 * MINUTE)));
    expect(approved.actions).toEqual([]);
    expect(approved.next.percentage).toBe(1);
  });

  // Was bug decide-2, fixed (src/rollouts/decide.ts, case 'provider-error'): the verdict is reset to waiting only
  // when running, then `progress` runs advanceOrWait for awaiting_approval. An approved rollout
  // waiting for its change window advances on a tick whose metrics could not be read.
  // Rule: inconclusive (provider error) never advances.
  it('a provider error never advances, even an approved rollout whose window just opened', () => {
    const waiting = awaiting({ plan: policy({ windows: SHANGHAI_OFFICE_HOURS }), approvals: [approval(bob, 1)] });
    const d = expectDecided(decide(waiting, { kind: 'provider-error', error: 'timeout' }, SHANGHAI_TUESDAY_MORNING));
    expect(d.actions).toEqual([]);
    expect(d.next.state).toBe('awaiting_approval');
  });

  // Was bug decide-3, fixed (src/rollouts/decide.ts, case 'abort'): the rollout keeps `percentage` of its step
  // although the same decision sets its strategy to 0 %, so the stored rollout disagrees with the flag.
  it('abort leaves the rollout at 0 %, as its action sets the strategy', () => {
    const d = expectDecided(decide(onStep(2), { kind: 'abort', by: bob }, at(5 * MINUTE)));
    expect(d.actions).toEqual([{ kind: 'set-percentage', percentage: 0 }]);
    expect(d.next.percentage).toBe(0);
  });

  // Was bug decide-4, fixed (src/rollouts/decide.ts, analyse: `r.state === 'pending' ? -1 : ...`): a rollout
  // paused before it ever started is checked like a started one, so a breach kills the flag (and the
  // policy's extra kill switches) although the rollout never exposed anyone; pending itself never does.
  it('a rollout paused while pending never rolls back, like a pending one', () => {
    const d = expectDecided(
      decide(rollout({ state: 'paused', pausedFrom: 'pending', percentage: 0, breachingSince: [iso(0)] }), analysis(BREACHING), at(20 * MINUTE)),
    );
    expect(d.actions).toEqual([]);
    expect(d.next.state).toBe('paused');
  });
});

describe('decide: when the step’s traffic counts from', () => {
  const traffic = { minExposures: 100, sampleRatio: { pValue: 0.001 } };
  const counting = (since: number) => ({ kind: 'counting' as const, since, instances: 1, gaveUp: 0 });

  it('keeps the first time counting began for the rest of the step, and forgets it at the next step and on resume', () => {
    const r = rollout({ plan: noApprovalPolicy({ traffic }) });
    const since = at(20 * SECOND).getTime();
    // Too early to advance (minimum duration): the time is kept.
    const first = expectDecided(decide(r, analysisWith(HEALTHY, { trafficWindow: counting(since) }), at(MINUTE))).next;
    expect(first.trafficSettledAt).toBe(new Date(since).toISOString());
    // A later analysis with another window does not move it.
    const later = expectDecided(decide(first, analysisWith(HEALTHY, { trafficWindow: counting(since + MINUTE) }), at(2 * MINUTE))).next;
    expect(later.trafficSettledAt).toBe(first.trafficSettledAt);
    // Advancing starts a step whose traffic has not counted yet.
    const advanced = expectDecided(
      decide(later, analysisWith(HEALTHY, { exposures: { on: 1, off: 200 }, trafficWindow: counting(since) }), at(15 * MINUTE)),
    ).next;
    expect(advanced.percentage).toBe(10);
    expect(advanced.trafficSettledAt).toBeUndefined();
    // So does resuming (the step is judged afresh).
    const paused = expectDecided(decide(later, { kind: 'pause', by: alice }, at(3 * MINUTE))).next;
    const resumed = expectDecided(decide(paused, { kind: 'resume', by: alice }, at(4 * MINUTE))).next;
    expect(resumed.trafficSettledAt).toBeUndefined();
  });

  it('is not set while the SDKs are still fetching the step', () => {
    const r = rollout({ plan: noApprovalPolicy({ traffic }) });
    const waiting = { kind: 'waiting' as const, fetched: 0, instances: 2, until: at(MINUTE).getTime() };
    expect(expectDecided(decide(r, analysisWith(HEALTHY, { trafficWindow: waiting }), at(30 * SECOND))).next.trafficSettledAt).toBeUndefined();
  });
});
