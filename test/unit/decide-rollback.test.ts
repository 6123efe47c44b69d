import { describe, expect, it } from 'vitest';
import { decide } from '../../src/rollouts/decide.js';
import type { AlertNote } from '../../src/rollouts/rollout-model.js';
import { at, EXTRA_KILL, expectDecided, expectRefused, FLAG, HOUR, iso, MINUTE, noApprovalPolicy, onStep, rollout, T0 } from './decide-fixtures.js';

const monitor = { id: 'tok-am', name: 'alertmanager' };
const note: AlertNote = { source: 'alertmanager', fingerprint: 'f1', status: 'firing', alertname: 'HighErrorRate', labels: { alertname: 'HighErrorRate' } };

/** Issue 16: a rollback on someone's word (an incoming alert), and alerts kept on the transitions they cause. */
describe('decide: rollback, and alerts on transitions', () => {
  it('rolls back a running rollout: kill switches flipped, the reason and the alert on the transition', () => {
    const d = expectDecided(decide(onStep(1), { kind: 'rollback', by: monitor, comment: 'HighErrorRate', alert: note }, at(MINUTE)));
    expect(d.next.state).toBe('rolled_back');
    expect(d.actions).toEqual([{ kind: 'kill', flags: [FLAG, EXTRA_KILL], reason: 'rolled back by alertmanager: HighErrorRate' }]);
    expect(d.next.history.at(-1)).toMatchObject({ from: 'running', to: 'rolled_back', actor: 'alertmanager', alert: note, at: iso(MINUTE) });
  });

  it('rolls back a paused rollout and one waiting for approval', () => {
    for (const state of ['paused', 'awaiting_approval'] as const) {
      const r = rollout({ state, ...(state === 'paused' ? { pausedFrom: 'running', pauseReason: 'held' } : {}) } as never);
      expect(expectDecided(decide(r, { kind: 'rollback', by: monitor }, at(MINUTE))).next.state).toBe('rolled_back');
    }
  });

  it('rolls back a completed rollout while it still watches, and refuses one whose watch is over or that is done', () => {
    const watching = rollout({ state: 'completed', plan: noApprovalPolicy({ watchAfterCompletion: '1h' }), watchUntil: iso(HOUR) });
    const d = expectDecided(decide(watching, { kind: 'rollback', by: monitor }, at(MINUTE)));
    expect(d.next.state).toBe('rolled_back');
    expect(d.next.watchUntil).toBeUndefined();
    // Past the watch, the rollout is only marked done: nothing is killed.
    expect(expectDecided(decide(watching, { kind: 'rollback', by: monitor }, at(2 * HOUR))).actions).toEqual([]);
    expect(expectRefused(decide(rollout({ state: 'rolled_back' }), { kind: 'rollback', by: monitor }, T0)).errorId).toBe('rollout_finished');
    expect(expectRefused(decide(rollout({ state: 'completed' }), { kind: 'rollback', by: monitor }, T0)).errorId).toBe('rollout_finished');
  });

  it('keeps the alert on a pause and on a resume, and nothing when none is given', () => {
    const paused = expectDecided(decide(onStep(1), { kind: 'pause', by: monitor, comment: 'HighErrorRate', alert: note }, at(MINUTE))).next;
    expect(paused.history.at(-1)).toMatchObject({ to: 'paused', reason: 'paused by alertmanager: HighErrorRate', alert: note });
    const resolved = { ...note, status: 'resolved' as const };
    const resumed = expectDecided(decide(paused, { kind: 'resume', by: monitor, alert: resolved }, at(2 * MINUTE))).next;
    expect(resumed.history.find((t) => t.from === 'paused')).toMatchObject({ to: 'running', alert: resolved });
    const plain = expectDecided(decide(onStep(1), { kind: 'pause', by: monitor }, at(MINUTE))).next;
    expect(plain.history.at(-1)).not.toHaveProperty('alert');
  });
});
