import { EXPOSURE_BUCKET_MS, sumExposuresMany } from '../metrics/exposures.js';
import type { Cohort } from '../metrics/outcome-model.js';
import { distinctUsers, USER_SAMPLE_BUCKET_MS, USER_SAMPLE_SIZE, USER_SAMPLE_TTL_SECONDS, userSampleBucket, userSampleKey } from '../metrics/user-sample.js';
import { fetchBuckets, readFetches } from '../serving/sdk-fetches.js';
import type { Store } from '../store/port.js';
import { hasEnteredAStep } from './approvals.js';
import type { RolloutWithoutHistory } from './rollout-docs.js';
import type { Measurements } from './rollout-model.js';
import { FETCH_LOOKBACK_MS, MAX_FETCH_WAIT_MS, type SdkFetch, type TrafficWindow, trafficWindow } from './traffic-window.js';

/**
 * What the traffic checks of a batch of rollouts need, read for the batch at once: when the step's
 * traffic counts from (traffic-window.ts), the evaluations SDKs reported since, and, for the
 * sample-ratio check, the distinct users seen in each cohort since (user-sample.ts).
 *
 * A step's users are kept in a sample of its own in the store, into which the 10-second buckets the
 * reports land in are merged once they are complete; an analysis merges the buckets completed since
 * the last one and reads that sample with the buckets still filling. Merging is idempotent, so a new
 * leader that does not know how far its predecessor got merges again from the start (buckets live an
 * hour) and gets the same sample.
 */

/** Reports carry users from when they began; a bucket is merged once reports that began in it have had this long to arrive. */
const REPORT_LATENESS_MS = 60_000;
/** A step's merged sample outlives any step worth judging. */
const STEP_SAMPLE_TTL_SECONDS = 2 * 24 * 3600;
/** How many steps' merge positions are remembered; past it the oldest is forgotten (and merged again, harmlessly). */
const MAX_REMEMBERED = 10_000;

export type TrafficMeasurements = Pick<Measurements, 'exposures' | 'users' | 'trafficWindow'>;

/**
 * What traffic measuring reads: counters always; the user samples when the store has them. A
 * read-only replay has no samples to merge, so its sample-ratio checks have no user counts.
 */
export type TrafficStore = Pick<Store, 'sumCounters'> & Partial<Pick<Store, 'readSamples' | 'mergeSamples'>>;

export interface TrafficMeasureDeps {
  store: TrafficStore;
  /**
   * The revision from which SDKs hold a rollout's current step (sdk-fetches.ts stepRevision), or
   * undefined while this replica does not serve the step yet. Without it (a loop with no serving
   * state: tests, the benchmark), traffic counts from the step's start.
   */
  stepRevision?: (r: RolloutWithoutHistory) => number | undefined;
}

const COHORTS: Array<[Cohort, 'on' | 'off']> = [
  ['treatment', 'on'],
  ['control', 'off'],
];

export class TrafficMeasure {
  /** Step sample → start of the first bucket not yet merged into it. */
  private merged = new Map<string, number>();

  constructor(private readonly deps: TrafficMeasureDeps) {}

  /** The traffic measurements of the rollouts whose policy checks traffic; the rest are left out. */
  async many(rollouts: RolloutWithoutHistory[], now: number): Promise<Map<RolloutWithoutHistory, TrafficMeasurements>> {
    // Only a step being judged has traffic to count (decide.ts judges running steps and those awaiting approval).
    const checked = rollouts.filter((r) => r.plan.traffic && (r.state === 'running' || r.state === 'awaiting_approval') && hasEnteredAStep(r));
    if (checked.length === 0) return new Map();
    const windows = await this.windows(checked, now);
    const from = (r: RolloutWithoutHistory, i: number) => {
      const w = windows[i]!;
      return w.kind === 'counting' ? w.since : Date.parse(r.stepStartedAt);
    };
    const [exposures, users] = await Promise.all([
      sumExposuresMany(
        this.deps.store,
        checked.map((r, i) => ({
          environment: r.environment,
          flag: r.flag,
          // From the minute counting began: shown as they come in, never "0 evaluations" for a minute.
          from: Math.floor(from(r, i) / EXPOSURE_BUCKET_MS) * EXPOSURE_BUCKET_MS,
          to: now + 1,
        })),
      ),
      this.users(checked, windows, now),
    ]);
    return new Map(
      checked.map((r, i) => {
        const e = exposures[i]!;
        const m: TrafficMeasurements = { exposures: { on: e.yes, off: e.no }, trafficWindow: windows[i]! };
        const u = users[i];
        if (u) m.users = u;
        return [r, m];
      }),
    );
  }

  /** Each step's window: as kept in the rollout once known, else from the fetches recorded around its start. */
  private async windows(rollouts: RolloutWithoutHistory[], now: number): Promise<TrafficWindow[]> {
    const stepRevision = this.deps.stepRevision;
    const out: Array<TrafficWindow | undefined> = rollouts.map((r) => {
      if (r.trafficSettledAt) return { kind: 'counting', since: Date.parse(r.trafficSettledAt), instances: 0, gaveUp: 0 };
      if (!stepRevision) return { kind: 'counting', since: Date.parse(r.stepStartedAt), instances: 0, gaveUp: 0 };
      return undefined;
    });
    // The rest: their environment's fetches from the lookback before the step to the longest wait after it
    // (each bucket read once, however many steps of the environment it is near).
    const buckets = new Map<string, Set<number>>();
    rollouts.forEach((r, i) => {
      if (out[i]) return;
      const start = Date.parse(r.stepStartedAt);
      let starts = buckets.get(r.environment);
      if (!starts) buckets.set(r.environment, (starts = new Set()));
      for (const t of fetchBuckets(start - FETCH_LOOKBACK_MS, Math.min(now, start + MAX_FETCH_WAIT_MS) + 1)) starts.add(t);
    });
    const fetches = new Map<string, SdkFetch[]>();
    await Promise.all([...buckets].map(async ([env, starts]) => fetches.set(env, await readFetches(this.deps.store, env, [...starts]))));
    return rollouts.map((r, i) => out[i] ?? trafficWindow(Date.parse(r.stepStartedAt), stepRevision!(r), fetches.get(r.environment) ?? [], now));
  }

  /**
   * Distinct users per cohort since counting began, for the rollouts with a sample-ratio check whose
   * traffic counts; undefined where no user was reported at all (the check then cannot judge users).
   */
  private async users(rollouts: RolloutWithoutHistory[], windows: TrafficWindow[], now: number): Promise<Array<TrafficMeasurements['users']>> {
    const { store } = this.deps;
    if (!store.readSamples || !store.mergeSamples) return rollouts.map(() => undefined);
    const { readSamples, mergeSamples } = { readSamples: store.readSamples.bind(store), mergeSamples: store.mergeSamples.bind(store) };
    const groups: string[][] = [];
    const reads: Array<number | undefined> = [];
    const merges: Array<Promise<void>> = [];
    rollouts.forEach((r, i) => {
      const w = windows[i]!;
      if (!r.plan.traffic?.sampleRatio || w.kind !== 'counting') return reads.push(undefined);
      // Reports that began before counting did may hold users at the previous percentage: their bucket is left out.
      const first = Math.ceil(w.since / USER_SAMPLE_BUCKET_MS) * USER_SAMPLE_BUCKET_MS;
      const complete = Math.max(first, userSampleBucket(now - REPORT_LATENESS_MS));
      reads.push(groups.length);
      for (const [cohort] of COHORTS) {
        const step = `users-step:${r.id}:${Date.parse(r.stepStartedAt)}:${cohort}`;
        const from = Math.max(first, this.merged.get(step) ?? first, complete - USER_SAMPLE_TTL_SECONDS * 1000);
        const sources = bucketKeys(r, cohort, from, complete);
        if (sources.length > 0) merges.push(mergeSamples(step, sources, USER_SAMPLE_SIZE, STEP_SAMPLE_TTL_SECONDS).then(() => this.remember(step, complete)));
        groups.push([step, ...bucketKeys(r, cohort, complete, now + 1)]);
      }
    });
    if (groups.length === 0) return reads.map(() => undefined);
    await Promise.all(merges);
    const samples = await readSamples(groups, USER_SAMPLE_SIZE);
    return reads.map((at) => {
      if (at === undefined) return undefined;
      const [on, off] = [samples[at]!, samples[at + 1]!];
      if (on.length === 0 && off.length === 0) return undefined;
      return { on: distinctUsers(on), off: distinctUsers(off) };
    });
  }

  private remember(step: string, until: number): void {
    this.merged.delete(step);
    if (this.merged.size >= MAX_REMEMBERED) this.merged.delete(this.merged.keys().next().value!);
    this.merged.set(step, until);
  }
}

function bucketKeys(r: RolloutWithoutHistory, cohort: Cohort, from: number, to: number): string[] {
  const out: string[] = [];
  for (let t = userSampleBucket(from); t < to; t += USER_SAMPLE_BUCKET_MS) out.push(userSampleKey(r.environment, r.flag, cohort, t));
  return out;
}
