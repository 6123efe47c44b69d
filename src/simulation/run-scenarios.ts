import type { Policy } from '../policies/policy-schema.js';
import { seededRandom } from './random.js';
import type { Scenario } from './scenarios.js';
import { simulateRollout, type RolloutRun, type RunOptions } from './simulate-rollout.js';

export interface ScenarioFigures {
  policy: string;
  scenario: string;
  regression: boolean;
  rollouts: number;
  completed: number;
  rolledBack: number;
  paused: number;
  unfinished: number;
  /** Runs that never served the flag at 100 % (rolled back, paused or held below it). */
  stoppedBefore100: number;
  /** Of those stopped, at which percentage (rolled back or paused there, or still held there). */
  stoppedAt: Record<string, number>;
  /** Minutes from start to the rollback or pause, over the runs that ended so (p50, p90). */
  minutesToStop: { p50: number; p90: number } | null;
  /** Minutes from start to completion (p50, p90), over the runs that completed. */
  minutesToComplete: { p50: number; p90: number } | null;
  /** The most common reasons runs were rolled back or paused, with counts. */
  reasons: Array<{ reason: string; count: number }>;
}

function quantiles(values: number[]): { p50: number; p90: number } | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { p50: Math.round(at(0.5)), p90: Math.round(at(0.9)) };
}

/** Reasons without their numbers, so runs stopped by the same rule count together. */
function reasonKind(reason: string): string {
  return reason
    .replace(/: .*$/, '')
    .replace(/\d+(\.\d+)?/g, '#')
    .slice(0, 120);
}

/** Figures for one scenario under one arm (`policy` is its label). */
export function summarise(policy: string, scenario: Pick<Scenario, 'name' | 'regression'>, runs: RolloutRun[]): ScenarioFigures {
  const stopped = runs.filter((r) => r.maxPercentage < 100);
  const stoppedAt: Record<string, number> = {};
  for (const r of stopped) stoppedAt[`${r.endedAtPercentage}%`] = (stoppedAt[`${r.endedAtPercentage}%`] ?? 0) + 1;
  const reasons = new Map<string, number>();
  for (const r of runs)
    if (r.ending === 'rolled_back' || r.ending === 'paused') reasons.set(reasonKind(r.reason), (reasons.get(reasonKind(r.reason)) ?? 0) + 1);
  return {
    policy,
    scenario: scenario.name,
    regression: scenario.regression,
    rollouts: runs.length,
    completed: runs.filter((r) => r.ending === 'completed').length,
    rolledBack: runs.filter((r) => r.ending === 'rolled_back').length,
    paused: runs.filter((r) => r.ending === 'paused').length,
    unfinished: runs.filter((r) => r.ending === 'unfinished').length,
    stoppedBefore100: stopped.length,
    stoppedAt,
    minutesToStop: quantiles(runs.filter((r) => r.ending === 'rolled_back' || r.ending === 'paused').map((r) => r.durationMs / 60_000)),
    minutesToComplete: quantiles(runs.filter((r) => r.ending === 'completed').map((r) => r.durationMs / 60_000)),
    reasons: [...reasons]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 3)
      .map(([reason, count]) => ({ reason, count })),
  };
}

/** Runs `rollouts` simulated releases of one scenario under one policy; each run has its own seed. */
export function runScenario(policy: Policy, scenario: Scenario, rollouts: number, seed: number, options: RunOptions): ScenarioFigures {
  const runs: RolloutRun[] = [];
  for (let i = 0; i < rollouts; i++) runs.push(simulateRollout(policy, scenario, seededRandom(seed + i * 7919), options));
  return summarise(policy.name, scenario, runs);
}
