import type { Arm } from './judges.js';
import { assignUsers, drawPopulation, populationFrame, topShare } from './population.js';
import { seededRandom } from './random.js';
import { summarise, type ScenarioFigures } from './run-scenarios.js';
import { runRollout, type RolloutRun, type RunOptions } from './simulate-rollout.js';
import { realTraffic } from './traffic.js';
import { buildTables, tableIndex } from './traffic-tables.js';
import type { TrafficScenario } from './traffic-scenario.js';
import { UNIT_BUCKETS } from './hashing.js';

/** What a scenario's populations looked like, over its rollouts: to read the figures by. */
export interface PopulationFigures {
  scenario: string;
  users: number;
  /** Share of requests made by the busiest 1 % of users (median over rollouts). */
  topOnePercent: number;
  /** Share of requests made by bots (median). */
  bots: number;
  /** Share of requests from users served the flag at 1 %, over rollouts (p10, p50, p90): 1 % if requests were independent. */
  requestShareAtOnePercent: { p10: number; p50: number; p90: number };
}

export interface TrafficScenarioResult {
  figures: ScenarioFigures[];
  population: PopulationFigures;
}

const DAY0 = Date.UTC(2030, 0, 7);

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

/**
 * `rollouts` releases of one scenario, each under every arm. A release is a flag of its own (its
 * name is the hash's groupId, so each assigns users afresh) on a population drawn from its own
 * seed, starting at a random minute of the day; every arm sees the same population, assignment and
 * (until their decisions differ) the same draws.
 */
export function runTrafficScenario(scenario: TrafficScenario, arms: Arm[], rollouts: number, seed: number, options: RunOptions): TrafficScenarioResult {
  const frame = populationFrame(scenario);
  const runs: RolloutRun[][] = arms.map(() => []);
  const tops: number[] = [];
  const botShares: number[] = [];
  const atOne: number[] = [];
  for (let i = 0; i < rollouts; i++) {
    const runSeed = seed + i * 7919;
    const random = seededRandom(runSeed);
    const population = drawPopulation(scenario, random, frame);
    const flag = `sim-flag-${i}`;
    const assignment = assignUsers(population, flag);
    const tables = buildTables(scenario, population, assignment);
    const t0 = DAY0 + Math.floor(random.next() * 1440) * 60_000;

    let total = 0;
    let first = 0;
    for (let k = 0; k < UNIT_BUCKETS; k++)
      for (let s = 0; s < 2; s++) {
        total += tables.rate[tableIndex(100, k, s)]!;
        first += tables.rate[tableIndex(1, k, s)]!;
      }
    atOne.push(first / total);
    tops.push(topShare(population, 0.01));
    let bots = 0;
    for (let u = population.size - population.bots; u < population.size; u++) bots += population.rate[u]!;
    botShares.push(bots / total);

    arms.forEach((arm, a) => {
      if (arm.rollouts !== undefined && i >= arm.rollouts) return;
      const traffic = realTraffic(scenario, population, assignment, seededRandom(runSeed ^ 0x5bd1e995), t0, arm.policy.analysisInterval, tables);
      runs[a]!.push(runRollout(arm.policy, arm.judge, traffic, options, t0, flag));
    });
  }
  const regression = scenario.regression !== undefined;
  const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
  const shares = sorted(atOne);
  return {
    figures: arms.map((arm, a) => summarise(arm.label, { name: scenario.name, regression }, runs[a]!)),
    population: {
      scenario: scenario.name,
      users: scenario.users,
      topOnePercent: quantile(sorted(tops), 0.5),
      bots: quantile(sorted(botShares), 0.5),
      requestShareAtOnePercent: { p10: quantile(shares, 0.1), p50: quantile(shares, 0.5), p90: quantile(shares, 0.9) },
    },
  };
}
