import type { SdkFetch } from '../rollouts/traffic-window.js';
import { FETCH_BUCKET_MS, fetchBuckets, readFetches } from '../serving/sdk-fetches.js';
import { HOLDINGS_BUCKET_MS, holdingsBuckets, readHoldings, type HoldingRecord, type SdkNames } from '../serving/sdk-holdings.js';
import type { Store } from '../store/port.js';

/**
 * Which SDK instances are connected to an environment, and what each holds, from what every replica
 * recorded (src/serving/sdk-fetches.ts and sdk-holdings.ts). The rule, pure, is `instancesSeen`;
 * `readSightings` reads its input from the store in one round trip.
 */

/** An instance counts as connected when it was seen this recently (a poll, a stream heartbeat, a registration). */
export const SEEN_WINDOW_MS = 5 * 60_000;

export interface InstanceSeen {
  /** The recorder's name for it (a hash of its names). */
  instance: string;
  names?: SdkNames;
  /** The highest revision (change-feed position) it was served; undefined when it only registered. */
  revision?: number;
  /** When it was last seen (ms), to the 5-second bucket of its fetch records at worst. */
  lastSeenAt: number;
  /** When it first got each revision, as far as the holdings records reach back (20 minutes). */
  firstHeld: Map<number, number>;
}

export interface Sightings {
  fetches: readonly SdkFetch[];
  holdings: ReadonlyArray<{ record: HoldingRecord; bucketStart: number }>;
}

interface Evidence {
  instance: string;
  names?: SdkNames;
  revision?: number;
  lastSeenAt: number;
  /** The latest moment it was surely alive: a fetch bucket's start, a record's exact time. */
  aliveAfter: number;
  goneAt: number;
  firstHeld: Map<number, number>;
}

/**
 * The instances seen in the `windowMs` before `now` whose stream did not close after they were
 * last known alive. A stream that closes records it; the SDK that reconnects elsewhere is seen there
 * again at once (its opening is recorded to the millisecond), a polling one at its next poll.
 */
export function instancesSeen(sightings: Sightings, now: number, windowMs = SEEN_WINDOW_MS): InstanceSeen[] {
  const byInstance = new Map<string, Evidence>();
  const of = (instance: string): Evidence => {
    let e = byInstance.get(instance);
    if (!e) byInstance.set(instance, (e = { instance, lastSeenAt: -Infinity, aliveAfter: -Infinity, goneAt: -Infinity, firstHeld: new Map() }));
    return e;
  };
  const held = (e: Evidence, revision: number) => (e.revision = Math.max(e.revision ?? revision, revision));
  for (const f of sightings.fetches) {
    const e = of(f.instance);
    held(e, f.revision);
    // A fetch record's time is its bucket's end: it happened at most a bucket before.
    e.lastSeenAt = Math.max(e.lastSeenAt, Math.min(f.at, now));
    e.aliveAfter = Math.max(e.aliveAfter, f.at - FETCH_BUCKET_MS);
  }
  for (const { record, bucketStart } of sightings.holdings) {
    const e = of(record.instance);
    switch (record.kind) {
      case 'held':
        held(e, record.revision);
        e.lastSeenAt = Math.max(e.lastSeenAt, record.at);
        e.aliveAfter = Math.max(e.aliveAfter, record.at);
        e.firstHeld.set(record.revision, Math.min(e.firstHeld.get(record.revision) ?? Infinity, record.at));
        break;
      case 'named':
        e.names ??= record.names;
        // Named once a minute while seen: alive at some moment of that minute, surely by its start.
        e.lastSeenAt = Math.max(e.lastSeenAt, bucketStart);
        e.aliveAfter = Math.max(e.aliveAfter, bucketStart);
        break;
      case 'gone':
        e.goneAt = Math.max(e.goneAt, record.at);
        break;
    }
  }
  const since = now - windowMs;
  const seen: InstanceSeen[] = [];
  for (const e of byInstance.values()) {
    if (e.lastSeenAt < since || e.goneAt >= e.aliveAfter) continue;
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

/** Reads what `instancesSeen` needs for `env` from `from` to `to` (ms): fetch and holdings records, in one round trip each. */
export async function readSightings(store: Pick<Store, 'sumCounters'>, env: string, from: number, to: number): Promise<Sightings> {
  const [fetches, holdings] = await Promise.all([
    readFetches(store, env, fetchBuckets(from, to + 1)),
    // Holdings from one bucket earlier: a name is written once a minute, maybe in the minute before `from`.
    readHoldings(store, env, holdingsBuckets(from - HOLDINGS_BUCKET_MS, to)),
  ]);
  return { fetches, holdings };
}
