/**
 * Distinct users per cohort, counted so that counts from many application instances and many time
 * buckets merge, in bounded space, without storing who the users are.
 *
 * Each user is reduced to a 48-bit sample hash of the flag's stickiness value (userSampleHash in
 * src/rollouts/unit-bucket.ts), and a cohort keeps only the USER_SAMPLE_SIZE smallest hashes it has
 * seen: a bottom-k sample (see src/store/sample-merge.ts for why it merges exactly). Then:
 *  - fewer than k users seen: the sample holds every one of them, and the count is exact;
 *  - k or more: the hashes are uniform and independent of who the user is, so the k-th smallest, u
 *    (as a fraction of 2^48), says how densely users fill the hash space: (k − 1) / u users, an
 *    unbiased estimate with a relative standard error of 1 / √(k − 2) (3.1 % at k = 1,024). Its
 *    variance goes with the count, so the sample-ratio test can allow for it (unitShareTest).
 *
 * A user seen by several instances, or in several buckets, has the same hash everywhere and counts
 * once. Pure: the helper fills one per flag and cohort between reports, the server one per flag,
 * cohort and bucket of the frontend API and OFREP, and the store merges them.
 */
import { bottomOf } from '../store/sample-merge.js';

import { USER_SAMPLE_SIZE } from './bottom-k.js';

export { BottomK, USER_SAMPLE_SIZE } from './bottom-k.js';
import type { Cohort } from './outcome-model.js';

/** A sample hash: 48 bits as 12 lowercase hex digits. */
export const USER_HASH_PATTERN = /^[0-9a-f]{12}$/;
/** Samples are kept per time bucket of this size, so a step's users count from when its traffic settled. */
export const USER_SAMPLE_BUCKET_MS = 10_000;
/** Buckets live an hour: long enough to be merged into their step's sample (see measure-traffic.ts), short enough to stay small. */
export const USER_SAMPLE_TTL_SECONDS = 3600;

const HASH_SPACE = 2 ** 48;

/** Distinct users: the count (exact or estimated) and the variance of that estimate (0 when exact). */
export interface DistinctUsers {
  count: number;
  variance: number;
}

/** One cohort's sample of one flag in one bucket of an environment. */
export function userSampleKey(environment: string, flag: string, cohort: Cohort, bucketStart: number): string {
  return `users:${environment}:${flag}:${cohort}:${bucketStart}`;
}

export function userSampleBucket(at: number): number {
  return Math.floor(at / USER_SAMPLE_BUCKET_MS) * USER_SAMPLE_BUCKET_MS;
}

/**
 * Distinct users from a bottom-k sample (its members, each once): exact below k, else the k-th
 * smallest hash's estimate. Never below k: that many distinct users were seen.
 */
export function distinctUsers(sample: readonly string[], k = USER_SAMPLE_SIZE): DistinctUsers {
  if (sample.length < k) return { count: sample.length, variance: 0 };
  const kth = bottomOf([sample], k)[k - 1]!;
  const u = (Number.parseInt(kth, 16) + 1) / HASH_SPACE;
  const count = Math.max(k, (k - 1) / u);
  return { count, variance: (count * count) / (k - 2) };
}

/**
 * What a sample of `count` distinct users would report: the count, with the variance a bottom-k
 * estimate of it has once it reaches k. For counts that were not sampled (the simulation's expected
 * counts), so that they are judged with the same allowance the controller makes for its samples.
 */
export function sampledUsers(count: number, k = USER_SAMPLE_SIZE): DistinctUsers {
  return { count, variance: count < k ? 0 : (count * count) / (k - 2) };
}
