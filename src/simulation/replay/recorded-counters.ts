import { addCounters } from '../../store/counters.js';
import { EXPOSURE_BUCKET_MS, EXPOSURE_TTL_SECONDS, exposureBucket } from '../../metrics/exposures.js';
import { OUTCOME_TTL_SECONDS, outcomeBucketKey } from '../../metrics/outcomes.js';
import type { CounterFields, Store, StoreReader } from '../../store/port.js';

/**
 * The counters a replay reads, loaded from the store once (one read per bucket, pipelined) and
 * summed in memory after that: a replay asks for its windows thousands of times, and the store is
 * never asked to do anything but read.
 */

/** Buckets read from the store at a time. */
const LOAD_BATCH = 1000;

/** A flag's outcome and exposure buckets over a span of time. */
export interface RecordedSpan {
  environment: string;
  flag: string;
  from: number;
  to: number;
  /** OUTCOME_BUCKET_MS of the controller that wrote them: bucket keys are named by their start. */
  outcomeBucketMs: number;
  /** Whether the exposures (one-minute buckets) are needed: only for policies with traffic checks. */
  exposures: boolean;
}

/** A stretch of a span whose buckets may have expired: what was recorded then may be gone. */
export interface ExpiredWindow {
  what: 'outcomes' | 'exposures';
  from: number;
  to: number;
}

function starts(from: number, to: number, bucketMs: number): number[] {
  const out: number[] = [];
  for (let t = Math.floor(from / bucketMs) * bucketMs; t <= to; t += bucketMs) out.push(t);
  return out;
}

/**
 * The stretch of [from, to] whose buckets may be gone by `now`. Every write to a bucket starting at
 * B happens in [B, B + bucketMs) and keeps it `ttlSeconds` more, so a bucket is surely whole only
 * while B + ttl > now; those starting earlier may have expired (in part: some of their fields may be
 * left, which would be worse than none).
 */
export function expiredStretch(from: number, to: number, bucketMs: number, ttlSeconds: number, now: number): { from: number; to: number } | undefined {
  const first = Math.floor(from / bucketMs) * bucketMs;
  const lastGone = Math.floor((now - ttlSeconds * 1000) / bucketMs) * bucketMs;
  if (first > lastGone) return undefined;
  return { from: first, to: Math.min(to, lastGone + bucketMs) };
}

export function expiredWindows(span: RecordedSpan, now: number): ExpiredWindow[] {
  const windows: ExpiredWindow[] = [];
  const outcomes = expiredStretch(span.from, span.to, span.outcomeBucketMs, OUTCOME_TTL_SECONDS, now);
  if (outcomes) windows.push({ what: 'outcomes', ...outcomes });
  const exposures = span.exposures ? expiredStretch(span.from, span.to, EXPOSURE_BUCKET_MS, EXPOSURE_TTL_SECONDS, now) : undefined;
  if (exposures) windows.push({ what: 'exposures', ...exposures });
  return windows;
}

/** Bucket keys of a span (outcomes, then exposures when asked for), each with the time its bucket ends. */
export function spanKeys(span: RecordedSpan): Array<{ key: string; end: number }> {
  const keys = starts(span.from, span.to, span.outcomeBucketMs).map((t) => ({
    key: outcomeBucketKey(span.environment, span.flag, t),
    end: t + span.outcomeBucketMs,
  }));
  if (span.exposures)
    for (const t of starts(span.from, span.to, EXPOSURE_BUCKET_MS))
      keys.push({ key: exposureBucket(span.environment, span.flag, t), end: t + EXPOSURE_BUCKET_MS });
  return keys;
}

/**
 * Counters read once; sums over them in memory, as the store would give them, of the buckets that
 * had ended by `readUntil`: a bucket still filling at an analysis also holds what arrived after it,
 * which the replay must not see (the controller had seen part of it; the replay sees none of it).
 */
export class RecordedCounters implements Pick<Store, 'sumCounters'> {
  /** Buckets that end after this are read as empty. */
  readUntil = Number.POSITIVE_INFINITY;

  private constructor(private readonly buckets: ReadonlyMap<string, { fields: CounterFields; end: number }>) {}

  /** Reads every bucket of the spans (empty ones are left out). */
  static async load(reader: Pick<StoreReader, 'readCounters'>, spans: RecordedSpan[]): Promise<RecordedCounters> {
    const keys = spans.flatMap(spanKeys);
    const buckets = new Map<string, { fields: CounterFields; end: number }>();
    for (let i = 0; i < keys.length; i += LOAD_BATCH) {
      const batch = keys.slice(i, i + LOAD_BATCH);
      const read = await Promise.all(batch.map(({ key }) => reader.readCounters(key)));
      read.forEach((fields, j) => {
        if (Object.keys(fields).length > 0) buckets.set(batch[j]!.key, { fields, end: batch[j]!.end });
      });
    }
    return new RecordedCounters(buckets);
  }

  async sumCounters(groups: string[][]): Promise<CounterFields[]> {
    return groups.map((group) => {
      const out: CounterFields = {};
      for (const key of group) {
        const bucket = this.buckets.get(key);
        if (!bucket || bucket.end > this.readUntil) continue;
        addCounters(out, bucket.fields);
      }
      return out;
    });
  }
}
