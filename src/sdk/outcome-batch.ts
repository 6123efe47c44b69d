import { UNIT_BUCKETS, type Cohort } from '../metrics/outcome-model.js';
import { BottomK, USER_HASH_PATTERN, USER_SAMPLE_SIZE } from '../metrics/user-sample.js';

/**
 * Outcomes observed since the last flush, added up per flag and cohort in memory: recording is a
 * map lookup and a few additions, so it never slows the work it measures. Pure, no I/O or clock.
 */

/**
 * One record of POST /api/metrics/outcomes, written out rather than taken from the server's zod
 * schema so the helper's build does not pull in server modules; a type test holds the two equal.
 */
export interface OutcomeRecord {
  /** The flag; the helper always names one (a report written by hand may name a `release` instead). */
  flag?: string;
  release?: string;
  cohort: Cohort;
  requests: number;
  errors: number;
  /** Upper bound in ms ("+Inf" for the last) → count in that bucket, not cumulative; sum in ms. */
  latencyMs?: { buckets: Record<string, number>; sum: number };
  /** The same requests and errors per hashed user bucket ("0" … "63"): what judging per user needs. */
  units?: Record<string, { requests: number; errors: number }>;
  /** The distinct users, as sample hashes (at most USER_SAMPLE_SIZE, the smallest): what the sample-ratio check counts. */
  users?: string[];
}

/** Upper bounds (ms) of the latency histogram; a last "+Inf" bucket catches the rest. */
export const DEFAULT_LATENCY_BUCKETS_MS = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000] as const;
/** What the controller accepts in one report: at most 1,000 records, 20,000 user hashes, 100 buckets per histogram. */
export const MAX_RECORDS_PER_REPORT = 1000;
export const MAX_USERS_PER_REPORT = 20_000;
const MAX_FINITE_BUCKETS = 99;
/**
 * The controller's flag-name rule (NAME_PATTERN in src/flags/schema.ts, held equal by a test),
 * written out so the helper does not load the server's zod schemas into every application.
 */
export const FLAG_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.~-]{0,99}$/;

export interface Observation {
  ok: boolean;
  /** How long the work took; left out (or not a finite number ≥ 0) when unknown. */
  latencyMs?: number;
  /** The hashed user bucket of the request's stickiness value (0 … 63), when it has one. */
  unit?: number;
  /** The user's sample hash (userSampleHash of the stickiness value: 12 hex digits), when it has one. */
  user?: string;
}

/** Hashed user buckets, as the controller counts them. */
export const UNIT_BUCKET_COUNT = UNIT_BUCKETS;

interface Tally {
  flag: string;
  cohort: Cohort;
  requests: number;
  errors: number;
  /** counts[i] = observations in (bounds[i-1], bounds[i]]; the last entry is the +Inf bucket. */
  counts: number[] | undefined;
  latencySum: number;
  /** Requests and errors per hashed user bucket, for the observations that named one. */
  units: Map<number, { requests: number; errors: number }> | undefined;
  /** The smallest sample hashes of the users seen. */
  users: BottomK | undefined;
}

/** Checks the bounds once, at start-up: a bad histogram is a programming error, better found at once. */
export function checkLatencyBuckets(bounds: readonly number[]): readonly number[] {
  if (bounds.length === 0 || bounds.length > MAX_FINITE_BUCKETS) throw new TypeError(`latencyBucketsMs must hold 1 to ${MAX_FINITE_BUCKETS} bounds`);
  bounds.forEach((bound, i) => {
    if (!Number.isFinite(bound) || bound <= 0) throw new TypeError(`latencyBucketsMs[${i}] must be a positive number of ms, got ${bound}`);
    if (i > 0 && bound <= bounds[i - 1]!) throw new TypeError('latencyBucketsMs must be in increasing order');
  });
  return bounds;
}

export class OutcomeBatch {
  private tallies = new Map<string, Tally>();
  /** Observations refused since the batch was made (bad flag name, too many distinct flags). */
  refused = 0;

  /**
   * `startedAt`: when the batch began counting (wall clock, ms), which its report says (`start`): the
   * controller counts its users from then.
   */
  constructor(
    private readonly bounds: readonly number[] = DEFAULT_LATENCY_BUCKETS_MS,
    private readonly maxKeys = MAX_RECORDS_PER_REPORT,
    readonly startedAt = 0,
  ) {}

  get size(): number {
    return this.tallies.size;
  }

  /** Adds one observation; returns false (and counts it refused) when it cannot be reported. */
  add(flag: string, cohort: Cohort, observation: Observation): boolean {
    const key = `${cohort}\t${flag}`;
    let tally = this.tallies.get(key);
    if (!tally) {
      // The controller refuses a whole report over one bad record, so a bad one stops here.
      if (!FLAG_NAME_PATTERN.test(flag) || (cohort !== 'treatment' && cohort !== 'control') || this.tallies.size >= this.maxKeys) {
        this.refused += 1;
        return false;
      }
      tally = { flag, cohort, requests: 0, errors: 0, counts: undefined, latencySum: 0, units: undefined, users: undefined };
      this.tallies.set(key, tally);
    }
    tally.requests += 1;
    if (!observation.ok) tally.errors += 1;
    const unit = observation.unit;
    if (typeof unit === 'number' && Number.isInteger(unit) && unit >= 0 && unit < UNIT_BUCKET_COUNT) {
      tally.units ??= new Map();
      let u = tally.units.get(unit);
      if (!u) tally.units.set(unit, (u = { requests: 0, errors: 0 }));
      u.requests += 1;
      if (!observation.ok) u.errors += 1;
    }
    if (typeof observation.user === 'string' && USER_HASH_PATTERN.test(observation.user)) (tally.users ??= new BottomK(USER_SAMPLE_SIZE)).add(observation.user);
    const latency = observation.latencyMs;
    if (typeof latency === 'number' && Number.isFinite(latency) && latency >= 0) {
      tally.counts ??= new Array<number>(this.bounds.length + 1).fill(0);
      tally.counts[this.bucketIndex(latency)]! += 1;
      tally.latencySum += latency;
    }
    return true;
  }

  /** The first bucket whose upper bound is at or above the value (Prometheus' "le"), or +Inf. */
  private bucketIndex(latency: number): number {
    let lo = 0;
    let hi = this.bounds.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.bounds[mid]! >= latency) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /**
   * Records in the contract's shape. Counts are per bucket, not cumulative, and every bound is
   * sent even when empty: an empty bucket's bound is still the lower edge of the next one, which
   * percentile interpolation needs.
   */
  toRecords(): OutcomeRecord[] {
    return [...this.tallies.values()].map((t) => {
      const record: OutcomeRecord = { flag: t.flag, cohort: t.cohort, requests: t.requests, errors: t.errors };
      if (t.counts) {
        const buckets: Record<string, number> = {};
        t.counts.forEach((n, i) => (buckets[i < this.bounds.length ? String(this.bounds[i]) : '+Inf'] = n));
        record.latencyMs = { buckets, sum: t.latencySum };
      }
      if (t.units) record.units = Object.fromEntries([...t.units].map(([bucket, u]) => [String(bucket), { ...u }]));
      if (t.users) record.users = t.users.values();
      return record;
    });
  }
}

/**
 * Records in reports the controller accepts: at most `maxRecords` (MAX_RECORDS_PER_REPORT unless told) records and
 * MAX_USERS_PER_REPORT user hashes each (a record holds at most USER_SAMPLE_SIZE, so every record fits).
 */
export function splitReports(records: readonly OutcomeRecord[], maxRecords = MAX_RECORDS_PER_REPORT): OutcomeRecord[][] {
  const reports: OutcomeRecord[][] = [];
  let current: OutcomeRecord[] = [];
  let users = 0;
  for (const record of records) {
    const n = record.users?.length ?? 0;
    if (current.length > 0 && (current.length >= maxRecords || users + n > MAX_USERS_PER_REPORT)) {
      reports.push(current);
      current = [];
      users = 0;
    }
    current.push(record);
    users += n;
  }
  if (current.length > 0) reports.push(current);
  return reports;
}

/** Requests a list of records stands for: what the drop counters count. */
export function requestsIn(records: readonly OutcomeRecord[]): number {
  return records.reduce((n, r) => n + r.requests, 0);
}
