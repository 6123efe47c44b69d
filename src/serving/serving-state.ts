import type { z } from 'zod';
import type { FeedEntry, Store, Versioned } from '../store/port.js';
import { checkDocument, type DocumentProblem } from '../validation/stored-documents.js';
import { segmentSchema, storedFlagSchema, type Segment, type StoredFlag } from '../flags/schema.js';
import { toClientFeature, toClientSegment, type ClientFeature, type ClientSegment } from '../flags/client-feature.js';
import { FLAGS, SEGMENTS } from '../flags/collections.js';
import { renderPayload, type RenderedPayload } from './rendered-payload.js';

/** How many recent flag/segment changes a replica remembers to answer delta requests without a full hydration. */
const RECENT_CHANGES = 5_000;
/** Cap on cached renderings (environments × encodings × filters in use). */
const MAX_RENDERED = 512;

export type DeltaEvent =
  | { eventId: number; type: 'hydration'; features: ClientFeature[]; segments: ClientSegment[] }
  | { eventId: number; type: 'feature-updated'; feature: ClientFeature }
  | { eventId: number; type: 'feature-removed'; featureName: string; project: string }
  | { eventId: number; type: 'segment-updated'; segment: ClientSegment }
  | { eventId: number; type: 'segment-removed'; segmentId: number };

export interface ChangedKeys {
  flags: Map<string, string>; // flag name → project it had (needed for feature-removed)
  segments: Set<number>;
}

export interface FeatureFilter {
  project?: string[];
  namePrefix?: string;
}

type ChangeListener = (seq: number, changes: ChangedKeys) => void;

/** Everything a replica serves, as read from the store at one feed position. */
export interface ServingSnapshot {
  head: number;
  flags: Array<Versioned<unknown>>;
  segments: Array<Versioned<unknown>>;
}

/** Reads the feed head first, so that nothing written while the collections are listed is missed. */
export async function readServingSnapshot(store: Store): Promise<ServingSnapshot> {
  const head = await store.feedHead();
  const [flags, segments] = await Promise.all([store.list(FLAGS), store.list(SEGMENTS)]);
  return { head, flags, segments };
}

/**
 * The replica's in-memory copy of every flag and segment, kept current from the change feed.
 * Serving never touches the store: it reads pre-rendered payloads from here, which are rebuilt
 * lazily once per change (not once per request).
 */
export class ServingState {
  private flags = new Map<string, StoredFlag>();
  private segments = new Map<number, Segment>();
  private versions = new Map<string, number>();
  /** Flag name → feed position of its last change applied here (see flagRevision). */
  private flagSeqs = new Map<string, number>();
  /** Feed position of the last full (re)load. */
  private loadedSeq = 0;
  private recent: Array<{ seq: number; kind: 'flag' | 'segment'; key: string; project?: string }> = [];
  /** Delta requests from a seq at or after this can be answered from `recent`. */
  private answerableFrom = 0;
  /** Everything rendered from the current state (payloads, stream hydrations); emptied on every change. */
  private rendered = new Map<string, unknown>();
  private listeners = new Set<ChangeListener>();
  seq = 0;
  loaded = false;

  /** @param onInvalid told of every stored flag or segment that does not pass its schema: it is not served. */
  constructor(private readonly onInvalid: (problem: DocumentProblem) => void = () => {}) {}

  /** Replaces everything served with a snapshot (a start, or a reload after a feed gap or a store loss dealt with). */
  install(snapshot: ServingSnapshot): void {
    const hadData = this.loaded;
    const before = { flags: this.flags, segments: this.segments };
    this.flags = new Map();
    this.segments = new Map();
    this.versions = new Map();
    this.flagSeqs = new Map();
    for (const doc of snapshot.flags) {
      const flag = this.check(storedFlagSchema, FLAGS, doc.id, doc.value);
      if (flag) this.flags.set(doc.id, flag);
      this.versions.set(`${FLAGS}/${doc.id}`, doc.version);
    }
    for (const doc of snapshot.segments) {
      const segment = this.check(segmentSchema, SEGMENTS, doc.id, doc.value);
      if (segment) this.segments.set(segment.id, segment);
      this.versions.set(`${SEGMENTS}/${doc.id}`, doc.version);
    }
    this.seq = snapshot.head;
    this.loadedSeq = snapshot.head;
    this.recent = [];
    this.answerableFrom = this.seq;
    this.rendered.clear();
    this.loaded = true;
    // After a reload every connected stream must re-hydrate: we cannot say what changed. What was
    // served before and is gone now is named too, so streams drop it.
    if (hadData) {
      const flags = new Map([...before.flags].map(([n, f]) => [n, f.project]));
      for (const [name, flag] of this.flags) flags.set(name, flag.project);
      this.notify(this.seq, { flags, segments: new Set([...before.segments.keys(), ...this.segments.keys()]) });
    }
  }

  private check<S extends z.ZodType>(schema: S, collection: string, id: string, value: unknown): z.output<S> | undefined {
    const checked = checkDocument(schema, collection, id, value);
    if (checked.ok) return checked.value;
    this.onInvalid(checked.problem);
    return undefined;
  }

  /**
   * Applies change-feed entries in order; stale entries (older than what we hold) are skipped. A value
   * that does not pass its schema is served as absent, as a replica that loads it afresh would.
   */
  apply(entries: FeedEntry[]): void {
    const changes: ChangedKeys = { flags: new Map(), segments: new Set() };
    for (const entry of entries) {
      if (entry.seq <= this.seq) continue;
      this.seq = entry.seq;
      if (entry.collection !== FLAGS && entry.collection !== SEGMENTS) continue;
      const key = `${entry.collection}/${entry.id}`;
      if ((this.versions.get(key) ?? 0) > entry.version) continue;
      this.versions.set(key, entry.version);
      if (entry.collection === FLAGS) {
        const previous = this.flags.get(entry.id);
        const flag = entry.value === null ? undefined : this.check(storedFlagSchema, FLAGS, entry.id, entry.value);
        if (flag) this.flags.set(entry.id, flag);
        else this.flags.delete(entry.id);
        const project = this.flags.get(entry.id)?.project ?? previous?.project ?? 'default';
        this.flagSeqs.set(entry.id, entry.seq);
        changes.flags.set(entry.id, project);
        this.remember({ seq: entry.seq, kind: 'flag', key: entry.id, project });
      } else {
        const id = Number(entry.id);
        const segment = entry.value === null ? undefined : this.check(segmentSchema, SEGMENTS, entry.id, entry.value);
        if (segment) this.segments.set(id, segment);
        else this.segments.delete(id);
        changes.segments.add(id);
        this.remember({ seq: entry.seq, kind: 'segment', key: entry.id });
      }
    }
    if (changes.flags.size > 0 || changes.segments.size > 0) {
      this.rendered.clear();
      this.notify(this.seq, changes);
    }
  }

  private remember(change: ServingState['recent'][number]): void {
    this.recent.push(change);
    if (this.recent.length > RECENT_CHANGES) {
      const dropped = this.recent.splice(0, this.recent.length - RECENT_CHANGES);
      this.answerableFrom = dropped[dropped.length - 1]!.seq;
    }
  }

  private notify(seq: number, changes: ChangedKeys): void {
    for (const listener of this.listeners) listener(seq, changes);
  }

  onChange(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  getFlag(name: string): StoredFlag | undefined {
    return this.flags.get(name);
  }

  /**
   * Whether an environment's SDKs are served this flag: every flag is in every environment's
   * payload (disabled where it has no configuration there), so whether it exists.
   */
  servesFlag(_env: string, name: string): boolean {
    return this.flags.has(name);
  }

  /**
   * The feed position from which this replica serves the flag as it is now: its last change applied
   * here, or, for a flag unchanged since the state was (re)loaded, the position of that load (its
   * change came at or before it). A fetch served at this revision or later holds the flag as it is now.
   */
  flagRevision(name: string): number | undefined {
    if (!this.flags.has(name)) return undefined;
    return this.flagSeqs.get(name) ?? this.loadedSeq;
  }

  allFlags(): StoredFlag[] {
    return [...this.flags.values()];
  }

  allSegments(): Segment[] {
    return [...this.segments.values()].sort((a, b) => a.id - b.id);
  }

  clientFeatures(env: string, inlineSegments: boolean, filter?: FeatureFilter): ClientFeature[] {
    const names = [...this.flags.keys()].sort();
    const out: ClientFeature[] = [];
    for (const name of names) {
      const flag = this.flags.get(name)!;
      if (filter?.namePrefix && !name.startsWith(filter.namePrefix)) continue;
      if (filter?.project && filter.project.length > 0 && !filter.project.includes(flag.project)) continue;
      out.push(toClientFeature(flag, env, this.segments, inlineSegments));
    }
    return out;
  }

  clientFeature(env: string, name: string, inlineSegments: boolean): ClientFeature | undefined {
    const flag = this.flags.get(name);
    return flag && toClientFeature(flag, env, this.segments, inlineSegments);
  }

  clientSegments(): ClientSegment[] {
    return this.allSegments().map(toClientSegment);
  }

  /**
   * Renders once per change. Keys derived from request input (filters) are bounded: past the cap the
   * cache starts over, so odd query strings cannot grow memory without limit.
   */
  private cached<T>(key: string, build: () => T): T {
    if (this.rendered.has(key)) return this.rendered.get(key) as T;
    if (this.rendered.size >= MAX_RENDERED) this.rendered.clear();
    const value = build();
    this.rendered.set(key, value);
    return value;
  }

  /** The client payload for an environment (optionally filtered), rendered once per change. */
  featuresPayload(env: string, withSegments: boolean, filter?: FeatureFilter): RenderedPayload {
    const key = `features\u0000${env}\u0000${withSegments}\u0000${filter ? JSON.stringify(filter) : ''}`;
    return this.cached(key, () => renderPayload(this.featuresBody(env, withSegments, filter)));
  }

  /** A stream's first message, shared by every connection to the environment until the next change. */
  connectedMessage(env: string, render: (hydration: DeltaEvent, seq: number) => string): string {
    return this.cached(`connected\u0000${env}`, () => render(this.hydration(env), this.seq));
  }

  private featuresBody(env: string, withSegments: boolean, filter?: FeatureFilter): object {
    const features = this.clientFeatures(env, !withSegments, filter);
    const meta = { revisionId: this.seq };
    return withSegments ? { version: 2, features, segments: this.clientSegments(), meta } : { version: 2, features, meta };
  }

  hydration(env: string): DeltaEvent {
    return { eventId: this.seq, type: 'hydration', features: this.clientFeatures(env, false), segments: this.clientSegments() };
  }

  /** What changed after `sinceSeq`, or null when we cannot tell (too old, or from a replica ahead of us). */
  changesSince(sinceSeq: number): ChangedKeys | null {
    if (sinceSeq < this.answerableFrom || sinceSeq > this.seq) return null;
    const changes: ChangedKeys = { flags: new Map(), segments: new Set() };
    for (let i = this.recent.length - 1; i >= 0 && this.recent[i]!.seq > sinceSeq; i--) {
      const change = this.recent[i]!;
      if (change.kind === 'flag') changes.flags.set(change.key, change.project ?? 'default');
      else changes.segments.add(Number(change.key));
    }
    return changes;
  }

  /**
   * Delta events for one environment, rendered from the current state. Sending the current
   * version of everything that changed (rather than each intermediate version) converges to the
   * same state in the SDK, in fewer bytes. Segments come first so that features can refer to them.
   */
  deltaEvents(env: string, changes: ChangedKeys): DeltaEvent[] {
    const eventId = this.seq;
    const events: DeltaEvent[] = [];
    for (const id of [...changes.segments].sort((a, b) => a - b)) {
      const segment = this.segments.get(id);
      events.push(segment ? { eventId, type: 'segment-updated', segment: toClientSegment(segment) } : { eventId, type: 'segment-removed', segmentId: id });
    }
    for (const [name, project] of [...changes.flags].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const feature = this.clientFeature(env, name, false);
      events.push(feature ? { eventId, type: 'feature-updated', feature } : { eventId, type: 'feature-removed', featureName: name, project });
    }
    return events;
  }
}
