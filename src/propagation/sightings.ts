import { holdingsBuckets, readHoldings, type HoldingRecord, type SdkNames } from '../serving/sdk-holdings.js';
import type { Store } from '../store/port.js';

/**
 * Which SDK instances are connected to an environment, and what each holds, from what every replica
 * recorded (src/serving/sdk-holdings.ts). The rule, pure, is `instancesSeen`; `readSightings` reads
 * its input from the store in one round trip.
 */

/** An instance counts as connected when it was seen this recently (a poll, a stream heartbeat, a registration). */
export const SEEN_WINDOW_MS = 5 * 60_000;

export interface InstanceSeen {
  /** The recorder's name for it (a hash of its names). */
  instance: string;
  names?: SdkNames;
  /** The highest revision (change-feed position) it was served; undefined when it only registered. */
  revision?: number;
  /** When it was last seen (ms): to the minute at worst (it is recorded seen once a minute), exact after a change. */
  lastSeenAt: number;
  /** When it first got each revision, as far as the records read reach back. */
  firstHeld: Map<number, number>;
}

interface Evidence {
  instance: string;
  names?: SdkNames;
  revision?: number;
  lastSeenAt: number;
  goneAt: number;
  firstHeld: Map<number, number>;
}

/**
 * The instances seen in the `windowMs` before `now` whose stream did not close after they were
 * last seen. A stream that closes records it; the SDK that reconnects elsewhere is seen there again
 * at once (its opening is recorded to the millisecond), a polling one at its next poll.
 */
export function instancesSeen(records: Iterable<HoldingRecord>, now: number, windowMs = SEEN_WINDOW_MS): InstanceSeen[] {
  const byInstance = new Map<string, Evidence>();
  for (const record of records) {
    let e = byInstance.get(record.instance);
    if (!e) byInstance.set(record.instance, (e = { instance: record.instance, lastSeenAt: -Infinity, goneAt: -Infinity, firstHeld: new Map() }));
    if (record.kind === 'gone') {
      e.goneAt = Math.max(e.goneAt, record.at);
      continue;
    }
    if (record.revision !== undefined) e.revision = Math.max(e.revision ?? record.revision, record.revision);
    e.lastSeenAt = Math.max(e.lastSeenAt, Math.min(record.at, now));
    if (record.kind === 'seen') e.names ??= record.names;
    else e.firstHeld.set(record.revision, Math.min(e.firstHeld.get(record.revision) ?? Infinity, record.at));
  }
  const since = now - windowMs;
  const seen: InstanceSeen[] = [];
  for (const e of byInstance.values()) {
    if (e.lastSeenAt < since || e.goneAt >= e.lastSeenAt) continue;
    seen.push({ instance: e.instance, names: e.names, revision: e.revision, lastSeenAt: e.lastSeenAt, firstHeld: e.firstHeld });
  }
  return seen.sort((a, b) => labelOf(a).localeCompare(labelOf(b)));
}

/** How an instance is named to people: app name and instance id, else the recorder's name for it. */
export function labelOf(i: Pick<InstanceSeen, 'instance' | 'names'>): string {
  return i.names ? `${i.names.appName}/${i.names.instanceId}` : `#${i.instance}`;
}

/**
 * When an instance first held a state at `revision` or later (ms), as far as the records reach back;
 * undefined when they do not show it (it got it earlier, or does not hold it).
 */
export function firstHeldSince(i: Pick<InstanceSeen, 'firstHeld'>, revision: number): number | undefined {
  let first: number | undefined;
  for (const [r, at] of i.firstHeld) if (r >= revision && (first === undefined || at < first)) first = at;
  return first;
}

/** The holdings records of `env` from `from` to `to` (ms), in one round trip. */
export async function readSightings(store: Pick<Store, 'sumCounters'>, env: string, from: number, to: number): Promise<HoldingRecord[]> {
  return (await readHoldings(store, env, holdingsBuckets(from, to))).map((r) => r.record);
}
