/**
 * Did every stream receive every flag change? Pure matching of what was changed (by the soak's kill
 * loop, or by the rollout loop's step changes, from the rollouts' histories) against what each stream
 * received, so the check is independent of the streams themselves.
 *
 * A flag's served state is reduced to a key ("off" when disabled, else its rollout percentage, or
 * "on"); a change is the moment a flag took a new key. A stream delivered change i of a flag when it
 * received that key for that flag at or after the change and before the flag took the same key again
 * (events on one stream arrive in order, so a later event with that key belongs to the later change).
 * All times are in one clock (the bench process's performance.now()).
 */

export interface FlagChange {
  flag: string;
  key: string;
  at: number;
  source: 'kill' | 'rollout';
  /** When the call that made the change was answered, if one did: latencies from then are kept too, as `answered-<group>`. */
  answeredAt?: number;
}

/** What one stream received: per flag, the keys in arrival order with their arrival times, and when it was connected. */
export interface StreamLog {
  received: Map<string, { keys: string[]; at: number[] }>;
  /** [connected, disconnected (Infinity while open)] spans: a change made while the stream was gone is still a miss, told apart. */
  spans: Array<[number, number]>;
}

export interface DeliveryTally {
  expected: number;
  delivered: number;
  missed: number;
  /** Misses of changes made while that stream was disconnected (it was reconnecting). */
  missedWhileDisconnected: number;
  /** Delivery latencies (ms), grouped by `groupOf(change)` (e.g. source and minute). */
  latencies: Map<string, number[]>;
  /** Misses per group, and a few of them for the report. */
  missedByGroup: Map<string, number>;
  examples: Array<{ stream: number; flag: string; key: string; at: number }>;
}

/** Allowance for the two clocks behind a rollout change's time (the controller's wall clock, converted). */
const CLOCK_SLACK_MS = 50;

export function matchDeliveries(changes: FlagChange[], streams: StreamLog[], until: number, groupOf: (change: FlagChange) => string): DeliveryTally {
  // Per flag, its changes in time order, each with the moment the flag takes the same key again.
  const byFlag = new Map<string, Array<{ change: FlagChange; group: string; window: number }>>();
  for (const change of [...changes].sort((a, b) => a.at - b.at)) {
    const list = byFlag.get(change.flag) ?? [];
    byFlag.set(change.flag, list);
    list.push({ change, group: groupOf(change), window: until });
  }
  for (const list of byFlag.values()) {
    const nextWithKey = new Map<string, number>();
    for (let i = list.length - 1; i >= 0; i--) {
      list[i]!.window = nextWithKey.get(list[i]!.change.key) ?? until;
      nextWithKey.set(list[i]!.change.key, list[i]!.change.at);
    }
  }
  const tally: DeliveryTally = {
    expected: 0,
    delivered: 0,
    missed: 0,
    missedWhileDisconnected: 0,
    latencies: new Map(),
    missedByGroup: new Map(),
    examples: [],
  };
  streams.forEach((stream, index) => {
    const firstConnected = stream.spans[0]?.[0] ?? Infinity;
    for (const [flag, list] of byFlag) {
      const got = stream.received.get(flag) ?? { keys: [], at: [] };
      let from = 0;
      for (const { change, group, window } of list) {
        if (change.at < firstConnected) continue;
        tally.expected++;
        while (from < got.at.length && got.at[from]! < change.at - CLOCK_SLACK_MS) from++;
        let j = from;
        while (j < got.at.length && got.at[j]! < window && got.keys[j] !== change.key) j++;
        if (j < got.at.length && got.at[j]! < window) {
          tally.delivered++;
          record(tally.latencies, group, got.at[j]! - change.at);
          if (change.answeredAt !== undefined) record(tally.latencies, `answered-${group}`, got.at[j]! - change.answeredAt);
          from = j + 1;
          continue;
        }
        tally.missed++;
        tally.missedByGroup.set(group, (tally.missedByGroup.get(group) ?? 0) + 1);
        if (!stream.spans.some(([a, b]) => change.at >= a && change.at < b)) tally.missedWhileDisconnected++;
        if (tally.examples.length < 10) tally.examples.push({ stream: index, flag, key: change.key, at: change.at });
      }
    }
  });
  return tally;
}

function record(into: Map<string, number[]>, group: string, ms: number): void {
  const bucket = into.get(group) ?? [];
  into.set(group, bucket);
  // A stream may see a change a moment before the call that made it is answered.
  bucket.push(Math.max(0, ms));
}

/** The served key of a streamed flag: "off" when disabled, else its (first) flexibleRollout percentage, else "on". */
export function servedKey(feature: { enabled: boolean; strategies?: Array<{ name: string; parameters?: Record<string, string> }> }): string {
  if (!feature.enabled) return 'off';
  return feature.strategies?.find((s) => s.name === 'flexibleRollout')?.parameters?.rollout ?? 'on';
}

/**
 * The percentage changes rollouts made to their flags, from their histories: every transition whose
 * percentage (or, for a rollback, "off") differs from the flag's previous one. Rollouts of one flag
 * follow each other (one active at a time), so they are walked in creation order from `initialKey`.
 * `toLocal` turns the controller's ISO timestamps into the bench's clock.
 */
export function rolloutChanges(
  rollouts: Array<{ flag: string; createdAt: string; history: Array<{ at: string; to: string; percentage: number }> }>,
  initialKey: string,
  toLocal: (iso: string) => number,
): FlagChange[] {
  const changes: FlagChange[] = [];
  const last = new Map<string, string>();
  for (const rollout of [...rollouts].sort((a, b) => a.createdAt.localeCompare(b.createdAt))) {
    for (const t of rollout.history) {
      const key = t.to === 'rolled_back' ? 'off' : String(t.percentage);
      if (key === (last.get(rollout.flag) ?? initialKey)) continue;
      last.set(rollout.flag, key);
      changes.push({ flag: rollout.flag, key, at: toLocal(t.at), source: 'rollout' });
    }
  }
  return changes;
}
