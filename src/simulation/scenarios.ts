/**
 * Synthetic services to release into. Each scenario says how much traffic the service gets and
 * how each cohort behaves; `regression` says whether a sound policy ought to stop the release.
 */

export interface CohortBehaviour {
  errorRate: number;
  /** Log-normal latency: median in ms and the standard deviation of its logarithm. */
  latencyMedianMs: number;
  latencySigma: number;
}

export interface Scenario {
  name: string;
  description: string;
  /** Requests per second to the whole service (both cohorts). */
  rps: number;
  control: CohortBehaviour;
  treatment: CohortBehaviour;
  /**
   * Interval-to-interval noise shared by both cohorts (a busy hour, a flaky dependency): the
   * error rate and the traffic are multiplied each interval by a log-normal factor with this
   * standard deviation of its logarithm. 0 for a steady service.
   */
  noise: number;
  regression: boolean;
}

/** A healthy service: 0.5 % errors, median 80 ms, p99 about 320 ms. */
const BASE: CohortBehaviour = { errorRate: 0.005, latencyMedianMs: 80, latencySigma: 0.6 };

export const SCENARIOS: Scenario[] = [
  {
    name: 'healthy',
    description: 'treatment behaves like control (0.5 % errors, p99 ≈ 320 ms), 50 req/s',
    rps: 50,
    control: BASE,
    treatment: BASE,
    noise: 0,
    regression: false,
  },
  {
    name: 'healthy, noisy',
    description: 'as healthy, with error rate and traffic swinging ±50 % between intervals (both cohorts alike)',
    rps: 50,
    control: BASE,
    treatment: BASE,
    noise: 0.5,
    regression: false,
  },
  { name: 'healthy, low traffic', description: 'as healthy at 5 req/s', rps: 5, control: BASE, treatment: BASE, noise: 0, regression: false },
  {
    name: 'errors ×1.5',
    description: 'treatment 0.75 % errors against 0.5 % (under every absolute limit)',
    rps: 50,
    control: BASE,
    treatment: { ...BASE, errorRate: 0.0075 },
    noise: 0,
    regression: true,
  },
  {
    name: 'errors ×2',
    description: 'treatment 1 % errors against 0.5 % (at the 1 % absolute limit, never above it)',
    rps: 50,
    control: BASE,
    treatment: { ...BASE, errorRate: 0.01 },
    noise: 0,
    regression: true,
  },
  {
    name: 'errors ×2, noisy',
    description: 'errors ×2 with the noisy service’s swings',
    rps: 50,
    control: BASE,
    treatment: { ...BASE, errorRate: 0.01 },
    noise: 0.5,
    regression: true,
  },
  {
    name: 'errors ×10',
    description: 'treatment 5 % errors against 0.5 %',
    rps: 50,
    control: BASE,
    treatment: { ...BASE, errorRate: 0.05 },
    noise: 0,
    regression: true,
  },
  {
    name: 'errors ×10, low traffic',
    description: 'errors ×10 at 5 req/s',
    rps: 5,
    control: BASE,
    treatment: { ...BASE, errorRate: 0.05 },
    noise: 0,
    regression: true,
  },
  {
    name: 'latency ×2',
    description: 'treatment twice as slow (median 160 ms, p99 ≈ 650 ms)',
    rps: 50,
    control: BASE,
    treatment: { ...BASE, latencyMedianMs: 160 },
    noise: 0,
    regression: true,
  },
  {
    name: 'latency tail',
    description: 'treatment’s tail grows: same median, p99 ≈ 580 ms',
    rps: 50,
    control: BASE,
    treatment: { ...BASE, latencySigma: 0.85 },
    noise: 0,
    regression: true,
  },
];

/** Histogram bounds (ms) the simulated applications report, as the SDK helper's defaults would. */
export const LATENCY_BOUNDS_MS = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000];

/** Share of requests falling in each bucket of LATENCY_BOUNDS_MS (and +Inf last). */
export function latencyBucketShares(c: CohortBehaviour): number[] {
  const cdf = (x: number) => 0.5 * (1 + erf((Math.log(x) - Math.log(c.latencyMedianMs)) / (c.latencySigma * Math.SQRT2)));
  const shares: number[] = [];
  let below = 0;
  for (const bound of LATENCY_BOUNDS_MS) {
    const at = cdf(bound);
    shares.push(at - below);
    below = at;
  }
  shares.push(1 - below);
  return shares;
}

/** Abramowitz–Stegun 7.1.26 (|error| < 1.5e-7): plenty for bucket shares. */
function erf(x: number): number {
  const sign = x < 0 ? -1 : 1;
  const z = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * z);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-z * z);
  return sign * y;
}
