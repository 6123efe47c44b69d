import type { CounterFields, Store } from '../store/port.js';

/**
 * What each SDK instance holds, to the millisecond, for the propagation view and drills
 * (src/propagation/). The fetch buckets (sdk-fetches.ts) say which revision an instance held in
 * each 5-second bucket; these records add when it first got each revision, who it is, and when
 * its stream closed. They are counter fields, so any number of replicas write them side by side
 * and a reader merges them (the earliest time wins):
 *
 *  - `h<TAB>instance<TAB>revision<TAB>at`: a replica served this instance the state at `revision`
 *    first at `at` (ms), whether by a poll, a delta, a stream's update or a stream's opening. Written
 *    when the revision a replica serves an instance changes, so a steady poller writes nothing.
 *  - `n<TAB>instance<TAB>appName<TAB>instanceId<TAB>connectionId`: the names the SDK sends, at most
 *    once a minute per instance and replica while it is seen (also on registration).
 *  - `g<TAB>instance<TAB>at`: its stream closed at `at` (an SDK gone, unless it is seen again).
 *
 * One hash per environment and minute, kept 20 minutes: longer than the longest drill and than the
 * window instances are shown for.
 */

export const HOLDINGS_BUCKET_MS = 60_000;
export const HOLDINGS_TTL_SECONDS = 20 * 60;
/** Names are cut to this many characters, and tabs and control characters become spaces. */
export const MAX_NAME_CHARS = 100;
/** Instances whose last revision each replica remembers; past it the memory starts over (a few records written twice). */
const MAX_REMEMBERED = 50_000;

export function holdingsBucketKey(environment: string, bucketStart: number): string {
  return `sdk-holdings:${environment}:${bucketStart}`;
}

/** The names an SDK gives itself, as sent in its headers (or its registration). */
export interface SdkNames {
  appName: string;
  instanceId: string;
  connectionId: string;
}

export type HoldingRecord =
  | { kind: 'held'; instance: string; revision: number; at: number }
  | { kind: 'named'; instance: string; names: SdkNames }
  | { kind: 'gone'; instance: string; at: number };

function clean(text: string): string {
  return text.slice(0, MAX_NAME_CHARS).replace(/[\u0000-\u001f\u007f]/g, ' ');
}

export function holdingField(record: HoldingRecord): string {
  switch (record.kind) {
    case 'held':
      return `h\t${record.instance}\t${record.revision}\t${record.at}`;
    case 'named':
      return `n\t${record.instance}\t${clean(record.names.appName)}\t${clean(record.names.instanceId)}\t${clean(record.names.connectionId)}`;
    case 'gone':
      return `g\t${record.instance}\t${record.at}`;
  }
}

/** A field as written by holdingField, or undefined for anything else (a field of a later version is skipped, not misread). */
export function parseHoldingField(field: string): HoldingRecord | undefined {
  const parts = field.split('\t');
  const instance = parts[1];
  if (!instance) return undefined;
  if (parts[0] === 'h' && parts.length === 4) {
    const revision = Number(parts[2]);
    const at = Number(parts[3]);
    return Number.isFinite(revision) && Number.isFinite(at) ? { kind: 'held', instance, revision, at } : undefined;
  }
  if (parts[0] === 'n' && parts.length === 5) return { kind: 'named', instance, names: { appName: parts[2]!, instanceId: parts[3]!, connectionId: parts[4]! } };
  if (parts[0] === 'g' && parts.length === 3) {
    const at = Number(parts[2]);
    return Number.isFinite(at) ? { kind: 'gone', instance, at } : undefined;
  }
  return undefined;
}

/**
 * One replica's holdings records, noted in memory and written with the fetch records once a second
 * (SdkFetchRecorder.flush). It is told only of the first fetch of a revision by an instance in each
 * 5-second fetch bucket, never of every poll, so it costs the serving path nothing per request.
 */
export class HoldingsRecorder {
  /** `${env}\u0000${bucketStart}` → field → 1. */
  private pending = new Map<string, Map<string, number>>();
  /** `${env}\u0000${instance}` → the revision this replica last served it. */
  private lastRevision = new Map<string, number>();
  /** `${env}\u0000${instance}` named in the current minute. */
  private named = new Set<string>();
  private namedMinute = 0;

  constructor(private readonly namesOf: (instance: string) => SdkNames | undefined) {}

  /**
   * `instance` got the state at `revision` at `at` (no revision: it only registered). `opened`: a
   * stream opened, recorded even when the revision did not change, as a sign of life after a close.
   */
  saw(env: string, instance: string, revision: number | undefined, at: number, opened = false): void {
    const key = `${env}\u0000${instance}`;
    if (revision !== undefined && (opened || this.lastRevision.get(key) !== revision)) {
      if (this.lastRevision.size >= MAX_REMEMBERED) this.lastRevision.clear();
      this.lastRevision.set(key, revision);
      this.add(env, at, { kind: 'held', instance, revision, at });
    }
    const minute = Math.floor(at / HOLDINGS_BUCKET_MS) * HOLDINGS_BUCKET_MS;
    if (minute !== this.namedMinute) {
      this.namedMinute = minute;
      this.named.clear();
    }
    if (this.named.has(key)) return;
    const names = this.namesOf(instance);
    if (!names) return; // forgotten (more instances than the name cache holds): named at a later sighting
    this.named.add(key);
    this.add(env, at, { kind: 'named', instance, names });
  }

  /** The stream of `instance` closed at `at`. */
  closed(env: string, instance: string, at: number): void {
    this.lastRevision.delete(`${env}\u0000${instance}`);
    this.add(env, at, { kind: 'gone', instance, at });
  }

  private add(env: string, at: number, record: HoldingRecord): void {
    const key = `${env}\u0000${Math.floor(at / HOLDINGS_BUCKET_MS) * HOLDINGS_BUCKET_MS}`;
    let fields = this.pending.get(key);
    if (!fields) this.pending.set(key, (fields = new Map()));
    fields.set(holdingField(record), 1);
  }

  /** What was noted since the last call, one increment per environment and minute. */
  take(): Array<{ key: string; fields: CounterFields }> {
    const batches = this.pending;
    this.pending = new Map();
    return [...batches].map(([key, fields]) => {
      const [env, bucket] = key.split('\u0000') as [string, string];
      return { key: holdingsBucketKey(env, Number(bucket)), fields: Object.fromEntries(fields) };
    });
  }
}

/** The buckets that cover [from, to] (ms), to read with readHoldings. */
export function holdingsBuckets(from: number, to: number): number[] {
  const starts: number[] = [];
  for (let t = Math.floor(from / HOLDINGS_BUCKET_MS) * HOLDINGS_BUCKET_MS; t <= to; t += HOLDINGS_BUCKET_MS) starts.push(t);
  return starts;
}

/** The records of `env` in the buckets starting at `starts`, each with its bucket's start. */
export async function readHoldings(
  store: Pick<Store, 'sumCounters'>,
  env: string,
  starts: readonly number[],
): Promise<Array<{ record: HoldingRecord; bucketStart: number }>> {
  if (starts.length === 0) return [];
  const sums = await store.sumCounters(starts.map((t) => [holdingsBucketKey(env, t)]));
  const out: Array<{ record: HoldingRecord; bucketStart: number }> = [];
  sums.forEach((fields, i) => {
    for (const field in fields) {
      const record = parseHoldingField(field);
      if (record) out.push({ record, bucketStart: starts[i]! });
    }
  });
  return out;
}
