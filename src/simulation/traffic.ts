import { emptyCohort } from '../metrics/outcome-math.js';
import { emptyUnits } from '../metrics/outcome-fields.js';
import type { Cohort, CohortTotals, OutcomeTotals } from '../metrics/outcome-model.js';
import type { Rollout } from '../rollouts/rollout-model.js';
import { assignedShare } from '../rollouts/unit-bucket.js';
import { addCohortInto, BUCKET_KEYS } from './coin-flip-traffic.js';
import { binomialDraw, poissonDraw } from './distributions.js';
import { UNIT_BUCKETS } from './hashing.js';
import type { CohortBuckets, MeasuredTraffic, TrafficSource, WindowTraffic } from './judges.js';
import { dailyFactor, type Population, type Assignment } from './population.js';
import type { Random } from './random.js';
import { LATENCY_BOUNDS_MS } from './scenarios.js';
import { buildTables, conditionIndex, expectedUsers, LATENCY_BUCKETS, latencyIndex, tableIndex, type TrafficTables } from './traffic-tables.js';
import type { TrafficScenario } from './traffic-scenario.js';

const COHORTS: Cohort[] = ['treatment', 'control'];

function emptyWindow(): WindowTraffic {
  return {
    totals: { treatment: emptyCohort(), control: emptyCohort() },
    buckets: { treatment: emptyUnits(), control: emptyUnits() },
    exposures: { on: 0, off: 0 },
    users: { on: 0, off: 0 },
  };
}

/** What is going on at a moment of a rollout: the regression (on the treatment cohort) and the incident, if any. */
export function conditionsAt(scenario: TrafficScenario, sinceStartMs: number, percentage: number): { regression: boolean; incident: number } {
  const r = scenario.regression;
  const regression =
    r !== undefined && (r.after === undefined || sinceStartMs >= r.after) && (r.fromPercentage === undefined || percentage >= r.fromPercentage);
  const incident = scenario.incidents.findIndex((x) => sinceStartMs >= x.start && sinceStartMs < x.start + x.duration);
  return { regression, incident };
}

/**
 * The real-traffic model as a source for the rollout loop: one population, its users assigned by
 * the flag's hash, and per interval, for each cohort and each group (unit bucket × in the
 * regression's reach), requests ~ Poisson(Σ rate × interval × daily factor) and errors ~
 * Binomial(requests, the group's request-weighted error probability under the conditions of the
 * moment); a cohort's latency histogram is drawn from its users' request-weighted latency mix.
 * `t0` is when the rollout started (incidents and late regressions are timed from it).
 */
export function realTraffic(
  scenario: TrafficScenario,
  population: Population,
  assignment: Assignment,
  random: Random,
  t0: number,
  intervalMs: number,
  tables: TrafficTables = buildTables(scenario, population, assignment),
): TrafficSource {
  let step = emptyWindow();
  let stepStartedAt: string | undefined;
  let stepIntensity = 0;
  const seconds = intervalMs / 1000;

  const cohortWindow = (cohort: Cohort, percentage: number, condition: number, rateFactor: number, errorFactor: number, w: WindowTraffic) => {
    // Treatment: the users below P (row P); control: the rest (row 100 minus row P).
    const [hi, lo] = cohort === 'treatment' ? [percentage, 0] : [100, percentage];
    const errorTable = tables.errors[condition]!;
    const buckets = w.buckets![cohort];
    const bySegment = [0, 0];
    let requests = 0;
    let errors = 0;
    for (let k = 0; k < UNIT_BUCKETS; k++) {
      for (let s = 0; s < 2; s++) {
        const rate = tables.rate[tableIndex(hi, k, s)]! - tables.rate[tableIndex(lo, k, s)]!;
        if (rate <= 1e-12) continue;
        const n = poissonDraw(random, rate * seconds * rateFactor);
        if (n === 0) continue;
        const p = Math.min(1, ((errorTable[tableIndex(hi, k, s)]! - errorTable[tableIndex(lo, k, s)]!) / rate) * errorFactor);
        const e = binomialDraw(random, n, p);
        buckets.requests[k]! += n;
        buckets.errors[k]! += e;
        bySegment[s]! += n;
        requests += n;
        errors += e;
      }
    }
    const c = w.totals[cohort];
    c.requests = requests;
    c.errors = errors;
    const latency = tables.latency[condition]!;
    for (let s = 0; s < 2; s++) {
      if (bySegment[s] === 0) continue;
      const shares: number[] = [];
      let total = 0;
      for (let b = 0; b < LATENCY_BUCKETS; b++) {
        const v = Math.max(0, latency[latencyIndex(hi, s, b)]! - latency[latencyIndex(lo, s, b)]!);
        shares.push(v);
        total += v;
      }
      const counts = random.multinomial(
        bySegment[s]!,
        shares.map((v) => v / total),
      );
      counts.forEach((n, b) => {
        if (n === 0) return;
        c.latencyBuckets[BUCKET_KEYS[b]!] = (c.latencyBuckets[BUCKET_KEYS[b]!] ?? 0) + n;
        c.latencySumMs += n * (LATENCY_BOUNDS_MS[b] ?? 5000);
      });
    }
  };

  return {
    measure(now: number, rollout: Rollout): MeasuredTraffic {
      if (rollout.stepStartedAt !== stepStartedAt) {
        step = emptyWindow();
        stepStartedAt = rollout.stepStartedAt;
        stepIntensity = 0;
      }
      // Sticky hashing: a user is in at P exactly when their bucket (an integer) is below P's whole
      // percents, as the SDK assigns (assignedShare: a 2.5 % step serves 2 %).
      const percentage = Math.round(assignedShare(rollout.percentage) * 100);
      const middle = now - intervalMs / 2;
      const rateFactor = dailyFactor(scenario, middle);
      const errorFactor = dailyFactor(scenario, middle, 'errors');
      const on = conditionsAt(scenario, middle - t0, rollout.percentage);
      const recent = emptyWindow();
      cohortWindow('treatment', percentage, conditionIndex(on.regression, on.incident), rateFactor, errorFactor, recent);
      cohortWindow('control', percentage, conditionIndex(false, on.incident), rateFactor, errorFactor, recent);
      recent.exposures = { on: recent.totals.treatment.requests, off: recent.totals.control.requests };
      const intensity = seconds * rateFactor;
      stepIntensity += intensity;
      recent.users = { on: expectedUsers(tables, 0, percentage, intensity), off: expectedUsers(tables, percentage, 100, intensity) };

      for (const cohort of COHORTS) {
        addCohortInto(step.totals[cohort], recent.totals[cohort]);
        const from = recent.buckets![cohort];
        const into = step.buckets![cohort];
        for (let k = 0; k < UNIT_BUCKETS; k++) {
          into.requests[k]! += from.requests[k]!;
          into.errors[k]! += from.errors[k]!;
        }
      }
      step.exposures = { on: step.totals.treatment.requests, off: step.totals.control.requests };
      step.users = { on: expectedUsers(tables, 0, percentage, stepIntensity), off: expectedUsers(tables, percentage, 100, stepIntensity) };
      return { step, recent };
    },
  };
}

/** A window's per-bucket counts summed (a check that they agree with its totals). */
export function bucketTotals(w: WindowTraffic): OutcomeTotals | undefined {
  if (!w.buckets) return undefined;
  const sum = (b: CohortBuckets): CohortTotals => ({
    requests: b.requests.reduce((a, x) => a + x, 0),
    errors: b.errors.reduce((a, x) => a + x, 0),
    latencyBuckets: {},
    latencySumMs: 0,
  });
  return { treatment: sum(w.buckets.treatment), control: sum(w.buckets.control) };
}
