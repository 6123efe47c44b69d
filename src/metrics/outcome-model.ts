/**
 * What applications report about the work a flag guards, summed over a time window.
 * `treatment` is traffic for which the flag was on, `control` traffic for which it was off.
 */
export interface CohortTotals {
  requests: number;
  errors: number;
  /**
   * Latency histogram: upper bound in ms → count in that bucket (not cumulative). A key is any
   * spelling Number() reads ("10", "+10", "1e1") or "+Inf"; sums read from the store are keyed
   * "+10", "+Inf" (see outcome-fields.ts histogramKey).
   */
  latencyBuckets: Record<string, number>;
  /** Sum of latencies (ms) of the requests that reported one. */
  latencySumMs: number;
}

export type Cohort = 'treatment' | 'control';

/** Outcomes as flat counter fields, the form they are stored and summed in (see outcome-fields.ts). */
export type OutcomeFields = Record<string, number>;
export type OutcomeTotals = Record<Cohort, CohortTotals>;

export interface WindowQuery {
  environment: string;
  flag: string;
  windows: Array<[from: number, to: number]>;
}

/** Reads summed outcomes; implemented over time-bucketed counters in the store. */
export interface OutcomeSource {
  /** Bucket size in ms: windows are read in whole buckets. */
  readonly bucketMs: number;
  /** Sum of every bucket whose start lies in [from, to). */
  sum(environment: string, flag: string, from: number, to: number): Promise<OutcomeTotals>;
  /**
   * Several windows for each of several flags in one read (the rollout loop's batch), as outcome
   * fields (outcome-fields.ts: `totalsOf` makes totals of them): within a query each bucket is read
   * once however many windows it falls in.
   */
  sumWindowsMany(queries: WindowQuery[]): Promise<OutcomeFields[][]>;
}
