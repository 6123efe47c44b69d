import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { AUDIT_LOG } from '../../src/audit/audited-commit.js';
import { judgedGates, rolloutMetrics } from '../../src/observability/rollout-metrics.js';
import { decide } from '../../src/rollouts/decide.js';
import type { DecisionInput, Rollout } from '../../src/rollouts/rollout-model.js';
import {
  alice,
  analysis,
  at,
  bob,
  BREACHING,
  expectDecided,
  HEALTHY,
  iso,
  MINUTE,
  noApprovalPolicy,
  onStep,
  rollout,
  SECOND,
  SPARSE,
} from '../unit/decide-fixtures.js';
import { parseMetrics } from './scrape.js';

/** What the decision core makes of `before` (the change a listener is told of). */
function decided(before: Rollout, input: DecisionInput, now: Date): Rollout {
  return expectDecided(decide(before, input, now)).next;
}

describe('gates judged by an analysis (from the real decision core)', () => {
  it('a routine analysis of a running step judged every gate', () => {
    const before = rollout();
    const after = decided(before, analysis(SPARSE), at(MINUTE));
    expect(after.state).toBe('running');
    expect(judgedGates(before, after).map((g) => g.verdict)).toEqual(after.gates.map((g) => g.verdict));
    expect(judgedGates(before, after)).toHaveLength(2);
  });

  it('an analysis that advances the step: the gates that let it advance, kept in the transition', () => {
    const before = onStep(0, { plan: noApprovalPolicy() });
    const after = decided(before, analysis(HEALTHY), at(11 * MINUTE));
    expect(after.stepIndex).toBe(1);
    expect(after.gates).toEqual([]);
    expect(judgedGates(before, after).map((g) => g.verdict)).toEqual(['pass', 'pass']);
  });

  it('no data from the provider, a rollback rule cutting the analysis short, a paused rollout, a command: no gate judged', () => {
    const running = decided(rollout(), analysis(SPARSE), at(MINUTE));
    expect(judgedGates(running, decided(running, { kind: 'provider-error', error: 'down' }, at(2 * MINUTE)))).toEqual([]);

    const breaching = { ...running, breachingSince: [iso(0)] };
    const rolledBack = decided(breaching, analysis(BREACHING), at(10 * MINUTE));
    expect(rolledBack.state).toBe('rolled_back');
    expect(judgedGates(breaching, rolledBack)).toEqual([]);

    const paused = decided(running, { kind: 'pause', by: bob }, at(2 * MINUTE));
    expect(judgedGates(paused, decided(paused, analysis(HEALTHY), at(3 * MINUTE)))).toEqual([]);

    expect(judgedGates(running, decided(running, { kind: 'approve', by: bob, step: 10, ahead: true }, at(2 * MINUTE)))).toEqual([]);
    expect(judgedGates(null, running)).toEqual([]);
  });
});

describe('rollout event counters', () => {
  async function counters(apply: (m: ReturnType<typeof rolloutMetrics>) => void) {
    const registry = new Registry();
    apply(rolloutMetrics(registry));
    return parseMetrics(await registry.metrics());
  }

  it('counts transitions, approvals by step (1-based) and gate verdicts from committed changes', async () => {
    const before = rollout();
    const approved = decided(before, { kind: 'approve', by: bob, step: 10, ahead: true }, at(SECOND));
    const analysed = decided(approved, analysis(SPARSE), at(MINUTE));
    const ready = onStep(0, { plan: noApprovalPolicy() });
    const advanced = decided(ready, analysis(HEALTHY), at(11 * MINUTE));
    const metrics = await counters((m) => {
      m.changed({ before: null, after: before, action: 'rollout.start', actor: { type: 'token', id: 'a', name: alice.name } });
      m.changed({ before, after: approved, action: 'rollout.approve', actor: { type: 'token', id: 'b', name: bob.name } });
      m.changed({ before: approved, after: analysed, action: 'rollout.analysis', actor: { type: 'system', id: 'controller', name: 'controller' } });
      m.changed({ before: ready, after: advanced, action: 'rollout.analysis', actor: { type: 'system', id: 'controller', name: 'controller' } });
    });
    expect(metrics.value('rollout_controller_approvals_total', { step: '2' })).toBe(1);
    // Two gates judged by each analysis; the advancing one passed both.
    expect(metrics.sum('rollout_controller_gate_results_total')).toBe(4);
    expect(metrics.value('rollout_controller_gate_results_total', { verdict: 'pass' })).toBeGreaterThanOrEqual(2);
    // Only the advance was a transition (into running, step 2).
    expect(metrics.sum('rollout_controller_rollout_transitions_total')).toBe(1);
    expect(metrics.value('rollout_controller_rollout_transitions_total', { to: 'running' })).toBe(1);
  });

  it('counts a kill by who flipped it, from the audit events a commit carried', async () => {
    const event = (action: string, type: 'token' | 'system') => ({ log: AUDIT_LOG, seq: 1, entry: { action, actor: { type, id: 'x', name: 'x' } } });
    const metrics = await counters((m) => {
      m.committed({ appends: [event('flag.kill', 'token')] });
      m.committed({ appends: [event('rollout.rolled_back', 'system'), event('flag.kill', 'system'), event('flag.kill', 'system')] });
      m.committed({ appends: [event('flag.restore', 'token')], puts: [] });
      m.committed({ appends: [{ log: 'other-log', seq: 1, entry: { action: 'flag.kill', actor: { type: 'token' } } }] });
    });
    expect(metrics.value('rollout_controller_kills_total', { trigger: 'manual' })).toBe(1);
    expect(metrics.value('rollout_controller_kills_total', { trigger: 'automatic' })).toBe(2);
    expect(metrics.value('rollout_controller_audit_events_total', { action: 'flag.restore' })).toBe(1);
  });

  it('tick reports: duration by role, lease acquisitions on each gain of the lease', async () => {
    const tick = (leader: boolean, ms = 5) => ({ leader, analysed: leader ? 3 : 0, changed: 0, errors: 0, ms });
    const metrics = await counters((m) => {
      for (const leader of [false, true, true, false, true, true]) m.ticked(tick(leader));
    });
    expect(metrics.value('rollout_controller_leader_acquisitions_total')).toBe(2);
    expect(metrics.value('rollout_controller_tick_duration_seconds_count', { role: 'leader' })).toBe(4);
    expect(metrics.value('rollout_controller_tick_duration_seconds_count', { role: 'follower' })).toBe(2);
    expect(metrics.value('rollout_controller_rollouts_analysed_total')).toBe(12);
  });
});
