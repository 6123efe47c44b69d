import { CounterOutcomeSource } from '../../metrics/outcomes.js';
import type { Policy } from '../../policies/policy-schema.js';
import { RolloutDocs, type RolloutRecord } from '../../rollouts/rollout-docs.js';
import { ROLLOUTS, type Rollout } from '../../rollouts/rollout-model.js';
import { count } from '../../rollouts/units.js';
import type { StoreReader } from '../../store/port.js';
import { expiredWindows, RecordedCounters, type ExpiredWindow, type RecordedSpan } from './recorded-counters.js';
import { replayRollout, replaySpan, type ReplayOutcome } from './replay-rollout.js';
import { realTimeline } from './real-timeline.js';

/**
 * The edge of `npm run simulate -- --replay`: which stored rollouts to replay, whether what was
 * recorded for each is still all there, and the replay itself. Only reads (a StoreReader has no
 * other methods).
 */

/** Rollouts a run replays by default, and at most: each is a read of up to two days of buckets. */
export const DEFAULT_REPLAY_LIMIT = 20;
export const MAX_REPLAY_LIMIT = 200;

export interface ReplaySelection {
  flag?: string;
  environment?: string;
  /** Rollouts created at or after this time (ms). */
  since?: number;
  /** The most recent this many. */
  limit: number;
}

export type ReplayResult =
  | { kind: 'replayed'; real: Rollout; policy: Policy; outcome: ReplayOutcome }
  | { kind: 'refused'; real: Rollout; policy: Policy; reason: string; expired?: ExpiredWindow[] };

/** The stored rollouts selected, newest first, whole (with their plan and history). */
export async function selectRollouts(reader: StoreReader, selection: ReplaySelection): Promise<Rollout[]> {
  // Records first (small), so only the rollouts selected are read whole.
  const records = (await reader.list<RolloutRecord>(ROLLOUTS))
    .map((d) => d.value)
    .filter(
      (r) =>
        (selection.flag === undefined || r.flag === selection.flag) &&
        (selection.environment === undefined || r.environment === selection.environment) &&
        (selection.since === undefined || Date.parse(r.createdAt) >= selection.since),
    )
    .sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt) || (a.id < b.id ? -1 : 1))
    .slice(0, selection.limit);
  const docs = new RolloutDocs(reader);
  const whole = await Promise.all(records.map((r) => docs.get(r.id)));
  return whole.flatMap((doc) => (doc ? [doc.value] : []));
}

/** The PromQL checks of a policy, by name: Prometheus' answers are not in the store, so they cannot be replayed. */
export function promqlChecks(policy: Policy): string[] {
  return [...policy.gates, ...policy.rollback].flatMap((check) => ('query' in check ? [check.name] : []));
}

/**
 * Replays one rollout, or says why it cannot be: the policy reads Prometheus, buckets of its time
 * have expired, or the store holds fewer outcomes than the rollout itself counted (buckets missing:
 * another OUTCOME_BUCKET_MS, another prefix or data directory, or data lost).
 */
export async function replayStored(
  reader: StoreReader,
  real: Rollout,
  policy: Policy,
  options: { outcomeBucketMs: number; now: number },
): Promise<ReplayResult> {
  const refuse = (reason: string, expired?: ExpiredWindow[]): ReplayResult => ({ kind: 'refused', real, policy, reason, ...(expired ? { expired } : {}) });
  const promql = promqlChecks(policy);
  if (promql.length > 0)
    return refuse(`the policy's PromQL checks (${promql.join(', ')}) read Prometheus, whose answers the store does not keep: they cannot be replayed`);
  const span: RecordedSpan = {
    environment: real.environment,
    flag: real.flag,
    from: Date.parse(real.createdAt),
    to: replaySpan(real, policy, options.outcomeBucketMs, options.now).until,
    outcomeBucketMs: options.outcomeBucketMs,
    exposures: policy.traffic !== undefined,
  };
  const expired = expiredWindows(span, options.now);
  if (expired.length > 0) {
    const windows = expired.map((w) => `${w.what} from ${new Date(w.from).toISOString()} to ${new Date(w.to).toISOString()}`).join('; ');
    return refuse(`buckets of its time have expired (they are kept 2 days after their last write): ${windows}`, expired);
  }
  const counters = await RecordedCounters.load(reader, [span]);
  const outcomes = new CounterOutcomeSource(counters, options.outcomeBucketMs);
  for (const window of realTimeline(real, options.now).counted) {
    const stored = await outcomes.sum(real.environment, real.flag, window.from, window.to + 1);
    for (const cohort of ['treatment', 'control'] as const) {
      if (stored[cohort].requests >= window.samples[cohort]) continue;
      return refuse(
        `the store holds ${count(stored[cohort].requests)} ${cohort} requests for the ${window.percentage}% step from ` +
          `${new Date(window.from).toISOString()} to ${new Date(window.to).toISOString()}, where the rollout counted ` +
          `${count(window.samples[cohort])}: buckets are missing (written with another OUTCOME_BUCKET_MS than ${options.outcomeBucketMs}, ` +
          'under another prefix or data directory, or lost)',
      );
    }
  }
  const outcome = await replayRollout({ real, policy, counters, outcomeBucketMs: options.outcomeBucketMs, now: options.now });
  return { kind: 'replayed', real, policy, outcome };
}
