import { describe, expect, it } from 'vitest';
import { deriveEvents } from '../../src/notifications/events.js';
import { decide } from '../../src/rollouts/decide.js';
import type { DecisionInput, Rollout } from '../../src/rollouts/rollout-model.js';
import {
  analysis,
  at,
  bob,
  BREACHING,
  EXTRA_KILL,
  expectDecided,
  FLAG,
  GATE_FAILING,
  HEALTHY,
  iso,
  MINUTE,
  noApprovalPolicy,
  policy,
  rollout,
  SECOND,
  totals,
} from './decide-fixtures.js';

/**
 * Attribution ("a breach that control shares is an incident, not the feature's fault"), row by row
 * through the real decision core: a rollback rule or a gate failing beyond doubt that control
 * breaches as badly holds the rollout instead of killing the flag, and it goes on by itself once the
 * breach clears. A breach in treatment alone rolls back exactly as before.
 */

const SHARED = /control is as bad: shared incident/;

/** Both cohorts over the base rule's 5 %: treatment 8 % of 2,000, control 7.5 % of 20,000 (an incident). */
const INCIDENT = totals({
  treatment: { requests: 2000, errors: 160, latency: { '50': 2000 } },
  control: { requests: 20_000, errors: 1500, latency: { '50': 20_000 } },
});
/** Treatment over the line, control too, but with too few requests to say anything (10 of 20). */
const CONTROL_SPARSE = totals({ treatment: { requests: 2000, errors: 160, latency: { '50': 2000 } }, control: { requests: 10, errors: 5 } });

const decideOn = (r: Rollout, input: DecisionInput, ms: number) => expectDecided(decide(r, input, at(ms)));
const kill = (reason: RegExp) => ({ kind: 'kill', flags: [FLAG, EXTRA_KILL], reason: expect.stringMatching(reason) });

describe('attribution of a rollback rule (error_rate(treatment) > 5 % for 5m)', () => {
  // Each row starts breaching at 10m; at 15m the breach has lasted the rule's 5 minutes.
  const breaching = (overrides: Partial<Rollout> = {}) => rollout({ plan: noApprovalPolicy(), breachingSince: [iso(10 * MINUTE)], ...overrides });

  it('a shared breach past its `for` holds: no kill, the clock kept, failing with the reason, both cohorts recorded', () => {
    const { next, actions } = decideOn(breaching(), analysis(HEALTHY, INCIDENT), 15 * MINUTE);
    expect(actions).toEqual([]);
    expect(next).toMatchObject({ state: 'running', stepIndex: 0, percentage: 1, breachingSince: [iso(10 * MINUTE)] });
    expect(next.history).toEqual([]);
    expect(next.stepVerdict).toEqual({
      kind: 'failing',
      shared: true,
      reason:
        'rollback rule error_rate(treatment) > 0.05 for 5m breached, but control is as bad: shared incident ' +
        '(treatment 8% over 2,000 requests, control 7.5% over 20,000 requests); holding until it clears',
      // The same sentence as a template and its values, to be said in the reader's language (verdict-wording.ts).
      reasonWording: expect.objectContaining({
        template: 'rollback rule {rule} breached, but control is as bad: shared incident ({treatment}, {control}); holding until it clears',
      }),
    });
    expect(next.rollbackChecks).toEqual([
      expect.objectContaining({
        verdict: 'fail',
        value: 0.08,
        shared: true,
        cohorts: { treatment: { value: 0.08, samples: 2000 }, control: { value: 0.075, samples: 20_000 } },
      }),
    ]);
    // The gates themselves pass (the step window is healthy): only the incident holds the step.
    expect(next.gates.map((g) => g.verdict)).toEqual(['pass', 'pass']);
  });

  it('held while awaiting approval: an approval given meanwhile does not advance the step', () => {
    const waiting = breaching({ plan: policy(), state: 'awaiting_approval', stepVerdict: { kind: 'healthy' } });
    const held = decideOn(waiting, analysis(HEALTHY, INCIDENT), 15 * MINUTE).next;
    expect(held.stepVerdict).toMatchObject({ kind: 'failing', reason: expect.stringMatching(SHARED) });
    const approved = decideOn(held, { kind: 'approve', by: bob }, 16 * MINUTE);
    expect(approved.next).toMatchObject({ state: 'awaiting_approval', stepIndex: 0, percentage: 1 });
    expect(approved.actions).toEqual([]);
  });

  it('the incident over, the rollout goes on by itself: the clock clears and the healthy step advances', () => {
    const held = decideOn(breaching(), analysis(HEALTHY, INCIDENT), 15 * MINUTE).next;
    const held2 = decideOn(held, analysis(HEALTHY, INCIDENT), 20 * MINUTE).next;
    expect(held2.state).toBe('running');
    const { next, actions } = decideOn(held2, analysis(HEALTHY), 21 * MINUTE);
    expect(actions).toEqual([{ kind: 'set-percentage', percentage: 10 }]);
    expect(next).toMatchObject({ state: 'running', stepIndex: 1, percentage: 10, breachingSince: [null] });
    expect(next.history.map((t) => [t.from, t.to, t.actor, t.reason])).toEqual([['running', 'running', 'controller', 'advanced to 10%']]);
  });

  it('a breach that stays in treatment once control recovers kills at once: the clock ran all along', () => {
    const held = decideOn(breaching(), analysis(HEALTHY, INCIDENT), 15 * MINUTE).next;
    const { next, actions } = decideOn(held, analysis(HEALTHY, BREACHING), 16 * MINUTE);
    expect(next.state).toBe('rolled_back');
    expect(actions).toEqual([kill(/^rollback rule error_rate\(treatment\) > 0\.05 for 5m breached: error_rate 8% over 2,000 requests$/)]);
    expect(next.history.at(-1)).toMatchObject({ from: 'running', to: 'rolled_back', cause: { kind: 'rollback-rule', verdict: 'fail' } });
    // Control's figures are kept with the cause: it was healthy, so the breach is the feature's.
    expect(next.history.at(-1)!.cause!.cohorts!.control).toEqual({ value: 0.002, samples: 20_000 });
    expect(next.history.at(-1)!.cause!.shared).toBeUndefined();
  });

  it('a treatment-only breach rolls back at exactly the same analysis as without attribution', () => {
    // The same analyses under both settings: the kill comes at the same time, with the same reason, actions and transition.
    const times = [1 * MINUTE, 3 * MINUTE, 5 * MINUTE + 59 * SECOND, 6 * MINUTE];
    const run = (onSharedBreach: 'hold' | 'rollback') => {
      let r = rollout({ plan: noApprovalPolicy({ onSharedBreach }) });
      return times.map((ms) => {
        const d = decideOn(r, analysis(BREACHING), ms);
        r = d.next;
        const t = d.next.history.at(-1);
        return {
          state: d.next.state,
          breachingSince: d.next.breachingSince,
          actions: d.actions,
          transition: t && { ...t, rollbackChecks: undefined, cause: undefined },
        };
      });
    };
    const hold = run('hold');
    expect(hold).toEqual(run('rollback'));
    expect(hold.map((d) => d.state)).toEqual(['running', 'running', 'running', 'rolled_back']);
    expect(hold[3]!.actions).toEqual([kill(/^rollback rule error_rate\(treatment\) > 0\.05 for 5m breached/)]);
  });

  it('an analysis too thin to judge does not end a shared incident: the step keeps holding on the last shared evidence', () => {
    const held = decideOn(breaching(), analysis(HEALTHY, INCIDENT), 15 * MINUTE).next;
    expect(held.stepVerdict).toMatchObject({ kind: 'failing', shared: true });
    // The last interval holds too few requests to say anything: the rule is inconclusive, its clock keeps running.
    const thin = totals({ treatment: { requests: 3, errors: 0 }, control: { requests: 3, errors: 0 } });
    const { next, actions } = decideOn(held, analysis(HEALTHY, thin), 15 * MINUTE + 30 * SECOND);
    expect(next.rollbackChecks[0]!.verdict).toBe('inconclusive');
    expect(next.breachingSince).toEqual([iso(10 * MINUTE)]);
    expect(actions).toEqual([]);
    expect(next).toMatchObject({ state: 'running', stepIndex: 0, percentage: 1 });
    expect(next.stepVerdict).toMatchObject({ kind: 'failing', shared: true, reason: expect.stringMatching(SHARED) });
    // Evidence that the incident is over clears the clock, and the hold with it.
    const cleared = decideOn(next, analysis(HEALTHY, HEALTHY), 16 * MINUTE).next;
    expect(cleared.breachingSince).toEqual([null]);
    expect(cleared.stepVerdict.kind).not.toBe('failing');
  });

  it('onSharedBreach: rollback kills on a shared breach, as before attribution', () => {
    const { next, actions } = decideOn(breaching({ plan: noApprovalPolicy({ onSharedBreach: 'rollback' }) }), analysis(HEALTHY, INCIDENT), 15 * MINUTE);
    expect(next.state).toBe('rolled_back');
    expect(actions).toEqual([kill(/^rollback rule error_rate\(treatment\) > 0\.05 for 5m breached: error_rate 8% over 2,000 requests$/)]);
    expect(next.rollbackChecks[0]!.shared).toBeUndefined();
  });

  it('a plan stored before attribution existed (no onSharedBreach) keeps rolling back as it did', () => {
    const { onSharedBreach: _, ...old } = noApprovalPolicy();
    const { next } = decideOn(breaching({ plan: old as Rollout['plan'] }), analysis(HEALTHY, INCIDENT), 15 * MINUTE);
    expect(next.state).toBe('rolled_back');
  });

  it.each([
    { what: 'control has too few requests to say (inconclusive, not shared)', recent: CONTROL_SPARSE, overrides: {} },
    { what: 'at 100 % there is no control: the rule’s own threshold decides', recent: INCIDENT, overrides: { stepIndex: 3, percentage: 100 } },
  ])('$what → rolls back', ({ recent, overrides }) => {
    const { next, actions } = decideOn(breaching(overrides), analysis(HEALTHY, recent), 15 * MINUTE);
    expect(next.state).toBe('rolled_back');
    expect(actions).toEqual([kill(/breached/)]);
  });

  it('with a confidence, control must be over the line beyond doubt too: a control merely over it by chance is not shared', () => {
    const plan = noApprovalPolicy({ rollback: [{ metric: 'error_rate', above: 0.05, confidence: 0.95 }] });
    // Treatment 15 % of 2,000 is beyond doubt; control 7 % of 100 is over 5 % but not beyond doubt.
    const chance = totals({ treatment: { requests: 2000, errors: 300 }, control: { requests: 100, errors: 7 } });
    expect(decideOn(rollout({ plan }), analysis(HEALTHY, chance), MINUTE).next.state).toBe('rolled_back');
    // Control 15 % of 20,000 is beyond doubt as well: shared, held.
    const incident = totals({ treatment: { requests: 2000, errors: 300 }, control: { requests: 20_000, errors: 3000 } });
    const held = decideOn(rollout({ plan }), analysis(HEALTHY, incident), MINUTE).next;
    expect(held.state).toBe('running');
    expect(held.rollbackChecks[0]).toMatchObject({ shared: true, confident: true });
  });

  it('a shared breach holds from its first analysis, before its `for` has passed: the rollout never widens during an incident', () => {
    const { next, actions } = decideOn(rollout({ plan: noApprovalPolicy() }), analysis(HEALTHY, INCIDENT), 15 * MINUTE);
    expect(actions).toEqual([]);
    expect(next).toMatchObject({ state: 'running', stepIndex: 0, breachingSince: [iso(15 * MINUTE)] });
    expect(next.stepVerdict).toMatchObject({ kind: 'failing', shared: true, reason: expect.stringMatching(SHARED) });
    // A breach in treatment alone, not yet sustained, is judged as before: the healthy step advances.
    expect(decideOn(rollout({ plan: noApprovalPolicy() }), analysis(HEALTHY, BREACHING), 15 * MINUTE).next.stepIndex).toBe(1);
  });

  it('a hold longer than the step’s maxDuration pauses for a person, like any step that stays unhealthy', () => {
    const held = decideOn(breaching({ breachingSince: [iso(50 * MINUTE)] }), analysis(HEALTHY, INCIDENT), 60 * MINUTE).next;
    expect(held.state).toBe('paused');
    expect(held.pauseReason).toMatch(SHARED);
  });
});

describe('attribution of an absolute gate failing beyond doubt (onGateFailure: rollback)', () => {
  const gatePolicy = (overrides = {}) =>
    noApprovalPolicy({ onGateFailure: 'rollback', gates: [{ metric: 'error_rate', max: 0.01, confidence: 0.95 }], rollback: [], ...overrides });
  /** 5 % errors in both cohorts: beyond doubt over the 1 % gate in each. */
  const BOTH_BAD = totals({ treatment: { requests: 1000, errors: 50 }, control: { requests: 20_000, errors: 1000 } });

  it('control fails it beyond doubt too → held, not killed, with the reason', () => {
    const { next, actions } = decideOn(rollout({ plan: gatePolicy() }), analysis(BOTH_BAD), 15 * MINUTE);
    expect(actions).toEqual([]);
    expect(next.state).toBe('running');
    expect(next.stepVerdict).toMatchObject({ kind: 'failing', shared: true, reason: expect.stringMatching(SHARED) });
    expect(next.stepVerdict.kind === 'failing' && next.stepVerdict.reason).toMatch(
      /^gate error_rate\(treatment\) <= 0\.01 at 0\.95 confidence failed, but control/,
    );
    expect(next.gates[0]).toMatchObject({ verdict: 'fail', confident: true, shared: true, cohorts: { control: { value: 0.05, samples: 20_000 } } });
  });

  it('the gate passing again, the step goes on by itself', () => {
    const held = decideOn(rollout({ plan: gatePolicy() }), analysis(BOTH_BAD), 15 * MINUTE).next;
    const { next, actions } = decideOn(held, analysis(HEALTHY), 16 * MINUTE);
    expect(actions).toEqual([{ kind: 'set-percentage', percentage: 10 }]);
    expect(next.stepIndex).toBe(1);
  });

  it.each([
    {
      what: 'control healthy: the feature’s own failure',
      policy: gatePolicy(),
      step: totals({ treatment: { requests: 1000, errors: 50 }, control: { requests: 20_000, errors: 40 } }),
    },
    { what: 'onSharedBreach: rollback', policy: gatePolicy({ onSharedBreach: 'rollback' }), step: BOTH_BAD },
  ])('$what → rolls back', ({ policy: plan, step }) => {
    const { next, actions } = decideOn(rollout({ plan }), analysis(step), 15 * MINUTE);
    expect(next.state).toBe('rolled_back');
    expect(actions).toEqual([kill(/^gate error_rate\(treatment\) <= 0\.01 at 0\.95 confidence failed beyond doubt/)]);
  });
});

describe('a held step notifies (rollout.gate_failing)', () => {
  const breaching = rollout({ plan: noApprovalPolicy(), breachingSince: [iso(10 * MINUTE)] });

  it('turning held from healthy: one gate_failing, naming the shared rule with both cohorts', () => {
    const before = { ...breaching, stepVerdict: { kind: 'healthy' } } as Rollout;
    const after = decideOn(before, analysis(HEALTHY, INCIDENT), 15 * MINUTE).next;
    const events = deriveEvents(before, after);
    expect(events.map((e) => e.type)).toEqual(['rollout.gate_failing']);
    const details = events[0]!.details as { reason: string; failing: Array<{ rule: string; shared?: boolean }> };
    expect(details.reason).toMatch(SHARED);
    expect(details.failing).toEqual([expect.objectContaining({ rule: 'error_rate(treatment) > 0.05 for 5m', shared: true })]);
  });

  it('turning held while gates were already failing is news too; staying held is not repeated', () => {
    const failing = { ...breaching, stepVerdict: { kind: 'failing', reason: 'error_rate(treatment) <= 0.01: 1.5% over 2,000 requests' } } as Rollout;
    const held = decideOn(failing, analysis(GATE_FAILING, INCIDENT), 15 * MINUTE).next;
    expect(held.stepVerdict).toMatchObject({ kind: 'failing', shared: true });
    expect(deriveEvents(failing, held).map((e) => e.type)).toEqual(['rollout.gate_failing']);
    const still = decideOn(held, analysis(GATE_FAILING, INCIDENT), 16 * MINUTE).next;
    expect(deriveEvents(held, still)).toEqual([]);
  });
});
