import { emptyTotals } from '../metrics/outcome-math.js';
import type { CohortTotals, OutcomeTotals } from '../metrics/outcome-model.js';
import type { Rollout } from '../rollouts/rollout-model.js';
import type { MeasuredTraffic, TrafficSource } from './judges.js';
import type { Random } from './random.js';
import { LATENCY_BOUNDS_MS, latencyBucketShares, type CohortBehaviour, type Scenario } from './scenarios.js';

export const BUCKET_KEYS = [...LATENCY_BOUNDS_MS.map(String), '+Inf'];

/** One interval of traffic for one cohort: requests, errors and a latency histogram. */
function cohortInterval(random: Random, requests: number, behaviour: CohortBehaviour, shares: number[], errorFactor: number): CohortTotals {
  const errors = random.binomial(requests, Math.min(1, behaviour.errorRate * errorFactor));
  const counts = random.multinomial(requests, shares);
  const latencyBuckets: Record<string, number> = {};
  let latencySumMs = 0;
  counts.forEach((n, i) => {
    if (n > 0) latencyBuckets[BUCKET_KEYS[i]!] = n;
    latencySumMs += n * (LATENCY_BOUNDS_MS[i] ?? 5000);
  });
  return { requests, errors, latencyBuckets, latencySumMs };
}

export function addCohortInto(target: CohortTotals, source: CohortTotals): void {
  target.requests += source.requests;
  target.errors += source.errors;
  target.latencySumMs += source.latencySumMs;
  for (const key in source.latencyBuckets) target.latencyBuckets[key] = (target.latencyBuckets[key] ?? 0) + source.latencyBuckets[key]!;
}

/**
 * The coin-flip model (scenarios.ts): each interval the service's requests are drawn (Poisson),
 * split between the cohorts by the percentage being served (binomial), and each cohort's errors
 * (binomial) and latency histogram (multinomial) drawn; every request an independent trial.
 */
export function coinFlipTraffic(scenario: Scenario, random: Random, intervalMs: number): TrafficSource {
  const shares = { treatment: latencyBucketShares(scenario.treatment), control: latencyBucketShares(scenario.control) };
  let step: OutcomeTotals = emptyTotals();
  let stepStartedAt: string | undefined;
  return {
    measure(_now: number, rollout: Rollout): MeasuredTraffic {
      if (rollout.stepStartedAt !== stepStartedAt) {
        step = emptyTotals();
        stepStartedAt = rollout.stepStartedAt;
      }
      const factor = scenario.noise > 0 ? Math.exp(scenario.noise * random.normal() - (scenario.noise * scenario.noise) / 2) : 1;
      const requests = random.poisson(scenario.rps * (intervalMs / 1000) * factor);
      const treated = random.binomial(requests, rollout.percentage / 100);
      const recent: OutcomeTotals = {
        treatment: cohortInterval(random, treated, scenario.treatment, shares.treatment, factor),
        control: cohortInterval(random, requests - treated, scenario.control, shares.control, factor),
      };
      addCohortInto(step.treatment, recent.treatment);
      addCohortInto(step.control, recent.control);
      // Every evaluation is an exposure here: the SDK's metrics agree with its outcomes.
      return {
        step: { totals: step, exposures: { on: step.treatment.requests, off: step.control.requests } },
        recent: { totals: recent, exposures: { on: recent.treatment.requests, off: recent.control.requests } },
      };
    },
  };
}
