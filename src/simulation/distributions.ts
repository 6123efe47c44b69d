import type { Random } from './random.js';

/**
 * Draws the simulation needs beyond random.ts's: heavy-tailed rates, error propensities, and the
 * Poisson intensity of a user seen at least once.
 */

/** Gamma(shape, 1): Marsaglia and Tsang, with the shape < 1 boost. */
export function gamma(random: Random, shape: number): number {
  if (shape <= 0) return 0;
  if (shape < 1) return gamma(random, shape + 1) * random.next() ** (1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = random.normal();
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = random.next();
    if (u < 1 - 0.0331 * x ** 4) return d * v;
    if (Math.log(u || Number.MIN_VALUE) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

/** Beta with mean `mean` and concentration κ = a + b: Beta(mean·κ, (1 − mean)·κ). */
export function betaAround(random: Random, mean: number, concentration: number): number {
  if (mean <= 0) return 0;
  if (mean >= 1) return 1;
  const x = gamma(random, mean * concentration);
  const y = gamma(random, (1 - mean) * concentration);
  return x + y > 0 ? x / (x + y) : mean;
}

/** Log-normal with mean 1 (its log has standard deviation sigma). */
export function lognormalMeanOne(random: Random, sigma: number): number {
  return Math.exp(sigma * random.normal() - (sigma * sigma) / 2);
}

/** Pareto with shape alpha (> 1) and mean 1. */
export function paretoMeanOne(random: Random, alpha: number): number {
  const scale = (alpha - 1) / alpha;
  return scale / (1 - random.next()) ** (1 / alpha);
}

/**
 * Poisson by inversion of its distribution function: one uniform per draw (random.ts's Knuth method
 * takes one per event), for the many small per-group draws of the real-traffic model.
 */
export function poissonDraw(random: Random, mean: number): number {
  if (mean <= 0) return 0;
  if (mean > 50) return random.poisson(mean);
  const u = random.next();
  let k = 0;
  let p = Math.exp(-mean);
  let cdf = p;
  while (u > cdf && k < 1000) {
    k++;
    p *= mean / k;
    cdf += p;
  }
  return k;
}

/** Binomial by inversion when few successes are expected (one uniform), random.ts's otherwise. */
export function binomialDraw(random: Random, n: number, p: number): number {
  if (n <= 0 || p <= 0) return 0;
  if (p >= 1) return n;
  if (n * p > 30 || p > 0.5) return random.binomial(n, p);
  const u = random.next();
  const odds = p / (1 - p);
  let k = 0;
  let prob = (1 - p) ** n;
  let cdf = prob;
  while (u > cdf && k < n) {
    prob *= ((n - k) / (k + 1)) * odds;
    k++;
    cdf += prob;
  }
  return k;
}
