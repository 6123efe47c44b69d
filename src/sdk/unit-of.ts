import type { Context } from 'unleash-client';
import { bucketOf } from '../rollouts/unit-bucket.js';

/** What the helper reads of a flag's definition: its strategies' stickiness and group. */
interface FlagDefinition {
  strategies?: Array<{ name: string; parameters?: Record<string, unknown> }>;
}

/**
 * The hashed user bucket a call counts in: the bucket of the flag's stickiness value (userId by
 * default, then sessionId, as Unleash's "default" stickiness does) for the group of the rollout's
 * flexibleRollout strategy, so outcomes are counted per user exactly as the flag assigns users.
 * Undefined when the context has no such value: the call then counts only in the totals.
 */
export function unitOf(definition: FlagDefinition | undefined, flag: string, context: Context | undefined): number | undefined {
  if (!context) return undefined;
  const rollout = definition?.strategies?.find((s) => s.name === 'flexibleRollout');
  const stickiness = String(rollout?.parameters?.stickiness ?? 'default');
  const groupId = String(rollout?.parameters?.groupId ?? flag);
  const value = stickiness === 'default' ? (context.userId ?? context.sessionId) : contextValue(context, stickiness);
  return value === undefined || value === '' ? undefined : bucketOf(String(value), groupId);
}

function contextValue(context: Context, field: string): unknown {
  return (context as Record<string, unknown>)[field] ?? context.properties?.[field];
}
