/**
 * The sample-ratio check on users: of the distinct users (stickiness values) seen in a step, does
 * the share that got the feature match the share the step serves? Pure, no dependencies beyond
 * statistics.ts.
 *
 * Why users: the hash of the stickiness value decides assignment, so each distinct user is one
 * independent draw that lands in treatment with the step's share, which is what a test of a share
 * assumes. Evaluations are not independent draws: one heavy user evaluating the flag 10,000 times
 * moves the evaluation share as if 10,000 users had been assigned, so a test on evaluations reports
 * a mismatch where the assignment is fine.
 *
 * Counts may be exact or estimated (a bottom-k sample, src/metrics/user-sample.ts), each with the
 * variance of its estimate. Under a correct assignment, D = on − p · (on + off) varies by the
 * assignment's own binomial spread, n · p · (1 − p), plus what the estimates add,
 * (1 − p)² · var(on) + p² · var(off). The test is on the effective number of users, the n of a
 * plain binomial sample with that much spread (Kish's design effect): exact counts keep their n;
 * estimated ones count for fewer, so an estimate's error is never mistaken for a mismatch.
 *  - When a cohort expects few users (under 50 of the effective n): an exact two-sided binomial
 *    test (twice the smaller tail). Pearson's χ² rejects far too often there: at 100 users and a
 *    1 % step, 5 treated users give χ² p = 0.00006, while 5 or more happen by chance 0.34 % of the
 *    time.
 *  - Otherwise: Pearson's χ² with one degree of freedom, D² / var(D), which for exact counts is
 *    the usual (on − E_on)² / E_on + (off − E_off)² / E_off.
 */
import { chiSquaredOneDofPValue, type SampleRatioTest } from './statistics.js';

/** Users in one cohort: a count, or an estimate with its variance (0: exact). */
export type UserCount = number | { count: number; variance: number };

export interface UserShareTest extends SampleRatioTest {
  /** Users the test counted for (fewer than on + off when estimates carry error). */
  effectiveUsers: number;
  /** Which computation gave the p-value. */
  computed: 'exact-binomial' | 'chi-squared';
}

/** Below this many expected users in the smaller cohort, the exact binomial test is used. */
const EXACT_BELOW = 50;

function parts(c: UserCount): { count: number; variance: number } {
  return typeof c === 'number' ? { count: c, variance: 0 } : c;
}

export function unitShareTest(users: { on: UserCount; off: UserCount }, expectedShare: number): UserShareTest {
  const on = parts(users.on);
  const off = parts(users.off);
  const n = on.count + off.count;
  const observedShare = n > 0 ? on.count / n : 0;
  const p = expectedShare;
  if (n <= 0 || p <= 0 || p >= 1) {
    // At 0 % or 100 % any user on the wrong side is a mismatch; there is no spread to test.
    const wrong = p <= 0 ? on.count : p >= 1 ? off.count : 0;
    return { observedShare, expectedShare, chiSquared: wrong > 0 ? Infinity : 0, pValue: wrong > 0 ? 0 : 1, effectiveUsers: n, computed: 'chi-squared' };
  }
  const spread = n * p * (1 - p);
  const variance = spread + (1 - p) ** 2 * on.variance + p ** 2 * off.variance;
  const d = on.count - p * n;
  const chiSquared = (d * d) / variance;
  const effectiveUsers = (n * spread) / variance;
  if (Math.min(p, 1 - p) * effectiveUsers < EXACT_BELOW) {
    const trials = Math.max(1, Math.round(effectiveUsers));
    const successes = Math.min(trials, Math.round(observedShare * effectiveUsers));
    return { observedShare, expectedShare, chiSquared, pValue: binomialTwoSided(successes, trials, p), effectiveUsers, computed: 'exact-binomial' };
  }
  return { observedShare, expectedShare, chiSquared, pValue: chiSquaredOneDofPValue(chiSquared), effectiveUsers, computed: 'chi-squared' };
}

/**
 * Two-sided exact binomial p-value, twice the smaller tail (at most 1), for x successes in n trials
 * of probability p, with n · min(p, 1 − p) small (see EXACT_BELOW): the tails are summed term by
 * term from the side where successes are rare.
 */
export function binomialTwoSided(x: number, n: number, p: number): number {
  // Count the rarer outcome, so the sums start where the probabilities are.
  const [k, q] = p <= 0.5 ? [x, p] : [n - x, 1 - p];
  const ratio = q / (1 - q);
  let term = Math.exp(n * Math.log1p(-q)); // P(0)
  let below = 0; // P(X < k)
  for (let i = 0; i < k; i++) {
    below += term;
    term *= ((n - i) / (i + 1)) * ratio;
  }
  // term is now P(k): the upper tail from k on, summed until the terms no longer matter.
  const atK = term;
  let above = 0;
  for (let i = k; i <= n; i++) {
    above += term;
    if (i > n * q && term < above * 1e-17) break;
    term *= ((n - i) / (i + 1)) * ratio;
  }
  return Math.min(1, 2 * Math.min(below + atK, above));
}
