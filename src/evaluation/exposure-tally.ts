import { BottomK, hashText } from '../metrics/bottom-k.js';
import { EXPOSURE_BUCKET_MS } from '../metrics/exposures.js';
import { USER_SAMPLE_SIZE, userSampleBucket, userSampleKey } from '../metrics/user-sample.js';
import type { SampleAdd } from '../store/port.js';
import type { Cohort, Evaluation } from './evaluation.js';

/**
 * What server-side evaluation has counted of one environment since the last flush, flag by flag:
 * exposures (yes, no, variants) of the current minute, and the users of the current 10-second
 * bucket as bottom-k samples per cohort. Each flag has one record, found by its name or, for a
 * request that evaluated every flag of an engine, by position in a list cached per engine, so
 * counting a request is a walk over arrays. Records are reset in place, never replaced, so cached
 * lists stay valid; what a minute or bucket that is over still holds is moved aside for the flush.
 */

/** One flag's sample in one cohort: the k smallest hashes of the bucket so far, and those that entered it since the last flush. */
interface Sample {
  kept: BottomK;
  fresh: number[];
}

/** A sample with users to write, and the store's key for it. */
export interface PendingSample {
  key: string;
  sample: Sample;
}

export interface FlagTally {
  readonly flag: string;
  yes: number;
  no: number;
  /** Maps, not objects: a variant may be named "constructor" or "__proto__". */
  variants: Map<string, number>;
  treatment: Sample | undefined;
  control: Sample | undefined;
  /** Each sample's threshold (BottomK.threshold), kept in the record the request touches anyway: most users stop here. */
  treatmentLimit: number;
  controlLimit: number;
}

/** Exposures of one flag in one minute, as written to the store. */
export interface CountedExposures {
  env: string;
  bucketStart: number;
  flag: string;
  yes: number;
  no: number;
  variants: Map<string, number>;
}

const COHORTS: readonly Cohort[] = ['treatment', 'control'];

export class EnvironmentTally {
  private minute = Number.NaN;
  private usersAt = Number.NaN;
  private readonly byFlag = new Map<string, FlagTally>();
  private byNames = new WeakMap<readonly string[], FlagTally[]>();
  /** Counts and samples of minutes and buckets that are over, until the next flush. */
  private endedCounts: CountedExposures[] = [];
  /** Samples of buckets that are over, set aside as they are (formatted at the flush, not in the request that ended the bucket). */
  private endedSamples: PendingSample[] = [];

  constructor(readonly env: string) {}

  /** Moves on to the minute and bucket of `at`, setting aside what the ones that are over hold. */
  at(at: number): void {
    const minute = Math.floor(at / EXPOSURE_BUCKET_MS) * EXPOSURE_BUCKET_MS;
    if (minute !== this.minute) {
      this.endedCounts.push(...this.takeCounts());
      this.minute = minute;
    }
    const usersAt = userSampleBucket(at);
    if (usersAt !== this.usersAt) {
      for (const tally of this.byFlag.values()) {
        for (const cohort of COHORTS) {
          const sample = tally[cohort];
          if (!sample) continue;
          tally[cohort] = undefined;
          tally[`${cohort}Limit`] = Infinity;
          if (sample.fresh.length > 0) this.endedSamples.push({ key: userSampleKey(this.env, tally.flag, cohort, this.usersAt), sample });
        }
      }
      this.usersAt = usersAt;
    }
  }

  tallyOf(flag: string): FlagTally {
    let tally = this.byFlag.get(flag);
    if (!tally)
      this.byFlag.set(
        flag,
        (tally = { flag, yes: 0, no: 0, variants: new Map(), treatment: undefined, control: undefined, treatmentLimit: Infinity, controlLimit: Infinity }),
      );
    return tally;
  }

  /** The records of these flags, in their order (cached per list: an engine's flagNames). */
  talliesOf(flags: readonly string[]): FlagTally[] {
    let tallies = this.byNames.get(flags);
    if (!tallies) this.byNames.set(flags, (tallies = flags.map((flag) => this.tallyOf(flag))));
    return tallies;
  }

  /** Counts one evaluation, and offers its user (a sample hash as a number) to the sample of its cohort. */
  static count(tally: FlagTally, evaluation: Evaluation, user: number | undefined): void {
    if (evaluation.enabled) tally.yes++;
    else tally.no++;
    const variant = evaluation.variant;
    if (variant.enabled) tally.variants.set(variant.name, (tally.variants.get(variant.name) ?? 0) + 1);
    if (user === undefined) return;
    if (evaluation.cohort === 'treatment') {
      if (user < tally.treatmentLimit) tally.treatmentLimit = offer(tally, 'treatment', user);
    } else if (user < tally.controlLimit) tally.controlLimit = offer(tally, 'control', user);
  }

  /**
   * Everything to write: exposures counted since the last flush, and the samples users entered
   * since then (their members are taken later, a few at a time, by takeFresh).
   */
  drain(): { counts: CountedExposures[]; samples: PendingSample[] } {
    const counts = [...this.endedCounts, ...this.takeCounts()];
    const samples = this.endedSamples;
    for (const tally of this.byFlag.values()) {
      for (const cohort of COHORTS) {
        const sample = tally[cohort];
        if (sample && sample.fresh.length > 0) samples.push({ key: userSampleKey(this.env, tally.flag, cohort, this.usersAt), sample });
      }
    }
    this.endedCounts = [];
    this.endedSamples = [];
    return { counts, samples };
  }

  private takeCounts(): CountedExposures[] {
    const counts: CountedExposures[] = [];
    for (const tally of this.byFlag.values()) {
      if (tally.yes + tally.no === 0) continue;
      counts.push({ env: this.env, bucketStart: this.minute, flag: tally.flag, yes: tally.yes, no: tally.no, variants: tally.variants });
      tally.yes = 0;
      tally.no = 0;
      tally.variants = new Map();
    }
    return counts;
  }
}

/** Offers a user to the flag's sample of the cohort; answers the sample's threshold after it. */
function offer(tally: FlagTally, cohort: Cohort, user: number): number {
  let sample = tally[cohort];
  if (!sample) tally[cohort] = sample = { kept: new BottomK(USER_SAMPLE_SIZE), fresh: [] };
  if (sample.kept.addValue(user)) sample.fresh.push(user);
  return sample.kept.threshold;
}

/** The users that entered the sample since they were last taken (those since pushed out again left out), as the store keeps them. */
export function takeFresh(pending: PendingSample): SampleAdd | undefined {
  const { sample } = pending;
  const members = sample.fresh.filter((hash) => sample.kept.hasValue(hash)).map(hashText);
  sample.fresh = [];
  return members.length > 0 ? { key: pending.key, members } : undefined;
}
