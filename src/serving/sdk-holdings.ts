import type { CounterFields, Store } from '../store/port.js';

/**
 * Which SDK instance holds which flag state, to the millisecond, for the propagation view and
 * drills (src/propagation/). Counter fields, so that any number of replicas write them side by side
 * and a reader merges them (the earliest time wins), in one hash per environment and minute:
 *
 *  - `s<TAB>instance<TAB>revision<TAB>at<TAB>appName<TAB>instanceId<TAB>connectionId`: seen. Once a
 *    minute per instance and replica while it polls, streams (each heartbeat counts) or registers:
 *    the revision (change-feed position) it held then (empty for a registration), the time, and
 *    the names the SDK sends. What says which instances are connected, and what they hold.
 *  - `h<TAB>instance<TAB>revision<TAB>at`: held. A replica served it the state at `revision` first
 *    at `at` (a poll or delta answered, 200 or 304; a stream's update written, or its opening).
 *    Written when the revision a replica serves an instance changes: a steady poller writes none.
 *  - `g<TAB>instance<TAB>at`: gone. Its stream closed (unless it is seen again: it reconnects, polls).
 *
 * Kept 20 minutes: longer than the longest drill and the window instances are shown for.
 */

export const HOLDINGS_BUCKET_MS = 60_000;
export const HOLDINGS_TTL_SECONDS = 20 * 60;
/** Names are cut to this many characters, and tabs and control characters become spaces. */
export const MAX_NAME_CHARS = 100;
/** Instances per environment whose last revision and sighting each replica remembers; past it the memory starts over (a few records written twice). */
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
  | { kind: 'seen'; instance: string; revision?: number; at: number; names: SdkNames }
  | { kind: 'held'; instance: string; revision: number; at: number }
  | { kind: 'gone'; instance: string; at: number };

function clean(text: string): string {
  return text.slice(0, MAX_NAME_CHARS).replace(/[\u0000-\u001f\u007f]/g, ' ');
}

/** The names as they end a `seen` field: made once per instance (SdkFetchRecorder keeps them), not at every sighting. */
export function namesText(names: SdkNames): string {
  return `${clean(names.appName)}\t${clean(names.instanceId)}\t${clean(names.connectionId)}`;
}

function seenField(instance: string, revision: number | undefined, at: number, names: string): string {
  return `s\t${instance}\t${revision ?? ''}\t${at}\t${names}`;
}

export function holdingField(record: HoldingRecord): string {
  switch (record.kind) {
    case 'seen':
      return seenField(record.instance, record.revision, record.at, namesText(record.names));
    case 'held':
      return `h\t${record.instance}\t${record.revision}\t${record.at}`;
    case 'gone':
      return `g\t${record.instance}\t${record.at}`;
  }
}

const numberOr = (text: string | undefined): number | undefined => (text === undefined || text === '' ? undefined : Number(text));

/** A field as written by holdingField, or undefined for anything else (a field of a later version is skipped, not misread). */
export function parseHoldingField(field: string): HoldingRecord | undefined {
  const parts = field.split('\t');
  const instance = parts[1];
  if (!instance) return undefined;
  const at = Number(parts[parts[0] === 'g' ? 2 : 3]);
  if (!Number.isFinite(at)) return undefined;
  if (parts[0] === 's' && parts.length === 7) {
    const revision = numberOr(parts[2]);
    if (revision !== undefined && !Number.isFinite(revision)) return undefined;
    return { kind: 'seen', instance, revision, at, names: { appName: parts[4]!, instanceId: parts[5]!, connectionId: parts[6]! } };
  }
  if (parts[0] === 'h' && parts.length === 4) {
    const revision = Number(parts[2]);
    return Number.isFinite(revision) ? { kind: 'held', instance, revision, at } : undefined;
  }
  if (parts[0] === 'g' && parts.length === 3) return { kind: 'gone', instance, at };
  return undefined;
}

/** What a replica remembers of one environment's instances, so that it writes a record only when it is news. */
interface EnvMemory {
  /** Instance → the revision this replica last served it. */
  revision: Map<string, number>;
  /** Instance → the minute it was last recorded seen in. */
  seen: Map<string, number>;
}

/**
 * One replica's holdings records, noted in memory and written with the fetch records once a second
 * (SdkFetchRecorder.flush). It is told only of the first fetch of a revision by an instance in each
 * 5-second fetch bucket, not of every poll, and then does a few map lookups: what it costs the
 * serving path is measured in docs/performance.md.
 */
export class HoldingsRecorder {
  /** `${env}\u0000${bucketStart}` → field → 1. */
  private pending = new Map<string, Map<string, number>>();
  private memory = new Map<string, EnvMemory>();

  /** @param namesOf the instance's names as namesText made them when they were first seen; undefined when forgotten. */
  constructor(private readonly namesOf: (instance: string) => string | undefined) {}

  private of(env: string): EnvMemory {
    let memory = this.memory.get(env);
    if (!memory) this.memory.set(env, (memory = { revision: new Map(), seen: new Map() }));
    return memory;
  }

  /**
   * `instance` got the state at `revision` at `at` (no revision: it only registered). `opened`: a
   * stream opened, recorded even when the revision did not change, as a sign of life after a close.
   */
  saw(env: string, instance: string, revision: number | undefined, at: number, opened = false): void {
    const memory = this.of(env);
    if (revision !== undefined && (opened || memory.revision.get(instance) !== revision)) {
      if (memory.revision.size >= MAX_REMEMBERED) memory.revision.clear();
      memory.revision.set(instance, revision);
      this.add(env, at, holdingField({ kind: 'held', instance, revision, at }));
    }
    const minute = at - (at % HOLDINGS_BUCKET_MS);
    if (memory.seen.get(instance) === minute) return;
    const names = this.namesOf(instance);
    if (names === undefined) return; // forgotten (more instances than the name cache holds): recorded at a later sighting
    if (memory.seen.size >= MAX_REMEMBERED) memory.seen.clear();
    memory.seen.set(instance, minute);
    this.add(env, at, seenField(instance, revision, at, names));
  }

  /** The stream of `instance` closed at `at`. */
  closed(env: string, instance: string, at: number): void {
    this.of(env).revision.delete(instance);
    this.add(env, at, holdingField({ kind: 'gone', instance, at }));
  }

  private add(env: string, at: number, field: string): void {
    const key = `${env}\u0000${at - (at % HOLDINGS_BUCKET_MS)}`;
    let fields = this.pending.get(key);
    if (!fields) this.pending.set(key, (fields = new Map()));
    fields.set(field, 1);
  }

  /** What was noted since the last call, one increment per environment and minute. */
  take(): Array<{ key: string; fields: CounterFields }> {
    const batches = this.pending;
    this.pending = new Map();
    return [...batches].map(([key, fields]) => {
      const [env, bucket] = key.split('\u0000') as [string, string];
      return { key: holdingsBucketKey(env, Number(bucket)), fields: counterFields(fields) };
    });
  }
}

/**
 * Counter fields from a map of them. A prototype-less object: it starts as a dictionary, where
 * `Object.fromEntries` would first grow a hidden class per new field name, and these names are
 * unique (instance, revision, time), which made that cost several µs a field (measured: 3× less).
 */
export function counterFields(fields: ReadonlyMap<string, number>): CounterFields {
  const out: CounterFields = Object.create(null);
  for (const [field, value] of fields) out[field] = value;
  return out;
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
