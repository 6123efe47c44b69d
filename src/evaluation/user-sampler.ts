import { BottomK, hashText } from '../metrics/bottom-k.js';
import { USER_SAMPLE_SIZE, userSampleBucket, userSampleKey } from '../metrics/user-sample.js';
import type { SampleAdd } from '../store/port.js';
import type { Cohort } from './evaluation.js';

/** One flag's sample in one cohort: the k smallest hashes of the bucket so far, and those that entered it since the last drain. */
interface Sample {
  kept: BottomK;
  fresh: number[];
}

/** The users of one environment in one sample bucket, flag by flag (looked up by the flag's own name: no key string per flag and request). */
export class BucketSamples {
  readonly flags = new Map<string, Record<Cohort, Sample | undefined>>();

  constructor(
    readonly env: string,
    readonly usersAt: number,
  ) {}

  /** Offers a user (their sample hash as a number: hashValue) to the flag's sample of the cohort. */
  add(flag: string, cohort: Cohort, hash: number): void {
    let cohorts = this.flags.get(flag);
    if (!cohorts) this.flags.set(flag, (cohorts = { treatment: undefined, control: undefined }));
    let sample = cohorts[cohort];
    if (!sample) cohorts[cohort] = sample = { kept: new BottomK(USER_SAMPLE_SIZE), fresh: [] };
    if (sample.kept.addValue(hash)) sample.fresh.push(hash);
  }
}

const COHORTS: readonly Cohort[] = ['treatment', 'control'];

/**
 * The users server-side evaluation saw, as bottom-k samples per environment, 10-second bucket, flag
 * and cohort (src/metrics/user-sample.ts). A bucket's samples stay in memory until the bucket is
 * over, so once a sample is full a new user costs one comparison, and each drain hands the store only
 * the hashes that entered a sample since the last one (the store keeps the k smallest of all it was
 * given, so sending each once gives the same sample as sending them all every time).
 */
export class UserSampler {
  private buckets = new Map<string, BucketSamples>();

  bucket(env: string, at: number): BucketSamples {
    const usersAt = userSampleBucket(at);
    const key = `${env}\u0000${usersAt}`;
    let bucket = this.buckets.get(key);
    if (!bucket) this.buckets.set(key, (bucket = new BucketSamples(env, usersAt)));
    return bucket;
  }

  /** What entered the samples since the last drain (hashes since pushed out again are left out); buckets that are over are forgotten. */
  drain(now: number): SampleAdd[] {
    const current = userSampleBucket(now);
    const adds: SampleAdd[] = [];
    for (const [key, bucket] of this.buckets) {
      for (const [flag, cohorts] of bucket.flags) {
        for (const cohort of COHORTS) {
          const sample = cohorts[cohort];
          if (!sample || sample.fresh.length === 0) continue;
          const members = sample.fresh.filter((hash) => sample.kept.hasValue(hash)).map(hashText);
          sample.fresh = [];
          if (members.length > 0) adds.push({ key: userSampleKey(bucket.env, flag, cohort, bucket.usersAt), members });
        }
      }
      if (bucket.usersAt < current) this.buckets.delete(key);
    }
    return adds;
  }
}
