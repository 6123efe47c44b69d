import { addCounters, checkIncrement, kindConflict, mixedKinds } from './counters.js';
import { planCommit } from './embedded-commit.js';
import { FeedFollowers } from './embedded-feed-followers.js';
import { openJournal, type CommitRecord, type Journal } from './embedded-journal.js';
import { EmbeddedState } from './embedded-state.js';
import type { Commit, CommitResult, CounterFields, FeedEntry, Lease, Store, Versioned } from './port.js';

export interface EmbeddedStoreOptions {
  /** Change-feed retention (entries). Default 10 000. */
  feedMaxLen?: number;
  /** Compact the journal into a new snapshot once it grows past this many bytes. Default 8 MiB. */
  compactBytes?: number;
  /** Counters are journaled in batches at this interval (ms), not per increment. Default 1000. */
  counterFlushMs?: number;
  /** Clock for lease and counter expiry. Default Date.now. */
  now?: () => number;
}

export async function openEmbeddedStore(dataDir: string, opts: EmbeddedStoreOptions = {}): Promise<Store> {
  const { journal, state, records } = openJournal(dataDir);
  try {
    const store = new EmbeddedStore(journal, opts);
    store.load(state, records);
    // Start every run from a fresh snapshot: replay stays short and a torn tail is dropped.
    journal.compact(store.snapshot());
    return store;
  } catch (err) {
    journal.close();
    throw err;
  }
}

class EmbeddedStore extends EmbeddedState implements Store {
  readonly kind = 'embedded';
  /** Leases are not persisted: a restart ends every holder in this single process anyway. */
  private leases = new Map<string, { holder: string; token: number; x: number }>();
  private readonly followers = new FeedFollowers(
    (after, limit) => this.entriesAfter(after, limit),
    () => this.head,
  );
  private dirtyCounters = new Set<string>();
  private flushTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly journal: Journal,
    private readonly opts: EmbeddedStoreOptions,
  ) {
    super(Math.max(1, Math.floor(opts.feedMaxLen ?? 10_000)), opts.now ?? Date.now);
  }

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

  async commit(c: Commit): Promise<CommitResult> {
    this.assertOpen();
    const { w, a, versions } = planCommit(c, this.docs, this.logs, (name) => this.liveLease(name));
    if (w.length === 0 && a.length === 0) return { seq: this.head, versions };

    const record: CommitRecord = { t: 'c', s: this.head + 1, w, a };
    this.journal.append([JSON.stringify(record)], true); // durable before anyone can observe it
    this.apply(record);
    if (w.some((write) => !write[4])) this.followers.wake();
    this.maybeCompact();
    return { seq: this.head, versions };
  }

  async feedHead(): Promise<number> {
    this.assertOpen();
    return this.head;
  }

  async readFeed(afterSeq: number, limit: number): Promise<FeedEntry[] | null> {
    this.assertOpen();
    return this.entriesAfter(Math.max(0, Math.floor(afterSeq)), Math.max(0, limit));
  }

  follow(afterSeq: number, onEntries: (entries: FeedEntry[]) => void, onGap: () => void): () => void {
    this.assertOpen();
    return this.followers.add(afterSeq, onEntries, onGap);
  }

  async readLog<T = unknown>(log: string, fromSeq: number, limit: number): Promise<Array<{ seq: number; entry: T }>> {
    this.assertOpen();
    if (limit <= 0) return [];
    const entries = this.logs.get(log) ?? [];
    const i = Math.max(0, Math.ceil(fromSeq) - 1); // commit() keeps a log's seqs exactly 1, 2, 3, ...
    return entries.slice(i, i + limit).map(([seq, j]) => ({ seq, entry: JSON.parse(j) as T }));
  }

  async incrementCounters(bucket: string, fields: CounterFields, ttlSeconds: number): Promise<void> {
    this.assertOpen();
    checkIncrement(fields);
    const now = this.now();
    let b = this.counters.get(bucket);
    if (!b || b.x <= now) {
      // Like EXPIRE on a missing key: an empty increment does not create the bucket.
      if (Object.keys(fields).length === 0) return;
      this.counters.set(bucket, (b = { f: {}, x: 0 }));
    }
    const mixed = kindConflict(b.f, fields);
    if (mixed !== undefined) throw mixedKinds(mixed);
    addCounters(b.f, fields);
    b.x = now + Math.max(1, Math.ceil(ttlSeconds)) * 1000;
    this.dirtyCounters.add(bucket);
    // Counters are hot and loss of the last second is tolerable, so they skip the per-write fsync.
    this.flushTimer ??= setTimeout(() => this.flushCounters(), this.opts.counterFlushMs ?? 1000).unref();
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

  private flushCounters(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.dirtyCounters.size === 0) return;
    const now = this.now();
    const lines: string[] = [];
    for (const name of this.dirtyCounters) {
      const b = this.counters.get(name);
      if (b) lines.push(JSON.stringify({ t: 'k', b: name, f: b.f, x: b.x }));
    }
    this.dirtyCounters.clear();
    for (const [name, b] of this.counters) if (b.x <= now) this.counters.delete(name);
    this.journal.append(lines, true);
    this.maybeCompact();
  }

  private liveLease(name: string): { holder: string; token: number; x: number } | undefined {
    const l = this.leases.get(name);
    return l && l.x > this.now() ? l : undefined;
  }

  async acquireLease(name: string, holder: string, ttlMs: number): Promise<Lease | null> {
    this.assertOpen();
    const x = this.now() + Math.max(1, Math.ceil(ttlMs));
    const l = this.liveLease(name);
    if (l) {
      if (l.holder !== holder) return null;
      l.x = x;
      return { holder, token: l.token };
    }
    const token = (this.fences.get(name) ?? 0) + 1;
    // The token must be durable before it is handed out, or a restart could reissue it.
    this.journal.append([JSON.stringify({ t: 'f', n: name, v: token })], true);
    this.fences.set(name, token);
    this.leases.set(name, { holder, token, x });
    return { holder, token };
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    this.assertOpen();
    if (this.liveLease(name)?.holder === holder) this.leases.delete(name);
  }

  async ping(): Promise<void> {
    this.assertOpen();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.followers.stopAll();
    try {
      this.flushCounters();
    } finally {
      this.closed = true;
      this.journal.close();
    }
  }

  private maybeCompact(): void {
    if (this.journal.size <= (this.opts.compactBytes ?? 8 * 1024 * 1024)) return;
    this.dirtyCounters.clear(); // the snapshot carries their current values
    this.journal.compact(this.snapshot());
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('embedded store is closed');
  }
}
