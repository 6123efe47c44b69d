import type { Context } from 'unleash-client';
import { type StickinessSource, stickinessOf, stickinessValue } from '../rollouts/stickiness.js';
import { bucketOf, userSampleHash } from '../rollouts/unit-bucket.js';

/**
 * Who a call is counted for: the flag's stickiness value (userId by default, then sessionId, as
 * Unleash's "default" stickiness does) for the group of its flexibleRollout strategy, as the hashed
 * user bucket its outcome counts in (so outcomes are counted per user exactly as the flag assigns
 * users) and as the user's sample hash (what the sample-ratio check counts users by). Undefined when
 * the context has no such value: the call then counts only in the totals.
 */
export function unitOf(definition: StickinessSource | undefined, flag: string, context: Context | undefined): { unit: number; user: string } | undefined {
  const stickiness = stickinessOf(definition, flag);
  const value = stickinessValue(stickiness, context);
  return value === undefined ? undefined : { unit: bucketOf(value, stickiness.groupId), user: userSampleHash(value) };
}
