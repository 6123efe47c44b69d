import { createRequire } from 'node:module';
import type * as SdkHashing from 'unleash-client/lib/strategy/util.js';
import { bucketOf } from '../rollouts/unit-bucket.js';

// The stock SDK's own hashing (murmurhash3 x86 32-bit of `${groupId}:${id}`), required the CommonJS
// way as src/evaluation/unleash-engine.ts does, so a simulated user lands where the SDK puts them.
const require = createRequire(import.meta.url);
const { normalizedStrategyValue, normalizedVariantValue } = require('unleash-client/lib/strategy/util.js') as typeof SdkHashing;

/** Hashed user buckets the unit-level judge works on: the controller's own count. */
export { UNIT_BUCKETS } from '../metrics/outcome-model.js';

/**
 * The user's place on a flexibleRollout strategy, 0…99: the SDK serves the flag to the user at
 * rollout percentage p exactly when `assignmentBucket(userId, groupId) < p` (its normalizedValue,
 * hash % 100 + 1, is then ≤ p). Sticky: the users in at 1 % are in at 10 %, and so on.
 */
export function assignmentBucket(userId: string, groupId: string): number {
  return normalizedStrategyValue(userId, groupId) - 1;
}

export function inTreatment(bucket: number, percentage: number): boolean {
  return percentage > 0 && bucket < percentage;
}

/**
 * The user's unit bucket for a flag, 0…UNIT_BUCKETS−1: the controller's and the SDK helper's own
 * bucketOf (the same hash as the assignment, modulo 64), so the simulation sees the buckets a real
 * rollout sees, including how few of them the treated users fill below 4 %.
 */
export function unitBucketOf(userId: string, groupId: string): number {
  return bucketOf(userId, groupId);
}

/** A stable number in [0, 1) for a user and a key (a segment's name): the same on every run. */
export function stableFraction(userId: string, key: string): number {
  return (normalizedVariantValue(userId, `segment:${key}`, 1_000_000) - 1) / 1_000_000;
}
