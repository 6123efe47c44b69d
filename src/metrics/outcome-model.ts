import type { CounterFields } from '../store/counters.js';

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
  /**
   * The same requests and errors per hashed user bucket (index = bucket of the stickiness value,
   * UNIT_BUCKETS of them), when the application reported them: what judging per user needs. Users
   * are hashed into a fixed number of buckets so that counts add up across instances and time.
   * Absent when nothing was reported per user (a stock SDK, an old helper): then checks judge
   * requests. It may cover fewer requests than `requests` (requests without a stickiness value).
   */
  units?: UnitCounts;
}

/** Hashed user buckets outcomes are counted in (see CohortTotals.units). */
export const UNIT_BUCKETS = 64;

/** Requests and errors per hashed user bucket, each array UNIT_BUCKETS long. */
export interface UnitCounts {
  requests: number[];
  errors: number[];
}

export type Cohort = 'treatment' | 'control';

/** Outcomes as flat counter fields, the form they are stored and summed in (see outcome-fields.ts). */
export type OutcomeFields = CounterFields;
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
