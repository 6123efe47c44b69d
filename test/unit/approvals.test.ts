import { describe, expect, it } from 'vitest';
import { decide } from '../../src/rollouts/decide.js';
import { awaitedStepIndex, nextStepIndex } from '../../src/rollouts/approvals.js';
import type { DecisionInput, Rollout } from '../../src/rollouts/rollout-model.js';
import { emptyTotals } from '../../src/metrics/outcome-math.js';
import { MINUTE, alice, analysis, at, bob, carol, BREACHING, expectDecided, expectRefused, HEALTHY, policy, rollout } from './decide-fixtures.js';

/** Sign-off rules that span several decisions: the Go/No-Go, approvals that name their step, and approvals made void. */

const pending = (plan = policy()): Rollout => rollout({ state: 'pending', percentage: 0, plan, stepVerdict: { kind: 'waiting', reason: 'not started' } });
const run = (r: Rollout, input: DecisionInput, ms: number) => expectDecided(decide(r, input, at(ms)));
const start = (r: Rollout) => run(r, analysis(emptyTotals()), 0).next;

describe('the Go/No-Go: a first step that asks for approval serves nothing until approved', () => {
  it('waits at 0 % in awaiting_approval, judging nothing and rolling nothing back', () => {
    const waiting = start(pending());
    expect({ state: waiting.state, percentage: waiting.percentage, stepIndex: waiting.stepIndex }).toEqual({
      state: 'awaiting_approval',
      percentage: 0,
      stepIndex: 0,
    });
    expect(waiting.history.at(-1)!.reason).toMatch(/^Go\/No-Go: 1 approval\(s\) from release-manager needed for 1%/);
    expect(awaitedStepIndex(waiting)).toBe(0);
    // Outcomes that would breach every rule mean nothing here: nobody is exposed yet.
    const later = run(waiting, analysis(BREACHING), 30 * MINUTE);
    expect(later.actions).toEqual([]);
    expect(later.next.state).toBe('awaiting_approval');
    expect(later.next.gates).toEqual([]);
  });

  it('the approval of the 1 % step enters it, with the approval recorded on the transition', () => {
    const waiting = start(pending());
    const go = run(waiting, { kind: 'approve', by: bob, step: 1 }, MINUTE);
    expect(go.actions).toEqual([{ kind: 'set-percentage', percentage: 1 }]);
    expect({ state: go.next.state, percentage: go.next.percentage }).toEqual({ state: 'running', percentage: 1 });
    expect(go.next.history.at(-1)).toMatchObject({ from: 'awaiting_approval', to: 'running', percentage: 1, actor: 'Bob', approvals: [{ by: bob, step: 0 }] });
    expect(nextStepIndex(go.next)).toBe(1);
  });

  it('an approval for the 10 % step at the Go/No-Go is refused naming the 1 % step', () => {
    const refused = expectRefused(decide(start(pending()), { kind: 'approve', by: bob, step: 10 }, at(MINUTE)));
    expect(refused.errorId).toBe('not_awaited_step');
    expect(refused.details).toEqual({ awaitingStep: 1 });
  });

  it('a first step that asks for none starts at once', () => {
    const plan = policy({ steps: [{ percentage: 1, approval: { required: 0 } }, 10, 100] });
    const started = run(pending(plan), analysis(emptyTotals()), 0);
    expect(started.actions).toEqual([{ kind: 'set-percentage', percentage: 1 }]);
  });

  it('a per-step approval on the first step is honoured even when the defaults ask for none', () => {
    const plan = policy({ stepDefaults: { approval: { required: 0 } }, steps: [{ percentage: 1, approval: { required: 1 } }, 10, 100] });
    expect(start(pending(plan)).state).toBe('awaiting_approval');
  });
});

describe('approvals made void', () => {
  it('a pause voids approvals not yet used; after resume the step needs them afresh', () => {
    const awaiting = run(rollout(), analysis(HEALTHY), 15 * MINUTE).next;
    // Required 2: Bob's approval alone keeps it waiting.
    const twoNeeded = { ...awaiting, plan: policy({ stepDefaults: { approval: { required: 2 } } }) };
    const half = run(twoNeeded, { kind: 'approve', by: bob, step: 10 }, 16 * MINUTE).next;
    expect(half.approvals).toHaveLength(1);
    const paused = run(half, { kind: 'pause', by: carol }, 17 * MINUTE).next;
    expect(paused.approvals).toEqual([]);
    expect(paused.history.at(-1)!.voidedApprovals).toEqual([expect.objectContaining({ by: bob, step: 1 })]);
    const resumed = run(paused, { kind: 'resume', by: carol }, 18 * MINUTE).next;
    expect(resumed.approvals).toEqual([]);
    // Bob may approve again: his earlier approval no longer exists, so this is a new one.
    const judged = run(resumed, analysis(HEALTHY), 40 * MINUTE).next;
    expect(judged.state).toBe('awaiting_approval');
    const again = run(judged, { kind: 'approve', by: bob, step: 10 }, 41 * MINUTE);
    expect(again.next).not.toBe(judged);
    expect(again.next.approvals.map((a) => a.by.id)).toEqual(['u-bob']);
  });

  it('approvals already used to enter a step stay in the record through a pause', () => {
    const awaiting = run(rollout(), analysis(HEALTHY), 15 * MINUTE).next;
    const advanced = run(awaiting, { kind: 'approve', by: bob, step: 10 }, 16 * MINUTE).next;
    const paused = run(advanced, { kind: 'pause', by: carol }, 17 * MINUTE).next;
    expect(paused.approvals.map((a) => a.step)).toEqual([1]);
    expect(paused.history.at(-1)!.voidedApprovals).toBeUndefined();
  });

  it('resuming a rollout paused at its Go/No-Go goes back to pending, then waits for a new Go/No-Go', () => {
    const waiting = start(pending());
    const paused = run(waiting, { kind: 'pause', by: carol }, MINUTE).next;
    const resumed = run(paused, { kind: 'resume', by: carol }, 2 * MINUTE).next;
    expect(resumed.history.slice(-2).map((t) => t.to)).toEqual(['pending', 'awaiting_approval']);
    expect(resumed.percentage).toBe(0);
  });
});

describe('approving ahead', () => {
  it('an approval ahead counts when its step is reached, and says it was given ahead', () => {
    const ahead = run(rollout(), { kind: 'approve', by: bob, step: 10, ahead: true }, 5 * MINUTE).next;
    expect(ahead.approvals).toEqual([expect.objectContaining({ step: 1, ahead: true })]);
    const advanced = run(ahead, analysis(HEALTHY), 15 * MINUTE);
    expect(advanced.actions).toEqual([{ kind: 'set-percentage', percentage: 10 }]);
  });

  it('cannot be given by the person who started the rollout, nor for a step that needs none', () => {
    expect(expectRefused(decide(rollout(), { kind: 'approve', by: alice, step: 10, ahead: true }, at(MINUTE))).errorId).toBe('separation_of_duties');
    const plan = policy({ steps: [1, { percentage: 10, approval: { required: 0 } }, 100] });
    expect(expectRefused(decide(rollout({ plan }), { kind: 'approve', by: bob, step: 10, ahead: true }, at(MINUTE))).errorId).toBe('approval_not_required');
  });

  it('a step that has its approvals takes no more', () => {
    const awaiting = run(rollout({ plan: policy({ windows: { deny: [{ dates: ['2026-03-02'] }] } }) }), analysis(HEALTHY), 15 * MINUTE).next;
    // The window is closed, so Bob's approval does not advance it; Carol's would be one too many.
    const approved = run(awaiting, { kind: 'approve', by: bob, step: 10 }, 16 * MINUTE).next;
    expect(approved.state).toBe('awaiting_approval');
    expect(expectRefused(decide(approved, { kind: 'approve', by: carol, step: 10 }, at(17 * MINUTE))).errorId).toBe('step_already_approved');
  });
});

describe('a rollback records its cause', () => {
  it('a breached rollback rule is the transition’s cause, with its value and samples', () => {
    const plan = policy();
    const breaching = run(rollout({ plan }), analysis(BREACHING), MINUTE).next;
    const killed = run(breaching, analysis(BREACHING), 7 * MINUTE).next;
    expect(killed.state).toBe('rolled_back');
    expect(killed.history.at(-1)!.cause).toMatchObject({ kind: 'rollback-rule', verdict: 'fail', metric: 'error_rate', value: 0.08, samples: 2000 });
  });
});
