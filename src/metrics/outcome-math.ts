import type { CohortTotals, OutcomeTotals, UnitCounts } from './outcome-model.js';

/**
 * Pure arithmetic over outcome totals: adding windows together and reading error rates and
 * latency figures out of them. No I/O, so the rollout decision core can use it in table tests.
 */

export function emptyCohort(): CohortTotals {
  return { requests: 0, errors: 0, latencyBuckets: {}, latencySumMs: 0 };
}

export function emptyTotals(): OutcomeTotals {
  return { treatment: emptyCohort(), control: emptyCohort() };
}

/** A new cohort holding both; histograms are merged bucket by bucket (same upper-bound key). */
export function addCohort(a: CohortTotals, b: CohortTotals): CohortTotals {
  const latencyBuckets = { ...a.latencyBuckets };
  for (const [bound, n] of Object.entries(b.latencyBuckets)) latencyBuckets[bound] = (latencyBuckets[bound] ?? 0) + n;
  const units = addUnits(a.units, b.units);
  return {
    requests: a.requests + b.requests,
    errors: a.errors + b.errors,
    latencyBuckets,
    latencySumMs: a.latencySumMs + b.latencySumMs,
    ...(units ? { units } : {}),
  };
}

/** Per-bucket sums of two unit counts (either may be absent). */
function addUnits(a: UnitCounts | undefined, b: UnitCounts | undefined): UnitCounts | undefined {
  if (!a || !b) return (a ?? b) ? { requests: [...(a ?? b)!.requests], errors: [...(a ?? b)!.errors] } : undefined;
  return { requests: a.requests.map((n, k) => n + b.requests[k]!), errors: a.errors.map((n, k) => n + b.errors[k]!) };
}

/** Adds `source` into `target`, in place: for sums the caller owns (a tick adds thousands). */
export function addInto(target: OutcomeTotals, source: OutcomeTotals): OutcomeTotals {
  for (const cohort of ['treatment', 'control'] as const) {
    const t = target[cohort];
    const s = source[cohort];
    t.requests += s.requests;
    t.errors += s.errors;
    t.latencySumMs += s.latencySumMs;
    for (const bound in s.latencyBuckets) t.latencyBuckets[bound] = (t.latencyBuckets[bound] ?? 0) + s.latencyBuckets[bound]!;
    const units = addUnits(t.units, s.units);
    if (units) t.units = units;
  }
  return target;
}

export function addTotals(a: OutcomeTotals, b: OutcomeTotals): OutcomeTotals {
  return { treatment: addCohort(a.treatment, b.treatment), control: addCohort(a.control, b.control) };
}

/** Share of requests that failed; undefined without requests, so "no data" is never read as 0 %. */
export function errorRate(c: CohortTotals): number | undefined {
  return c.requests === 0 ? undefined : c.errors / c.requests;
}

/** Number of requests that reported a latency (the histogram's total). */
export function latencyCount(c: CohortTotals): number {
  let n = 0;
  for (const count of Object.values(c.latencyBuckets)) n += count;
  return n;
}

/**
 * Mean latency of the requests that reported one. Divided by the histogram's count rather than
 * by `requests`, because the sum only covers requests that reported a latency.
 */
export function latencyMean(c: CohortTotals): number | undefined {
  const n = latencyCount(c);
  return n === 0 ? undefined : c.latencySumMs / n;
}

/** "+Inf" is the catch-all bucket; any other key is an upper bound in ms. Junk keys give NaN. */
function parseBound(key: string): number {
  return key === '+Inf' ? Infinity : Number(key);
}

/**
 * Share of the requests that reported a latency which took longer than `limitMs`, interpolating
 * inside the bucket that holds the limit as the percentile estimate does. Requests in the +Inf
 * bucket count as slower (they overflowed every bound). 0 for an empty histogram.
 */
export function latencyShareAbove(c: CohortTotals, limitMs: number): number {
  const buckets = Object.entries(c.latencyBuckets)
    .map(([key, count]) => [parseBound(key), count] as const)
    .filter(([bound, count]) => !Number.isNaN(bound) && count >= 0)
    .sort((x, y) => x[0] - y[0]);
  let total = 0;
  let above = 0;
  let lower = 0;
  for (const [upper, count] of buckets) {
    total += count;
    if (upper === Infinity || limitMs <= lower) above += count;
    else if (limitMs < upper) above += (count * (upper - limitMs)) / (upper - lower);
    if (upper !== Infinity) lower = upper;
  }
  return total === 0 ? 0 : above / total;
}

/**
 * The p-quantile (p in 0..1) estimated from the histogram as Prometheus' histogram_quantile does:
 * find the bucket holding the rank p × count and interpolate linearly between its lower bound
 * (the previous bound, 0 for the first) and its upper bound, assuming values spread evenly in it.
 * A rank in the +Inf bucket has no upper bound to interpolate to, so the largest finite bound is
 * the best (lower) estimate. Undefined when the histogram is empty or holds only +Inf.
 */
export function latencyPercentile(c: CohortTotals, p: number): number | undefined {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`percentile must be within 0..1, got ${p}`);
  // Keys that differ in spelling but not in value ("10", "10.0") are one bucket.
  const byBound = new Map<number, number>();
  for (const [key, count] of Object.entries(c.latencyBuckets)) {
    const bound = parseBound(key);
    // Empty buckets are kept: their bounds are still the lower bounds of the buckets after them.
    if (Number.isNaN(bound) || !(count >= 0)) continue;
    byBound.set(bound, (byBound.get(bound) ?? 0) + count);
  }
  const buckets = [...byBound].sort((x, y) => x[0] - y[0]);
  const total = buckets.reduce((n, [, count]) => n + count, 0);
  const finite = buckets.filter(([bound]) => bound !== Infinity);
  const largestFinite = finite[finite.length - 1]?.[0];
  if (total === 0 || largestFinite === undefined) return undefined;

  const rank = p * total;
  let below = 0; // requests in the buckets before the current one
  let lower = 0;
  for (const [upper, count] of buckets) {
    // Empty buckets are skipped, so p = 0 lands at the lower bound of the first bucket with data.
    if (count > 0 && below + count >= rank) {
      if (upper === Infinity) return largestFinite;
      // A first bound at or below 0 has no range to interpolate in (Prometheus returns the bound too).
      if (upper <= lower) return upper;
      return lower + (upper - lower) * ((rank - below) / count);
    }
    below += count;
    lower = upper;
  }
  return largestFinite; // unreachable: the last bucket always holds the rank; kept for floating-point safety
}
