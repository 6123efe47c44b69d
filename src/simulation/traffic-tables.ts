import { UNIT_BUCKETS } from './hashing.js';
import type { Population, Assignment } from './population.js';
import { latencyBucketShares, LATENCY_BOUNDS_MS } from './scenarios.js';
import type { TrafficScenario } from './traffic-scenario.js';

/**
 * A population's users summed into groups, once per rollout, so that an interval's traffic is a
 * few hundred Poisson and binomial draws rather than one per user. A group is (unit bucket k,
 * in the regression's reach or not s) among the users whose assignment bucket is below P; every
 * table is cumulative in P (0…100), so treatment at percentage P is row P and control is row
 * 100 minus row P: sticky assignment for free. Because users keep their rate and propensity from
 * interval to interval, a heavy or error-prone user weighs on their unit bucket every interval.
 *
 * A condition is what is going on: the regression on or off, and which incident (if any). Each
 * user's error probability under it: p × errorFactor (at most 1), then 1 − (1 − p)(1 − extraErrorRate),
 * the regression first (only for users in its reach), then the incident.
 */
export interface TrafficTables {
  /** Σ rate per (P, k, s): index tableIndex(P, k, s). */
  rate: Float64Array;
  /** Per condition, Σ rate × error probability per (P, k, s). */
  errors: Float64Array[];
  /** Per condition, Σ rate × latency-bucket share per (P, s, bucket): index latencyIndex(P, s, b). */
  latency: Float64Array[];
  /** Distinct users: per (P, rate class) how many users and their summed rate (classes are log-spaced). */
  classCount: Float64Array;
  classRate: Float64Array;
}

export const LATENCY_BUCKETS = LATENCY_BOUNDS_MS.length + 1;
export const RATE_CLASSES = 48;
const ROWS = 101;

export const tableIndex = (p: number, k: number, s: number) => (p * UNIT_BUCKETS + k) * 2 + s;
export const latencyIndex = (p: number, s: number, b: number) => (p * 2 + s) * LATENCY_BUCKETS + b;

/** Conditions: 2 × (incidents + 1); index = (incident + 1) × 2 + (regression on ? 1 : 0), incident −1 for none. */
export const conditionIndex = (regression: boolean, incident: number) => (incident + 1) * 2 + (regression ? 1 : 0);

interface Effect {
  errorFactor?: number | undefined;
  extraErrorRate?: number | undefined;
  latencyFactor?: number | undefined;
}

function applyEffect(p: number, e: Effect | undefined): number {
  if (!e) return p;
  let q = Math.min(1, p * (e.errorFactor ?? 1));
  if (e.extraErrorRate) q = 1 - (1 - q) * (1 - e.extraErrorRate);
  return q;
}

function prefix(table: Float64Array, width: number): void {
  for (let row = 1; row < ROWS; row++) for (let j = 0; j < width; j++) table[row * width + j]! += table[(row - 1) * width + j]!;
}

export function buildTables(scenario: TrafficScenario, population: Population, assignment: Assignment): TrafficTables {
  const conditions: Array<{ regression: Effect | undefined; incident: Effect | undefined }> = [];
  for (let j = -1; j < scenario.incidents.length; j++)
    for (const on of [false, true]) conditions.push({ regression: on ? scenario.regression : undefined, incident: scenario.incidents[j] });
  const width = UNIT_BUCKETS * 2;
  const rate = new Float64Array(ROWS * width);
  const errors = conditions.map(() => new Float64Array(ROWS * width));
  const latency = conditions.map(() => new Float64Array(ROWS * 2 * LATENCY_BUCKETS));
  const classCount = new Float64Array(ROWS * RATE_CLASSES);
  const classRate = new Float64Array(ROWS * RATE_CLASSES);

  let minRate = Number.POSITIVE_INFINITY;
  let maxRate = 0;
  for (const r of population.rate) {
    if (r > 0 && r < minRate) minRate = r;
    if (r > maxRate) maxRate = r;
  }
  const span = Math.log(maxRate / minRate) || 1;
  const { medianMs, sigma } = scenario.latency;

  for (let i = 0; i < population.size; i++) {
    const r = population.rate[i]!;
    if (!(r > 0)) continue;
    // Row a + 1 holds assignment bucket a; the prefix sums below make row P the users below P.
    const row = assignment[i]! + 1;
    const s = population.inScope[i]!;
    const at = tableIndex(row, assignment.units[i]!, s);
    rate[at]! += r;
    const shares = new Map<number, number[]>();
    conditions.forEach((c, ci) => {
      const reaches = s === 1 ? c.regression : undefined;
      errors[ci]![at]! += r * applyEffect(applyEffect(population.propensity[i]!, reaches), c.incident);
      const factor = population.latencyScale[i]! * (reaches?.latencyFactor ?? 1) * (c.incident?.latencyFactor ?? 1);
      let share = shares.get(factor);
      if (!share) shares.set(factor, (share = latencyBucketShares({ errorRate: 0, latencyMedianMs: medianMs * factor, latencySigma: sigma })));
      const base = latencyIndex(row, s, 0);
      for (let b = 0; b < LATENCY_BUCKETS; b++) latency[ci]![base + b]! += r * share[b]!;
    });
    const cls = Math.min(RATE_CLASSES - 1, Math.floor((RATE_CLASSES * Math.log(r / minRate)) / span));
    classCount[row * RATE_CLASSES + cls]! += 1;
    classRate[row * RATE_CLASSES + cls]! += r;
  }
  prefix(rate, width);
  for (const t of errors) prefix(t, width);
  for (const t of latency) prefix(t, 2 * LATENCY_BUCKETS);
  prefix(classCount, RATE_CLASSES);
  prefix(classRate, RATE_CLASSES);
  return { rate, errors, latency, classCount, classRate };
}

/**
 * Expected distinct users among those below percentage `to` and at or above `from` who made at
 * least one request, when each user's expected requests are their rate × `intensity` (seconds ×
 * the daily cycle's mean factor): Σ over rate classes of n (1 − e^(−rate × intensity)).
 */
export function expectedUsers(tables: TrafficTables, from: number, to: number, intensity: number): number {
  let users = 0;
  for (let c = 0; c < RATE_CLASSES; c++) {
    const n = tables.classCount[to * RATE_CLASSES + c]! - tables.classCount[from * RATE_CLASSES + c]!;
    if (n <= 0) continue;
    const mean = (tables.classRate[to * RATE_CLASSES + c]! - tables.classRate[from * RATE_CLASSES + c]!) / n;
    users += n * -Math.expm1(-mean * intensity);
  }
  return users;
}
