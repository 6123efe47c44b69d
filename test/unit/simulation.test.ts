import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parsePolicyFile } from '../../src/policies/policy-service.js';
import { NAIVE_POLICY } from '../../src/simulation/naive-policy.js';
import { runScenario } from '../../src/simulation/run-scenarios.js';
import { SCENARIOS } from '../../src/simulation/scenarios.js';

/**
 * The simulation (`npm run simulate`) runs the shipped standard policy through the real decision
 * core. A small run here keeps its machinery honest; the full figures are in docs/simulation.md.
 */
const standard = parsePolicyFile('policies/standard.yaml', readFileSync('policies/standard.yaml', 'utf8')).policy;
const options = { approvalDelayMs: 5 * 60_000, horizonMs: 3 * 24 * 3600_000 };
const scenario = (name: string) => SCENARIOS.find((s) => s.name === name)!;

describe('simulation', () => {
  it('is deterministic for a seed', () => {
    const a = runScenario(standard, scenario('healthy'), 5, 1, options);
    const b = runScenario(standard, scenario('healthy'), 5, 1, options);
    expect(a).toEqual(b);
  });

  it('the standard policy completes healthy releases and stops a tenfold regression at 1 %', () => {
    const healthy = runScenario(standard, scenario('healthy'), 20, 11, options);
    expect(healthy.rolledBack).toBe(0);
    expect(healthy.completed).toBeGreaterThanOrEqual(19);
    expect(healthy.minutesToComplete!.p50).toBeGreaterThan(4 * 10); // four steps of at least 10 minutes
    const tenfold = runScenario(standard, scenario('errors ×10'), 20, 11, options);
    expect(tenfold.stoppedAt).toEqual({ '1%': 20 });
    expect(tenfold.rolledBack).toBe(20);
  });

  it('the naive policy rolls back healthy low-traffic releases on noise that the standard policy sees through', () => {
    const naive = runScenario(NAIVE_POLICY, scenario('healthy, low traffic'), 20, 5, options);
    const ours = runScenario(standard, scenario('healthy, low traffic'), 20, 5, options);
    expect(naive.rolledBack).toBeGreaterThan(ours.rolledBack);
    expect(ours.rolledBack).toBe(0);
  });
});
