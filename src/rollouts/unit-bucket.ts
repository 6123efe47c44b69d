/**
 * Which hashed user bucket a stickiness value counts in (see unit-statistics.ts).
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
