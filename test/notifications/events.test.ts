import { describe, expect, it } from 'vitest';
import { decide } from '../../src/rollouts/decide.js';
import type { DecisionInput, Rollout } from '../../src/rollouts/rollout-model.js';
import { deriveEvents, type RolloutEvent } from '../../src/notifications/events.js';
import { emptyTotals } from '../../src/metrics/outcome-math.js';
import {
  alice,
  analysis,
  at,
  bob,
  BREACHING,
  expectDecided,
  EXTRA_KILL,
  FLAG,
  GATE_FAILING,
  HEALTHY,
  HOUR,
  iso,
  MINUTE,
  noApprovalPolicy,
  onStep,
  rollout,
  SPARSE,
} from '../unit/decide-fixtures.js';

/**
 * deriveEvents on real changes: each row takes a rollout, lets the real decision core make the
 * change it would make, and checks which events that change gives rise to, in order.
 */

interface Row {
  name: string;
  /** null: the rollout is created by this change (RolloutService.start). */
  before: Rollout | null;
  /** For a created rollout, the pending document the start decides on. */
  from?: Rollout;
  input: DecisionInput;
  now: Date;
  expect: Array<{ type: RolloutEvent['type']; rollout?: Partial<RolloutEvent['rollout']>; details?: Record<string, unknown> }>;
}

const failingVerdict = { kind: 'failing', reason: 'error_rate(treatment) <= 0.01: 1.5% over 2,000 requests' } as const;
const approveBy = (by = bob, comment?: string): DecisionInput => ({ kind: 'approve', by, ...(comment ? { comment } : {}) });
const passAll = [{ verdict: 'pass' }, { verdict: 'pass' }];

const rows: Row[] = [
  {
    name: 'a rollout started inside its window, no Go/No-Go: started, at the first step',
    before: null,
    from: rollout({ state: 'pending', percentage: 0, stepVerdict: { kind: 'waiting', reason: 'not started' }, plan: noApprovalPolicy() }),
    input: analysis(emptyTotals()),
    now: at(0),
    expect: [
      {
        type: 'rollout.started',
        rollout: { state: 'running', stepIndex: 0, percentage: 1 },
        details: { startedBy: alice.name, percentage: 1, reason: 'rollout started' },
      },
    ],
  },
  {
    name: 'a rollout whose first step asks for approval: awaiting the Go/No-Go for 1%',
    before: null,
    from: rollout({ state: 'pending', percentage: 0, stepVerdict: { kind: 'waiting', reason: 'not started' } }),
    input: analysis(emptyTotals()),
    now: at(0),
    expect: [
      {
        type: 'rollout.awaiting_approval',
        rollout: { state: 'awaiting_approval', percentage: 0 },
        details: { nextPercentage: 1, approvalsNeeded: 1, roles: ['release-manager'] },
      },
    ],
  },
  {
    name: 'the Go/No-Go approved: started, at the first step',
    before: expectDecided(decide(rollout({ state: 'pending', percentage: 0 }), analysis(emptyTotals()), at(0))).next,
    input: { kind: 'approve', by: bob, step: 1 },
    now: at(MINUTE),
    expect: [{ type: 'rollout.started', rollout: { state: 'running', stepIndex: 0, percentage: 1 }, details: { percentage: 1 } }],
  },
  {
    name: 'a step that turns healthy without approvals: awaiting_approval, with the gates and who may approve',
    before: rollout(),
    input: analysis(HEALTHY),
    now: at(11 * MINUTE),
    expect: [
      {
        type: 'rollout.awaiting_approval',
        rollout: { state: 'awaiting_approval', percentage: 1 },
        details: { nextPercentage: 10, approvalsNeeded: 1, roles: ['release-manager'], gates: passAll },
      },
    ],
  },
  {
    name: 'an approval of a healthy waiting step: step_advanced, naming the approver and the comment',
    before: rollout({ state: 'awaiting_approval', stepVerdict: { kind: 'healthy' } }),
    input: approveBy(bob, 'looks good'),
    now: at(20 * MINUTE),
    expect: [
      {
        type: 'rollout.step_advanced',
        rollout: { state: 'running', stepIndex: 1, percentage: 10 },
        details: {
          fromPercentage: 1,
          toPercentage: 10,
          step: 2,
          steps: 4,
          by: bob.name,
          approvals: [{ by: bob.name, at: iso(20 * MINUTE), comment: 'looks good' }],
        },
      },
    ],
  },
  {
    name: 'an approval given early, then the step turns healthy: advances straight on (no awaiting_approval)',
    before: rollout({ approvals: [{ by: bob, at: iso(MINUTE), step: 1 }] }),
    input: analysis(HEALTHY),
    now: at(11 * MINUTE),
    expect: [
      {
        type: 'rollout.step_advanced',
        rollout: { stepIndex: 1, percentage: 10 },
        details: { fromPercentage: 1, toPercentage: 10, by: 'controller', approvals: [{ by: bob.name, at: iso(MINUTE) }] },
      },
    ],
  },
  {
    name: 'gates turn failing: gate_failing with the failing gates only',
    before: rollout({ stepVerdict: { kind: 'healthy' } }),
    input: analysis(GATE_FAILING),
    now: at(15 * MINUTE),
    expect: [
      {
        type: 'rollout.gate_failing',
        rollout: { state: 'running', percentage: 1 },
        details: { reason: failingVerdict.reason, failing: [{ metric: 'error_rate', value: 0.015, verdict: 'fail' }] },
      },
    ],
  },
  {
    name: 'gates still failing at the next analysis: nothing new to tell',
    before: rollout({ stepVerdict: failingVerdict }),
    input: analysis(GATE_FAILING),
    now: at(16 * MINUTE),
    expect: [],
  },
  {
    name: 'gates failing while waiting for approval: told too (an approval would not advance it now)',
    before: rollout({ state: 'awaiting_approval', stepVerdict: { kind: 'healthy' } }),
    input: analysis(GATE_FAILING),
    now: at(15 * MINUTE),
    expect: [{ type: 'rollout.gate_failing', rollout: { state: 'awaiting_approval' } }],
  },
  {
    name: 'gates turn failing at the step’s deadline: gate_failing, then the pause it causes',
    before: rollout({ stepVerdict: { kind: 'waiting', reason: '500 of 1000 treatment samples' } }),
    input: analysis(GATE_FAILING),
    now: at(HOUR + MINUTE),
    expect: [
      { type: 'rollout.gate_failing', rollout: { state: 'paused' } },
      {
        type: 'rollout.paused',
        rollout: { state: 'paused', percentage: 1 },
        details: { by: 'controller', reason: expect.stringMatching(/did not pass its gates within its maximum duration/) },
      },
    ],
  },
  {
    name: 'an analysis that changes nothing a person cares about (still collecting samples): no events',
    before: rollout(),
    input: analysis(SPARSE),
    now: at(15 * MINUTE),
    expect: [],
  },
  {
    name: 'a sustained breach: rolled_back with the breaching values and every flag switched off',
    before: rollout({ breachingSince: [iso(10 * MINUTE)] }),
    input: analysis(BREACHING),
    now: at(15 * MINUTE),
    expect: [
      {
        type: 'rollout.rolled_back',
        rollout: { state: 'rolled_back', percentage: 1 },
        details: {
          reason: 'rollback rule error_rate(treatment) > 0.05 for 5m breached: error_rate 8% over 2,000 requests',
          breaches: [{ rule: 'error_rate(treatment) > 0.05 for 5m', metric: 'error_rate', threshold: 0.05, value: 0.08, samples: 2000, verdict: 'fail' }],
          killed: [FLAG, EXTRA_KILL],
          samples: { treatment: 2000, control: 20_000 },
        },
      },
    ],
  },
  {
    name: 'a person pauses: paused, by them, with their comment',
    before: rollout(),
    input: { kind: 'pause', by: bob, comment: 'incident elsewhere' },
    now: at(5 * MINUTE),
    expect: [{ type: 'rollout.paused', rollout: { state: 'paused' }, details: { by: bob.name, reason: `paused by ${bob.name}: incident elsewhere` } }],
  },
  {
    name: 'a person rejects a waiting step: paused (the rejection is the reason)',
    before: rollout({ state: 'awaiting_approval', stepVerdict: { kind: 'healthy' } }),
    input: { kind: 'reject', by: bob, comment: 'not on a Friday' },
    now: at(20 * MINUTE),
    expect: [{ type: 'rollout.paused', details: { by: bob.name, reason: `rejected by ${bob.name}: not on a Friday` } }],
  },
  {
    name: 'resumed: resumed, by whom',
    before: rollout({ state: 'paused', pausedFrom: 'running', pauseReason: 'paused by Bob' }),
    input: { kind: 'resume', by: bob },
    now: at(30 * MINUTE),
    expect: [{ type: 'rollout.resumed', rollout: { state: 'running' }, details: { by: bob.name } }],
  },
  {
    name: 'resumed before it ever started (window closed): resumed, back to pending',
    before: rollout({
      state: 'paused',
      pausedFrom: 'pending',
      percentage: 0,
      plan: noApprovalPolicy({ windows: { allow: [], deny: [{ dates: ['2026-03-02'] }] } }),
    }),
    input: { kind: 'resume', by: bob },
    now: at(30 * MINUTE),
    expect: [{ type: 'rollout.resumed', rollout: { state: 'pending' }, details: { by: bob.name } }],
  },
  {
    name: 'the last step turns healthy: completed, with its gates and samples',
    before: onStep(3, { plan: noApprovalPolicy() }),
    input: analysis(HEALTHY),
    now: at(11 * MINUTE),
    expect: [
      {
        type: 'rollout.completed',
        rollout: { state: 'completed', stepIndex: 3, percentage: 100 },
        details: { percentage: 100, gates: passAll, samples: { treatment: 2000, control: 20_000 } },
      },
    ],
  },
  {
    name: 'aborted: aborted, by whom and why',
    before: rollout(),
    input: { kind: 'abort', by: bob, comment: 'wrong flag' },
    now: at(5 * MINUTE),
    expect: [
      { type: 'rollout.aborted', rollout: { state: 'aborted', percentage: 1 }, details: { by: bob.name, reason: `aborted by ${bob.name}: wrong flag` } },
    ],
  },
];

function change(row: Row): { before: Rollout | null; after: Rollout } {
  const subject = row.before ?? row.from!;
  const after = expectDecided(decide(subject, row.input, row.now)).next;
  return { before: row.before, after };
}

describe('deriveEvents: what a change of a rollout tells', () => {
  it.each(rows)('$name', (row) => {
    const { before, after } = change(row);
    const events = deriveEvents(before, after);
    expect(events.map((e) => e.type)).toEqual(row.expect.map((e) => e.type));
    events.forEach((event, i) => {
      const want = row.expect[i]!;
      expect(event.rollout).toMatchObject({ id: after.id, flag: FLAG, environment: 'production', policy: after.policy, ...want.rollout });
      if (want.details) expect(event.details).toMatchObject(want.details);
      expect(event.id).toMatch(/^evt_[0-9a-f]{32}$/);
      expect(event.occurredAt).toBe(row.now.toISOString());
    });
  });

  it('gives the same change the same event ids (so a retried outbox write lands on the same job), and different events different ids', () => {
    const row = rows.find((r) => r.name.startsWith('gates turn failing at the step’s deadline'))!;
    const { before, after } = change(row);
    const first = deriveEvents(before, after);
    const again = deriveEvents(structuredClone(before), structuredClone(after));
    expect(again.map((e) => e.id)).toEqual(first.map((e) => e.id));
    expect(new Set(first.map((e) => e.id)).size).toBe(2);
  });

  it('tells gate_failing again once the step recovered and fails anew', () => {
    const failing = expectDecided(decide(rollout({ stepVerdict: { kind: 'healthy' } }), analysis(GATE_FAILING), at(15 * MINUTE))).next;
    const recovered = expectDecided(decide(failing, analysis(SPARSE), at(16 * MINUTE))).next;
    expect(deriveEvents(failing, recovered)).toEqual([]);
    const failingAgain = expectDecided(decide(recovered, analysis(GATE_FAILING), at(17 * MINUTE))).next;
    const [event] = deriveEvents(recovered, failingAgain);
    expect(event?.type).toBe('rollout.gate_failing');
    expect(event?.occurredAt).toBe(iso(17 * MINUTE));
  });
});
