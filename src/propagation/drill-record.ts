import type { Wording } from '../rollouts/reason-wording.js';
import type { HoldingRecord } from '../serving/sdk-holdings.js';
import { instanceRef, MAX_LISTED_INSTANCES, type InstanceRef } from './propagation.js';
import type { InstanceSeen } from './sightings.js';

/**
 * What a rollback drill found, and the pure rules that compute it: when each connected instance got
 * the kill, and the times by which half, 99 % and all of them had it.
 */

/** How a drill's wait ended. */
export type DrillEnd =
  /** Every instance connected at the start got the kill. */
  | 'all-confirmed'
  /** The timeout passed first. */
  | 'timed-out'
  /** The replica running it was shutting down: it restored early. */
  | 'interrupted'
  /** Reading what the instances hold failed (the store): it restored at once. */
  | 'failed';

export interface DrillRecord {
  flag: string;
  environment: string;
  reason: string;
  /** When the kill was asked for: the instants below are counted from here. */
  startedAt: string;
  /** Restored (or given up restoring) and recorded. */
  finishedAt: string;
  timeoutSeconds: number;
  /** The change-feed position of the kill: an instance served a state at or after it holds the kill. */
  revision: number | null;
  /** SDK instances connected when it started, each of which it waited for. */
  instances: number;
  confirmed: number;
  /** Milliseconds from the kill until 50 %, 99 % and 100 % of the instances had it; null where that share never had it. */
  ms: { p50: number | null; p99: number | null; max: number | null };
  /** The instances that never got it before the drill ended (at most MAX_LISTED_INSTANCES; the rest counted). */
  missing: InstanceRef[];
  missingNotListed: number;
  ended: DrillEnd;
  /** Why the wait failed, for `failed`. */
  waitError?: string;
  /** `whyWording` beside `why` (drill-verdict.ts), to say it in another language; absent on older records. */
  restore: { restored: true; at: string } | { restored: false; why: string; whyWording?: Wording };
}

/**
 * When each of `targets` first held the state at `revision` or later, in ms after `start` (0 for a
 * stream written the update before the kill's request returned), from the holdings records.
 */
export function confirmationTimes(records: Iterable<HoldingRecord>, targets: ReadonlySet<string>, revision: number, start: number): Map<string, number> {
  const times = new Map<string, number>();
  for (const r of records) {
    if (r.kind !== 'held' || r.revision < revision || !targets.has(r.instance)) continue;
    const ms = Math.max(0, r.at - start);
    times.set(r.instance, Math.min(times.get(r.instance) ?? Infinity, ms));
  }
  return times;
}

/**
 * The time by which a share of `total` instances had it: the ⌈share × total⌉-th fastest, or null
 * when fewer got it. With 100 instances, p99 is the 99th and max the 100th.
 */
export function timeToShare(sortedMs: readonly number[], total: number, share: number): number | null {
  if (total === 0) return null;
  const needed = Math.max(1, Math.ceil(share * total - 1e-9));
  return needed <= sortedMs.length ? sortedMs[needed - 1]! : null;
}

export function drillFigures(
  targets: readonly InstanceSeen[],
  times: ReadonlyMap<string, number>,
): Pick<DrillRecord, 'instances' | 'confirmed' | 'ms' | 'missing' | 'missingNotListed'> {
  const sorted = targets.flatMap((t) => (times.has(t.instance) ? [times.get(t.instance)!] : [])).sort((a, b) => a - b);
  const missing = targets.filter((t) => !times.has(t.instance));
  return {
    instances: targets.length,
    confirmed: sorted.length,
    ms: { p50: timeToShare(sorted, targets.length, 0.5), p99: timeToShare(sorted, targets.length, 0.99), max: timeToShare(sorted, targets.length, 1) },
    missing: missing.slice(0, MAX_LISTED_INSTANCES).map(instanceRef),
    missingNotListed: Math.max(0, missing.length - MAX_LISTED_INSTANCES),
  };
}
