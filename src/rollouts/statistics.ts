/**
 * The statistics behind gates and traffic checks. Pure functions, no dependencies.
 *
 * Gates are looked at every analysis interval on a sample that keeps growing for as long as the
 * step lasts. A fixed-sample test (a plain z-test at 95 %) looked at after every interval rejects
 * a healthy release far more often than 5 % of the time, because each look is another chance for
 * noise to cross the line. The confidence bounds here are *always valid* instead: they hold at
 * every look at once, so however often the controller looks, the chance that a healthy cohort is
 * ever declared worse stays below 1 − confidence. They come from the normal-mixture sequential
 * probability ratio test (mSPRT): with an estimate θ̂ of variance v, and a mixing scale τ (the size
 * of effect the test is tuned to notice soonest), θ is outside θ̂ ± r with
 *
 *   r² = v (v + τ²) / τ² · ln((v + τ²) / (v α²))
 *
 * at every sample size with probability at least 1 − α (a normal approximation to the binomial,
 * sound once a cohort has a few hundred requests, which minimum sample sizes ensure).
 */

export interface Bounds {
  estimate: number;
  lower: number;
  upper: number;
}

/** Radius of the always-valid interval for an estimate with variance `v` (see above). */
export function alwaysValidRadius(variance: number, tau: number, alpha: number): number {
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be within (0, 1), got ${alpha}`);
  if (!(tau > 0)) throw new RangeError(`tau must be positive, got ${tau}`);
  const v = Math.max(variance, 1e-12);
  const t2 = tau * tau;
  return Math.sqrt(((v * (v + t2)) / t2) * Math.log((v + t2) / (v * alpha * alpha)));
}

/**
 * A rate for the variance only: (x + ½) / (n + 1) keeps a cohort with no errors yet from looking
 * certain (a variance of exactly 0 would make any difference look significant).
 */
function smoothedRate(events: number, trials: number): number {
  return (events + 0.5) / (trials + 1);
}

/** Always-valid bounds on a rate (errors / requests). `tau` defaults to the threshold of interest. */
export function rateBounds(events: number, trials: number, confidence: number, tau: number): Bounds {
  const estimate = trials > 0 ? events / trials : 0;
  const p = smoothedRate(events, trials);
  const r = alwaysValidRadius((p * (1 - p)) / Math.max(trials, 1), tau, 1 - confidence);
  return { estimate, lower: Math.max(0, estimate - r), upper: Math.min(1, estimate + r) };
}

/**
 * Always-valid bounds on d = rateT − (1 + margin) · rateC: how much worse treatment is than
 * control beyond the margin allowed. d > 0 everywhere in the bounds means "worse than allowed".
 * τ is the control rate (at least 0.1 %): the test is tuned to notice a doubling soonest.
 */
export function marginDifferenceBounds(
  t: { events: number; trials: number },
  c: { events: number; trials: number },
  margin: number,
  confidence: number,
): Bounds {
  const rt = t.trials > 0 ? t.events / t.trials : 0;
  const rc = c.trials > 0 ? c.events / c.trials : 0;
  const pt = smoothedRate(t.events, t.trials);
  const pc = smoothedRate(c.events, c.trials);
  const k = 1 + margin;
  const variance = (pt * (1 - pt)) / Math.max(t.trials, 1) + (k * k * pc * (1 - pc)) / Math.max(c.trials, 1);
  const tau = Math.max(rc, 0.001);
  const r = alwaysValidRadius(variance, tau, 1 - confidence);
  const estimate = rt - k * rc;
  return { estimate, lower: estimate - r, upper: estimate + r };
}

/** Regularised upper tail of the χ² distribution with one degree of freedom: P(X ≥ x). */
export function chiSquaredOneDofPValue(x: number): number {
  if (!(x > 0)) return 1;
  return erfc(Math.sqrt(x / 2));
}

/** Complementary error function (Numerical Recipes' Chebyshev fit, relative error < 1.2e-7). */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

export interface SampleRatioTest {
  observedShare: number;
  expectedShare: number;
  chiSquared: number;
  pValue: number;
}

/**
 * Sample-ratio mismatch: does the share of evaluations that got the feature match the share the
 * step asked for? Pearson's χ² goodness of fit with one degree of freedom (on / off).
 */
export function sampleRatioTest(on: number, off: number, expectedShare: number): SampleRatioTest {
  const n = on + off;
  const observedShare = n > 0 ? on / n : 0;
  if (n === 0 || expectedShare <= 0 || expectedShare >= 1) {
    // At 0 % or 100 % any evaluation on the wrong side is a mismatch; there is no spread to test.
    const wrong = expectedShare <= 0 ? on : expectedShare >= 1 ? off : 0;
    return { observedShare, expectedShare, chiSquared: wrong > 0 ? Infinity : 0, pValue: wrong > 0 ? 0 : 1 };
  }
  const eOn = n * expectedShare;
  const eOff = n - eOn;
  const chiSquared = (on - eOn) ** 2 / eOn + (off - eOff) ** 2 / eOff;
  return { observedShare, expectedShare, chiSquared, pValue: chiSquaredOneDofPValue(chiSquared) };
}
