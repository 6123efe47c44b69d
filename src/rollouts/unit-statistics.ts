/**
 * Gates judged on users, not requests. Pure functions, no dependencies beyond statistics.ts.
 *
 * Why: a flag is sticky per user (its stickiness value), so the user is what the rollout
 * randomises, not the request. Requests from one user are correlated: a heavy user sends
 * thousands, a user with a broken account fails on most of them. Treating every request as an
 * independent coin flip (rateBounds in statistics.ts) then gives bounds far too narrow, and a
 * healthy release is called worse than it is whenever one unlucky user happens to be in treatment.
 *
 * What is counted: per cohort, requests and errors in K hashed user buckets (K = 64; a user's
 * bucket is a hash of the stickiness value, see unit-bucket.ts). Every request of one user lands in
 * the same bucket, so a bucket holds whole users. Buckets add up across application instances and
 * across time (plain sums), so the controller only ever stores 2 × K numbers per cohort.
 *
 * How it is judged: users are independent of one another and each bucket is a disjoint set of
 * users, so the buckets are independent. The rate is a ratio of sums, R = Σ errors / Σ requests,
 * and its variance comes from how much the buckets disagree (cluster-robust, delta method):
 *
 *   var(R) ≈ m / (m − 1) · Σ_k (e_k − R · r_k)² / (Σ_k r_k)²      over the m buckets with requests
 *
 * That variance goes into the same always-valid (mSPRT) radius as the request-level bounds, so the
 * bounds still hold at every look: estimate − radius is the lower bound. The upper bound also asks
 * what variance a higher rate would have (see varianceAt), because errors are skewed across users
 * and a low estimate comes with a low variance.
 *
 * Assumptions: the stickiness value identifies a user (or a session), not a random value per
 * request; each bucket holds enough users for a normal approximation (with thousands of users, 64
 * buckets hold dozens each); the variance estimated from m buckets is itself a little noisy (about
 * ±√(2 / m), 18 % at m = 64), which the mSPRT radius, built for unlimited looks, has slack to
 * absorb. Where those fail (a few hundred users, or request rates so heavy-tailed that a handful of
 * users carry most of the traffic), the lower bound stays conservative but the upper one can sit
 * below the truth more often than promised: see test/unit/unit-statistics-coverage.test.ts.
 */
import { UNIT_BUCKETS, type UnitCounts } from '../metrics/outcome-model.js';
import { alwaysValidRadius, type Bounds } from './statistics.js';

/** How many hashed user buckets a cohort's outcomes are counted in: the controller's one count. */
export const UNIT_BUCKET_COUNT = UNIT_BUCKETS;

/**
 * A cohort's outcomes per hashed user bucket: `requests[k]` and `errors[k]` are counts of requests
 * (and of those, the failed ones) from users whose stickiness value hashes to bucket k. The same
 * shape the store sums them in (CohortTotals.units).
 */
export type UnitBuckets = UnitCounts;

/**
 * The largest variance a rate can have: any quantity between 0 and 1 has a variance of at most ¼.
 * Used when the buckets cannot say anything about the spread (fewer than two with requests).
 */
export const MAX_RATE_VARIANCE = 0.25;

/** K empty buckets. */
export function emptyBuckets(k: number = UNIT_BUCKET_COUNT): UnitBuckets {
  if (!(Number.isInteger(k) && k > 0)) throw new RangeError(`bucket count must be a positive integer, got ${k}`);
  return { requests: new Array<number>(k).fill(0), errors: new Array<number>(k).fill(0) };
}

/** Counts `requests` requests, `errors` of them failed, in `bucket` (in place: the instance-side counter). */
export function recordOutcome(b: UnitBuckets, bucket: number, requests: number, errors = 0): void {
  if (!(Number.isInteger(bucket) && bucket >= 0 && bucket < b.requests.length)) {
    throw new RangeError(`bucket must be an integer within [0, ${b.requests.length}), got ${bucket}`);
  }
  b.requests[bucket] = (b.requests[bucket] ?? 0) + requests;
  b.errors[bucket] = (b.errors[bucket] ?? 0) + errors;
}

/**
 * Bucket-wise sum of any number of counts (instances, intervals): a new object, the inputs are
 * left alone. All must have the same K, or the same user would be counted in different buckets.
 */
export function addBuckets(...all: UnitBuckets[]): UnitBuckets {
  const first = all[0];
  if (!first) throw new RangeError('addBuckets needs at least one set of buckets');
  const sum = emptyBuckets(first.requests.length);
  for (const b of all) {
    checkShape(b, sum.requests.length);
    for (let k = 0; k < sum.requests.length; k++) {
      sum.requests[k]! += b.requests[k]!;
      sum.errors[k]! += b.errors[k]!;
    }
  }
  return sum;
}

function checkShape(b: UnitBuckets, k: number): void {
  if (b.requests.length !== k || b.errors.length !== k) {
    throw new RangeError(`expected ${k} buckets of requests and errors, got ${b.requests.length} and ${b.errors.length}`);
  }
}

interface Sums {
  requests: number;
  errors: number;
  /** Buckets with at least one request: the m of the variance formula. */
  occupied: number;
}

function sums(b: UnitBuckets): Sums {
  checkShape(b, b.requests.length);
  let requests = 0;
  let errors = 0;
  let occupied = 0;
  for (let k = 0; k < b.requests.length; k++) {
    const r = b.requests[k]!;
    if (r <= 0) continue; // no users seen there: not a cluster at all (errors without requests are ignored)
    requests += r;
    errors += b.errors[k]!;
    occupied++;
  }
  return { requests, errors, occupied };
}

/** Buckets with at least one request. Fewer than 2 and there is no spread to estimate. */
export function occupiedBuckets(b: UnitBuckets): number {
  return sums(b).occupied;
}

/** The cohort's error rate, Σ errors / Σ requests (0 before any request), a fraction of requests. */
export function unitRatio(b: UnitBuckets): number {
  const s = sums(b);
  return s.requests > 0 ? s.errors / s.requests : 0;
}

/** What the bounds need from one cohort's buckets. */
interface Fit {
  rate: number;
  /** unitRatioVariance: the spread between buckets, with its two guards. */
  variance: number;
  /** (errors + ½) / (requests + 1): the rate the variance floor is taken at, never exactly 0 or 1. */
  smoothed: number;
  requests: number;
}

function fit(b: UnitBuckets): Fit {
  const s = sums(b);
  const rate = s.requests > 0 ? s.errors / s.requests : 0;
  const smoothed = (s.errors + 0.5) / (s.requests + 1);
  if (s.occupied < 2) return { rate, variance: MAX_RATE_VARIANCE, smoothed, requests: s.requests };
  let squares = 0;
  for (let k = 0; k < b.requests.length; k++) {
    const r = b.requests[k]!;
    if (r <= 0) continue;
    const residual = b.errors[k]! - rate * r;
    squares += residual * residual;
  }
  const m = s.occupied;
  const clustered = ((m / (m - 1)) * squares) / (s.requests * s.requests);
  const floor = (smoothed * (1 - smoothed)) / s.requests;
  return { rate, variance: Math.min(MAX_RATE_VARIANCE, Math.max(clustered, floor)), smoothed, requests: s.requests };
}

/**
 * Variance of unitRatio, in (fraction of requests)², from the spread between buckets (see the top
 * of the file). Two guards, both erring towards "less certain":
 * - fewer than two buckets with requests: the spread cannot be estimated, so the largest variance
 *   any rate can have (¼), which makes the bounds span everything and the gate wait;
 * - never below the request-level variance at the smoothed rate (x + ½) / (n + 1) that
 *   statistics.ts uses. With no errors yet every bucket agrees exactly (all residuals are 0), and
 *   a variance of 0 would make the cohort look certain. Requests of one user are positively
 *   correlated in practice (heavy users, troubled users), so the clustered variance should not be
 *   smaller than the independent-requests one; taking the larger never claims more certainty than
 *   the request-level test did.
 */
export function unitRatioVariance(b: UnitBuckets): number {
  return fit(b).variance;
}

/**
 * How many times noisier the rate is than if every request were independent: the variance from
 * the buckets over the binomial variance at the smoothed rate (at least 1, by the floor above).
 * Worth showing next to the bounds: it is why they are wider than request counts suggest.
 */
export function designEffect(b: UnitBuckets): number {
  const f = fit(b);
  return f.variance / ((f.smoothed * (1 - f.smoothed)) / Math.max(f.requests, 1));
}

/**
 * The variance the cohort's rate would have if the true rate were `theta`: the estimated variance
 * scaled by how much more binomial spread θ has than the smoothed observed rate, never scaled down.
 *
 * Why the upper ends need it: errors are skewed across users (most never fail, a few fail often).
 * When the troubled users are under-represented so far, the rate AND its variance both come out
 * low together, and a bound built from that variance sits below the truth far more often than
 * promised (in 7 to 9 % of the coverage test's sequences instead of at most 5 %, and in up to
 * 18 % when a handful of users carry all the errors). Asking "could the rate be θ?" with the
 * variance θ would have, as the Wilson interval does for a plain binomial, with the clustering
 * carried over as a design effect, restores the promised coverage. Below the estimate
 * the variance is left as measured: a lower bound is what rolls a release back, and it stays
 * exactly the plain plug-in bound.
 */
function varianceAt(f: Fit, theta: number): number {
  const t = Math.min(1, Math.max(0, theta));
  const scale = (t * (1 - t)) / (f.smoothed * (1 - f.smoothed));
  return Math.min(MAX_RATE_VARIANCE, f.variance * Math.max(1, scale));
}

/**
 * The largest x in [estimate, top] that the data cannot rule out, x − estimate ≤ radius(variance(x)),
 * by bisection: the gap grows linearly while the radius grows like a square root, so they cross once.
 */
function upperEnd(estimate: number, top: number, variance: (x: number) => number, tau: number, alpha: number): number {
  const outside = (x: number) => x - estimate > alwaysValidRadius(variance(x), tau, alpha);
  if (!outside(top)) return top;
  let inside = estimate;
  let out = top;
  for (let i = 0; i < 60 && out - inside > 1e-12; i++) {
    const mid = (inside + out) / 2;
    if (outside(mid)) out = mid;
    else inside = mid;
  }
  return out;
}

/**
 * Always-valid bounds on a cohort's error rate (a fraction of requests), with users as the unit:
 * the counterpart of rateBounds. `tau` is the size of rate the test should notice soonest (the
 * gate's limit, as for rateBounds). The lower bound is estimate − radius(unitRatioVariance); the
 * upper bound is the highest rate still consistent with the data at that rate's own variance
 * (see varianceAt), so it is at least estimate + radius(unitRatioVariance).
 */
export function unitRateBounds(b: UnitBuckets, confidence: number, tau: number): Bounds {
  const f = fit(b);
  const alpha = 1 - confidence;
  const lower = Math.max(0, f.rate - alwaysValidRadius(f.variance, tau, alpha));
  const upper = upperEnd(f.rate, 1, (x) => varianceAt(f, x), tau, alpha);
  return { estimate: f.rate, lower, upper };
}

/**
 * Always-valid bounds on d = rateT − (1 + margin) · rateC, with users as the unit: the counterpart
 * of marginDifferenceBounds. d > 0 everywhere in the bounds means "worse than allowed". Treatment
 * and control are disjoint sets of users, so their variances add:
 * var(d) = var(rateT) + (1 + margin)² · var(rateC), which gives the lower bound. τ is the control
 * rate (at least 0.1 %), as in marginDifferenceBounds: tuned to notice a doubling soonest.
 *
 * Upper bound: a larger d means a higher treatment rate (with control as observed, rateT =
 * (1 + margin) · rateC + d), and a higher rate is noisier, so treatment's variance is taken at that
 * rate (varianceAt); control's is left as measured (a lower control rate is not less noisy than
 * what was seen). Treatment is usually the smaller, more skewed cohort, where this matters most.
 */
export function unitMarginDifferenceBounds(t: UnitBuckets, c: UnitBuckets, margin: number, confidence: number): Bounds {
  const ft = fit(t);
  const fc = fit(c);
  const k = 1 + margin;
  const alpha = 1 - confidence;
  const tau = Math.max(fc.rate, 0.001);
  const estimate = ft.rate - k * fc.rate;
  const lower = estimate - alwaysValidRadius(ft.variance + k * k * fc.variance, tau, alpha);
  // d is at most 1 (rateT ≤ 1, rateC ≥ 0): the bisection's ceiling.
  const upper = upperEnd(estimate, 1, (d) => varianceAt(ft, k * fc.rate + d) + k * k * fc.variance, tau, alpha);
  return { estimate, lower, upper };
}

/**
 * The cohort's error rate without its few worst buckets of users: all errors over all requests once
 * the buckets holding the most errors (an eighth of the buckets that saw requests, at least one)
 * are left out. Unlike the cohort's rate it does not move when one heavy or error-prone user lands
 * in the cohort; it does when most users fail more. Undefined without data.
 */
export function typicalRate(b: UnitBuckets): number | undefined {
  const occupied: number[] = [];
  b.requests.forEach((n, k) => {
    if (n > 0) occupied.push(k);
  });
  if (occupied.length === 0) return undefined;
  occupied.sort((x, y) => b.errors[y]! - b.errors[x]!);
  const kept = occupied.slice(Math.max(1, Math.floor(occupied.length / 8)));
  if (kept.length === 0) return b.errors[occupied[0]!]! / b.requests[occupied[0]!]!;
  let requests = 0;
  let errors = 0;
  for (const k of kept) {
    requests += b.requests[k]!;
    errors += b.errors[k]!;
  }
  return errors / requests;
}
