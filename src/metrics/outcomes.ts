import { z } from 'zod';
import { flagNameSchema } from '../flags/schema.js';
import { RESERVED_NAME_PREFIX } from '../flags/flag-name.js';
import { appNameSchema } from './sdk-fields.js';
import type { Store } from '../store/port.js';
import { addFields, boundField, canonicalBound, cohortField, totalsOf, unitFields, type OutcomeFields } from './outcome-fields.js';
import { UNIT_BUCKETS, type OutcomeSource, type OutcomeTotals, type WindowQuery } from './outcome-model.js';
import { USER_HASH_PATTERN, USER_SAMPLE_SIZE, USER_SAMPLE_TTL_SECONDS, userSampleBucket, userSampleKey } from './user-sample.js';

/** Gates are judged over short windows (minutes), so buckets are fine-grained: ten seconds by default. */
export const DEFAULT_OUTCOME_BUCKET_MS = 10_000;
/** Kept two days, like exposures: long enough for a step's whole analysis, short enough to stay small. */
export const OUTCOME_TTL_SECONDS = 2 * 24 * 3600;
const MAX_RECORDS = 1000;
const MAX_HISTOGRAM_BUCKETS = 100;
/** Sample hashes of users in one report, all records together (a record holds at most USER_SAMPLE_SIZE). */
export const MAX_USERS_PER_REPORT = 20_000;
/** A report's `start` counts from at most this long before it arrived (a later one, or none, from its arrival). */
const MAX_REPORT_AGE_MS = 10 * 60_000;

/** "+Inf" or a plain decimal number (exponent allowed); no hex, signs or blanks that Number() would let through. */
const BOUND_PATTERN = /^(?:\+Inf|(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)$/;
const BOUND_MESSAGE = 'a histogram upper bound: a positive number of ms, or "+Inf"';

const boundKeySchema = z
  .string()
  .max(32)
  .regex(BOUND_PATTERN, BOUND_MESSAGE)
  .refine((key) => key === '+Inf' || (Number(key) > 0 && Number.isFinite(Number(key))), BOUND_MESSAGE);

/** A hashed user bucket's number, 0 to UNIT_BUCKETS − 1, as a key ("0" … "63"). */
const UNIT_KEY = /^(?:0|[1-9]\d?)$/;
const unitKeySchema = z
  .string()
  .regex(UNIT_KEY, `a hashed user bucket: a whole number from 0 to ${UNIT_BUCKETS - 1}`)
  .refine((k) => Number(k) < UNIT_BUCKETS, `a hashed user bucket: a whole number from 0 to ${UNIT_BUCKETS - 1}`);
const unitCountsSchema = z
  .object({ requests: z.number().int().nonnegative(), errors: z.number().int().nonnegative() })
  .strict()
  .refine((u) => u.errors <= u.requests, { path: ['errors'], message: 'errors cannot exceed requests' });

const outcomeRecordSchema = z
  .object({
    /** The flag the work was behind; or, in its place, `release`: the release (several flags ramped as one) as a whole. */
    flag: flagNameSchema.optional(),
    release: flagNameSchema.optional().describe('In place of `flag`: outcomes of a release as a whole (its name), judged with its flags'),
    cohort: z.enum(['treatment', 'control']),
    requests: z.number().int().nonnegative(),
    errors: z.number().int().nonnegative(),
    latencyMs: z
      .object({
        buckets: z
          // zod words a bad key as "Invalid key in record"; say what a key must be instead.
          .record(boundKeySchema, z.number().int().nonnegative(), {
            error: (issue) => (issue.code === 'invalid_key' ? BOUND_MESSAGE : undefined),
          })
          .refine((b) => Object.keys(b).length <= MAX_HISTOGRAM_BUCKETS, `at most ${MAX_HISTOGRAM_BUCKETS} buckets`),
        sum: z.number().nonnegative(),
      })
      .optional(),
    /**
     * The same requests and errors per hashed user bucket of the stickiness value (the SDK helper
     * fills this in): what judging per user needs. Requests without a stickiness value are left out.
     */
    units: z
      .record(unitKeySchema, unitCountsSchema, {
        error: (issue) => (issue.code === 'invalid_key' ? `a hashed user bucket: 0 to ${UNIT_BUCKETS - 1}` : undefined),
      })
      .optional(),
    /**
     * The record's distinct users, as sample hashes of their stickiness value (userSampleHash: 12 hex
     * digits), at most the USER_SAMPLE_SIZE smallest: what the sample-ratio check counts users with.
     */
    users: z
      .array(z.string().regex(USER_HASH_PATTERN, 'a user sample hash: 12 lowercase hex digits'))
      .max(USER_SAMPLE_SIZE)
      .optional()
      .describe(
        `The record's distinct users as sample hashes of their stickiness value (12 hex digits; see docs/api.md), at most the ${USER_SAMPLE_SIZE} smallest`,
      ),
  })
  .refine((r) => (r.flag === undefined) !== (r.release === undefined), { path: ['flag'], message: 'each record names a flag or a release (one of them)' })
  .refine((r) => r.errors <= r.requests, { path: ['errors'], message: 'errors cannot exceed requests' })
  .refine((r) => !r.units || Object.values(r.units).reduce((n, u) => n + u.requests, 0) <= r.requests, {
    path: ['units'],
    message: 'the units hold more requests than the record',
  });

export const outcomeReportSchema = z
  .object({
    appName: appNameSchema,
    /**
     * When the application began counting what this report holds (ms since the epoch): its users
     * count from then, so that users seen before the SDK had fetched a step are not counted in it.
     */
    start: z
      .number()
      .int()
      .nonnegative()
      .optional()
      .describe('When the application began counting this report (ms since the epoch): its users count from then (at most ten minutes back)'),
    records: z.array(outcomeRecordSchema).max(MAX_RECORDS),
  })
  .refine((r) => r.records.reduce((n, record) => n + (record.users?.length ?? 0), 0) <= MAX_USERS_PER_REPORT, {
    path: ['records'],
    message: `at most ${MAX_USERS_PER_REPORT} users in all records together`,
  })
  .meta({ id: 'OutcomeReport' });
export type OutcomeReport = z.infer<typeof outcomeReportSchema>;

/**
 * Where a release's own records are counted, beside its flags': a name no flag can have (no flag
 * name, not even one an import brought, starts with RESERVED_NAME_PREFIX), so it never mixes with a
 * flag's outcomes or users.
 */
export const releaseOutcomeKey = (release: string) => `${RESERVED_NAME_PREFIX}${release}`;

/** Where a record is counted: under its flag, or its release's key. */
const countedUnder = (record: OutcomeReport['records'][number]) => record.flag ?? releaseOutcomeKey(record.release!);

/** One counter hash per environment, flag and bucket start, so a window read touches only that flag. */
export function outcomeBucketKey(environment: string, flag: string, bucketStart: number): string {
  return `outcome:${environment}:${flag}:${bucketStart}`;
}

/**
 * A record's counters as outcome fields (see outcome-fields.ts). Zeros are left out: an increment by
 * 0 would only create empty fields.
 */
function addRecordFields(fields: OutcomeFields, record: OutcomeReport['records'][number]): void {
  const add = (field: string, n: number, keepZero = false) => {
    const had = fields[field];
    if (n !== 0 || keepZero) fields[field] = (typeof had === 'number' ? had : 0) + n;
  };
  add(cohortField(record.cohort, 'requests'), record.requests);
  add(cohortField(record.cohort, 'errors'), record.errors);
  if (record.units) {
    const requests = new Array<number>(UNIT_BUCKETS).fill(0);
    const errors = new Array<number>(UNIT_BUCKETS).fill(0);
    for (const [bucket, u] of Object.entries(record.units)) {
      requests[Number(bucket)]! += u.requests;
      errors[Number(bucket)]! += u.errors;
    }
    addFields(fields, unitFields(record.cohort, requests, errors));
  }
  if (!record.latencyMs) return;
  add(cohortField(record.cohort, 'latsum'), record.latencyMs.sum);
  // Empty buckets are kept: a bucket's bound is the lower bound of the next one, so dropping it
  // would make percentiles interpolate from too low a bound.
  for (const [bound, n] of Object.entries(record.latencyMs.buckets)) add(boundField(record.cohort, canonicalBound(bound)), n, true);
}

/**
 * Outcomes read from time-bucketed counters: only sums, so it serves read-only tools as well
 * (`npm run simulate -- --replay` over buckets it loaded); StoreOutcomeSource adds the writing.
 */
export class CounterOutcomeSource implements OutcomeSource {
  constructor(
    private readonly counters: Pick<Store, 'sumCounters'>,
    readonly bucketMs: number = DEFAULT_OUTCOME_BUCKET_MS,
  ) {
    if (!Number.isInteger(bucketMs) || bucketMs <= 0) throw new RangeError(`bucketMs must be a positive integer, got ${bucketMs}`);
  }

  protected bucketStart(at: number): number {
    return Math.floor(at / this.bucketMs) * this.bucketMs;
  }

  /**
   * Sum of every bucket whose start lies in [from, to). Buckets more than the TTL before `to` have
   * expired (when `to` is not in the future), so they are not read: a window reaching back to,
   * say, 0 costs at most two days of reads instead of millions.
   */
  async sum(environment: string, flag: string, from: number, to: number): Promise<OutcomeTotals> {
    return totalsOf((await this.sumWindowsMany([{ environment, flag, windows: [[from, to]] }]))[0]![0]!);
  }

  async sumWindowsMany(queries: WindowQuery[]): Promise<OutcomeFields[][]> {
    const groups: string[][] = [];
    for (const { environment, flag, windows } of queries) {
      const starts = new Set<number>();
      const ranges = windows.map(([from, to]) => {
        if (!Number.isFinite(from) || !Number.isFinite(to)) throw new RangeError(`window must be finite, got [${from}, ${to})`);
        const oldestAlive = to - OUTCOME_TTL_SECONDS * 1000 - this.bucketMs;
        const first = this.bucketStart(Math.max(from, oldestAlive));
        for (let t = first; t < to; t += this.bucketMs) starts.add(t);
        return [first, to] as const;
      });
      const ordered = [...starts];
      for (const [first, to] of ranges) groups.push(ordered.filter((t) => t >= first && t < to).map((t) => outcomeBucketKey(environment, flag, t)));
    }
    // Summed in the store, one round trip for every window of every query; each bucket is read once.
    const sums = await this.counters.sumCounters(groups);
    let next = 0;
    return queries.map(({ windows }) => windows.map(() => sums[next++]!));
  }
}

/** Outcomes reported by applications, kept as time-bucketed counters in the store. */
export class StoreOutcomeSource extends CounterOutcomeSource {
  constructor(
    private readonly store: Store,
    bucketMs: number = DEFAULT_OUTCOME_BUCKET_MS,
  ) {
    super(store, bucketMs);
  }

  /**
   * Counts a report into the bucket it arrived in (the server's clock: SDK clocks are not trusted).
   * Records are merged per flag first, so a report costs one increment per flag, not per record.
   */
  async record(environment: string, report: OutcomeReport, now: number): Promise<void> {
    const byFlag = new Map<string, OutcomeFields>();
    for (const record of report.records) {
      const flag = countedUnder(record);
      let fields = byFlag.get(flag);
      if (!fields) byFlag.set(flag, (fields = {}));
      addRecordFields(fields, record);
    }
    const start = this.bucketStart(now);
    await Promise.all([
      ...[...byFlag]
        .filter(([, fields]) => Object.keys(fields).length > 0)
        .map(([flag, fields]) => this.store.incrementCounters(outcomeBucketKey(environment, flag, start), fields, OUTCOME_TTL_SECONDS)),
      this.recordUsers(environment, report, now),
    ]);
  }

  /** The records' users, in the sample of the bucket the report began in (its `start`, kept within the last ten minutes). */
  private async recordUsers(environment: string, report: OutcomeReport, now: number): Promise<void> {
    const began = userSampleBucket(Math.min(now, Math.max(now - MAX_REPORT_AGE_MS, report.start ?? now)));
    const adds = new Map<string, string[]>();
    for (const record of report.records) {
      if (!record.users?.length) continue;
      const key = userSampleKey(environment, countedUnder(record), record.cohort, began);
      adds.set(key, [...(adds.get(key) ?? []), ...record.users]);
    }
    if (adds.size === 0) return;
    await this.store.addToSamples(
      [...adds].map(([key, members]) => ({ key, members })),
      USER_SAMPLE_SIZE,
      USER_SAMPLE_TTL_SECONDS,
    );
  }
}
