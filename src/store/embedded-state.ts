import { addCounters } from './counters.js';
import type { FeedRec, JournalRecord, Snapshot } from './embedded-format.js';
import type { CounterFields, FeedEntry, Versioned } from './port.js';

export type Docs = Map<string, Map<string, { v: number; j: string }>>;
export type Logs = Map<string, Array<[number, string]>>;

/**
 * What the embedded store keeps and persists (documents, change feed, logs, counters, fences), the
 * one place it changes, its snapshot form, and its reads (shared with the read-only EmbeddedReader). EmbeddedStore extends this class rather than holding
 * it in a field, so its hot paths (reads, counter sums) reach these maps directly.
 */
export class EmbeddedState {
  protected docs: Docs = new Map();
  protected head = 0;
  protected feed: FeedRec[] = [];
  protected logs: Logs = new Map();
  protected counters = new Map<string, { f: CounterFields; x: number }>();
  protected fences = new Map<string, number>();

  constructor(
    protected readonly feedMaxLen: number,
    protected readonly now: () => number,
  ) {}

  load(snap: Snapshot | null, records: JournalRecord[]): void {
    if (snap) {
      for (const [c, ids] of Object.entries(snap.docs)) {
        this.docs.set(c, new Map(Object.entries(ids).map(([id, [v, j]]) => [id, { v, j }])));
      }
      this.head = snap.head;
      this.feed = snap.feed;
      this.logs = new Map(Object.entries(snap.logs));
      this.counters = new Map(Object.entries(snap.counters));
      this.fences = new Map(Object.entries(snap.fences));
    }
    for (const r of records) this.apply(r);
    if (this.feed.length > this.feedMaxLen) this.feed.splice(0, this.feed.length - this.feedMaxLen);
    const now = this.now();
    for (const [b, c] of this.counters) if (c.x <= now) this.counters.delete(b);
  }

  snapshot(): Snapshot {
    const docs: Snapshot['docs'] = {};
    for (const [c, ids] of this.docs) docs[c] = Object.fromEntries([...ids].map(([id, d]) => [id, [d.v, d.j]]));
    return {
      docs,
      head: this.head,
      feed: this.feed,
      logs: Object.fromEntries(this.logs),
      counters: Object.fromEntries(this.counters),
      fences: Object.fromEntries(this.fences),
    };
  }

  /** The single place state changes, shared by live writes and journal replay. */
  protected apply(r: JournalRecord): void {
    if (r.t === 'k') this.counters.set(r.b, { f: r.f, x: r.x });
    else if (r.t === 'f') this.fences.set(r.n, Math.max(r.v, this.fences.get(r.n) ?? 0));
    else {
      let fed = 0;
      for (const [c, id, v, j, quiet] of r.w) {
        let coll = this.docs.get(c);
        if (!coll) this.docs.set(c, (coll = new Map()));
        if (j === null) coll.delete(id);
        else coll.set(id, { v, j });
        if (!quiet) this.feed.push([r.s + fed++, c, id, v, j]);
      }
      this.head = Math.max(this.head, r.s + fed - 1);
      if (this.feed.length > this.feedMaxLen) this.feed.splice(0, this.feed.length - this.feedMaxLen);
      for (const [log, seq, j] of r.a) {
        const entries = this.logs.get(log) ?? [];
        entries.push([seq, j]);
        this.logs.set(log, entries);
      }
    }
  }

  /** Reads fail on a closed store; the state itself never closes (EmbeddedStore says when it has). */
  protected assertOpen(): void {}

  async get<T = unknown>(collection: string, id: string): Promise<Versioned<T> | null> {
    this.assertOpen();
    const d = this.docs.get(collection)?.get(id);
    return d ? { id, version: d.v, value: JSON.parse(d.j) as T } : null;
  }

  async list<T = unknown>(collection: string): Promise<Versioned<T>[]> {
    this.assertOpen();
    const ids = [...(this.docs.get(collection)?.entries() ?? [])].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return ids.map(([id, d]) => ({ id, version: d.v, value: JSON.parse(d.j) as T }));
  }

  async versions(collection: string): Promise<Map<string, number>> {
    this.assertOpen();
    return new Map([...(this.docs.get(collection)?.entries() ?? [])].map(([id, d]) => [id, d.v]));
  }

  async getMany<T = unknown>(collection: string, ids: string[]): Promise<Versioned<T>[]> {
    this.assertOpen();
    const docs = this.docs.get(collection);
    return ids.flatMap((id) => {
      const d = docs?.get(id);
      return d ? [{ id, version: d.v, value: JSON.parse(d.j) as T }] : [];
    });
  }

  async readCounters(bucket: string): Promise<CounterFields> {
    this.assertOpen();
    const b = this.counters.get(bucket);
    // A copy (vectors included): the caller may change what it gets.
    return b && b.x > this.now() ? addCounters({}, b.f) : {};
  }

  async sumCounters(groups: string[][]): Promise<CounterFields[]> {
    this.assertOpen();
    const now = this.now();
    return groups.map((group) => {
      const out: CounterFields = {};
      for (const bucket of group) {
        const b = this.counters.get(bucket);
        if (b && b.x > now) addCounters(out, b.f);
      }
      return out;
    });
  }

  /** [] when caught up, null when the successor of `after` was trimmed away. */
  protected entriesAfter(after: number, limit: number): FeedEntry[] | null {
    if (after >= this.head) return [];
    const first = this.feed[0];
    if (!first || first[0] > after + 1) return null;
    const start = after + 1 - first[0]; // seqs are contiguous, so the index follows from the seq
    return this.feed.slice(start, start + limit).map(([seq, collection, id, version, j]) => ({
      seq,
      collection,
      id,
      version,
      value: j === null ? null : JSON.parse(j),
    }));
  }
}
