/**
 * Which hashed user bucket a stickiness value counts in (see unit-statistics.ts), the share of users
 * a percentage serves, and a user's sample hash (see user-sample.ts).
 *
 * Kept out of unit-statistics.ts so that file stays pure and free of dependencies: this one loads
 * the hash library from node_modules.
 *
 * The hash is the one Unleash uses for stickiness: 32-bit MurmurHash3 (x86) of
 * `${groupId}:${value}` with seed 0, where unleash-client's gradual rollout takes
 * `hash % 100 + 1` as the user's position (1 to 100). Here the bucket is `hash % k` (0 to k − 1).
 * Using the SDK's very hash keeps a user's bucket computable by anyone who knows the stickiness
 * value and the flag, and bucketOf(v, g, 100) + 1 is the SDK's position, which the tests check.
 *
 * One consequence, stated so nobody is surprised by it: 64 and 100 share the factor 4, so a user's
 * bucket and rollout position agree modulo 4. At a step under 4 % the treated users fill only
 * 16 buckets per percent (16 at 1 %, 32 at 2 %, 48 at 3 %), all 64 from 4 % up. The bounds stay
 * valid (the buckets are still disjoint sets of independent users); with fewer buckets the spread
 * between them is estimated less precisely.
 */
import { createRequire } from 'node:module';
import { UNIT_BUCKET_COUNT } from './unit-statistics.js';

interface MurmurHash3 {
  x86: { hash32(key: string, seed?: number): number };
}

// murmurhash3js is unleash-client's own dependency, not this project's: it is resolved from
// unleash-client's location and required the CommonJS way, as the SDK does, so this is the very
// copy the SDK hashes with, wherever npm puts it. (It hashes the low byte of each UTF-16 code unit,
// not UTF-8, so for non-ASCII values only the SDK's own library gives the SDK's answer.)
const require = createRequire(import.meta.url);
const sdkRequire = createRequire(require.resolve('unleash-client/lib/strategy/util.js'));
const murmurHash3 = sdkRequire('murmurhash3js') as MurmurHash3;

/** Unleash's stickiness seed for rollout positions (STRATEGY_SEED in unleash-client). */
const STICKINESS_SEED = 0;

/** The bucket (0 to k − 1) of a stickiness value (user id, session id) for a flag (`groupId`, the flag's name by default in Unleash). */
export function bucketOf(stickinessValue: string, groupId: string, k = UNIT_BUCKET_COUNT): number {
  if (!(Number.isInteger(k) && k > 0)) throw new RangeError(`bucket count must be a positive integer, got ${k}`);
  return murmurHash3.x86.hash32(`${groupId}:${stickinessValue}`, STICKINESS_SEED) % k;
}

/**
 * The share of users a flexibleRollout strategy at `percentage` serves, as the SDK assigns them: a
 * user's position is hash % 100 + 1 (1 to 100), and the user is in when the position is at most the
 * percentage. So only whole percents count: a 2.5 % step serves 2 % of users, a 0.5 % step nobody.
 */
export function assignedShare(percentage: number): number {
  return Math.min(100, Math.max(0, Math.floor(percentage))) / 100;
}

/** Seeds of the two halves of a user's sample hash: any two, as long as they are not the stickiness seed. */
const SAMPLE_SEEDS = [0x5bd1e995, 0x27d4eb2f] as const;

/**
 * A user's sample hash: 48 bits of MurmurHash3 of the stickiness value, as 12 lowercase hex digits
 * (so that text order is number order). The sample of users the sample-ratio check counts is the
 * users with the smallest of these (see src/metrics/user-sample.ts).
 *
 * It must not tell anything about the user's rollout position, or the sample would lean towards one
 * cohort: so it hashes another key (`user-sample:` and the value, without the flag's group) with
 * other seeds than the assignment, which makes the two unrelated (test/unit/user-sample.test.ts
 * checks that the sample's share of treated users is the step's). It is the same for every flag: the
 * frontend API hashes each context once, however many flags it evaluates. The value itself is never
 * sent or stored, only this hash.
 */
export function userSampleHash(stickinessValue: string): string {
  const key = `user-sample:${stickinessValue}`;
  const high = murmurHash3.x86.hash32(key, SAMPLE_SEEDS[0]) >>> 0;
  const low = murmurHash3.x86.hash32(key, SAMPLE_SEEDS[1]) >>> 16;
  return high.toString(16).padStart(8, '0') + low.toString(16).padStart(4, '0');
}
