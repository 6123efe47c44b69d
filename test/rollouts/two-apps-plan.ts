import { emptyUnits } from '../../src/metrics/outcome-fields.js';
import { emptyCohort } from '../../src/metrics/outcome-math.js';
import type { Cohort } from '../../src/metrics/outcome-model.js';
import type { MeasuredTraffic, TrafficSource, WindowTraffic } from '../../src/simulation/judges.js';
import { binomialDraw, poissonDraw } from '../../src/simulation/distributions.js';
import { inTreatment } from '../../src/simulation/hashing.js';
import { assignUsers, drawPopulation, type Assignment, type Population } from '../../src/simulation/population.js';
import { seededRandom } from '../../src/simulation/random.js';
import { trafficScenarioSchema } from '../../src/simulation/traffic-scenario.js';

/**
 * The traffic of the two-applications scenario, drawn from the simulation's population model: users
 * with heavy-tailed request rates and error propensities of their own. For each step, every user's
 * requests are drawn and dealt between the two applications at random, so busy users reach both
 * (overlapping users); each application is told, per user, how many calls to make and how many of
 * them fail when the flag is on or off. Which one applies is the SDK's to say: the flag's real
 * evaluation decides the cohort. The same plan, assigned by the simulation's own hash, is what the
 * simulation judges.
 */

/** One user's calls in one application: [userId, calls, failing when the flag is on, failing when off]. */
export type UserCalls = [userId: string, calls: number, failIfOn: number, failIfOff: number];

export interface Phase {
  percentage: number;
  apps: [UserCalls[], UserCalls[]];
}

export interface TwoAppsPlan {
  flag: string;
  population: Population;
  assignment: Assignment;
  phases: Phase[];
}

export interface PlanOptions {
  flag: string;
  seed: number;
  percentages: number[];
  users: number;
  /** Requests of all users in each step (index as in `percentages`), both applications together, on average. */
  requestsPerStep: number[];
  errorRate: number;
  /** Treatment's error propensities × this (1: a healthy release). */
  errorFactor: number;
}

export function planTraffic(o: PlanOptions): TwoAppsPlan {
  const scenario = trafficScenarioSchema.parse({ name: o.flag, users: o.users, ratePerSecond: 1, errorRate: o.errorRate });
  const random = seededRandom(o.seed);
  const population = drawPopulation(scenario, random);
  const phases = o.percentages.map((percentage, step): Phase => {
    const apps: [UserCalls[], UserCalls[]] = [[], []];
    population.ids.forEach((userId, i) => {
      // ratePerSecond is 1, so rate[i] is the user's share of all requests.
      const n = poissonDraw(random, population.rate[i]! * o.requestsPerStep[step]!);
      const inFirst = binomialDraw(random, n, 0.5);
      [inFirst, n - inFirst].forEach((calls, app) => {
        if (calls === 0) return;
        const p = population.propensity[i]!;
        apps[app]!.push([userId, calls, binomialDraw(random, calls, Math.min(1, p * o.errorFactor)), binomialDraw(random, calls, p)]);
      });
    });
    return { percentage, apps };
  });
  return { flag: o.flag, population, assignment: assignUsers(population, o.flag), phases };
}

/** The users' index by id. */
function indexOf(plan: TwoAppsPlan): Map<string, number> {
  return new Map(plan.population.ids.map((id, i) => [id, i]));
}

/**
 * What the simulation counts for one step: both applications' calls summed per cohort and per hashed
 * user bucket, each user in the cohort and bucket the simulation's hash gives them for the flag.
 */
export function simulatedWindow(plan: TwoAppsPlan, phase: Phase): WindowTraffic {
  const index = indexOf(plan);
  const w: WindowTraffic = {
    totals: { treatment: emptyCohort(), control: emptyCohort() },
    buckets: { treatment: emptyUnits(), control: emptyUnits() },
    exposures: { on: 0, off: 0 },
    users: { on: 0, off: 0 },
  };
  const seen = new Set<string>();
  for (const calls of phase.apps) {
    for (const [userId, n, failIfOn, failIfOff] of calls) {
      const i = index.get(userId)!;
      const on = inTreatment(plan.assignment[i]!, phase.percentage);
      const cohort: Cohort = on ? 'treatment' : 'control';
      const unit = plan.assignment.units[i]!;
      const errors = on ? failIfOn : failIfOff;
      w.totals[cohort].requests += n;
      w.totals[cohort].errors += errors;
      w.buckets![cohort].requests[unit]! += n;
      w.buckets![cohort].errors[unit]! += errors;
      w.exposures[on ? 'on' : 'off'] += n;
      if (!seen.has(userId)) {
        seen.add(userId);
        w.users![on ? 'on' : 'off'] += 1;
      }
    }
  }
  return w;
}

/** Calls one application makes with the flag on, at a step: what the SDK must serve it. */
export function treatedCalls(plan: TwoAppsPlan, phase: Phase, app: 0 | 1): number {
  const index = indexOf(plan);
  let n = 0;
  for (const [userId, calls] of phase.apps[app]) if (inTreatment(plan.assignment[index.get(userId)!]!, phase.percentage)) n += calls;
  return n;
}

/** The plan as a traffic source for the simulation's rollout loop: each step's outcomes, whole, from its first analysis. */
export function planSource(plan: TwoAppsPlan): TrafficSource {
  const windows = new Map(plan.phases.map((phase) => [phase.percentage, simulatedWindow(plan, phase)]));
  const none = simulatedWindow(plan, { percentage: 0, apps: [[], []] });
  return {
    measure(_now, rollout): MeasuredTraffic {
      const w = windows.get(rollout.percentage) ?? none;
      return { step: w, recent: w };
    },
  };
}
