import { ConflictError } from '../errors/app-error.js';
import {
  openJournal, type CommitRecord, type FeedRec, type Journal, type JournalRecord, type Snapshot, type Write,
} from './embedded-journal.js';
import type {
  Commit, CommitResult, CounterFields, FeedEntry, Lease, Store, Versioned,
} from './port.js';

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

interface Follower {
  last: number; scheduled: boolean; stopped: boolean;
  onEntries: (entries: FeedEntry[]) => void; onGap: () => void;
}

const FOLLOW_BATCH = 1000;

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

class EmbeddedStore implements Store {
  readonly kind = 'embedded';
  private docs = new Map<string, Map<string, { v: number; j: string }>>();
  private head = 0;
  private feed: FeedRec[] = [];
  private logs = new Map<string, Array<[number, string]>>();
  private counters = new Map<string, { f: CounterFields; x: number }>();
  private fences = new Map<string, number>();
  /** Leases are not persisted: a restart ends every holder in this single process anyway. */
  private leases = new Map<string, { holder: string; token: number; x: number }>();
  private followers = new Set<Follower>();
  private dirtyCounters = new Set<string>();
  private flushTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly feedMaxLen: number;
  private readonly now: () => number;

  constructor(private readonly journal: Journal, private readonly opts: EmbeddedStoreOptions) {
    this.feedMaxLen = Math.max(1, Math.floor(opts.feedMaxLen ?? 10_000));
    this.now = opts.now ?? Date.now;
  }

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
      docs, head: this.head, feed: this.feed, logs: Object.fromEntries(this.logs),
      counters: Object.fromEntries(this.counters), fences: Object.fromEntries(this.fences),
    };
  }

  /** The single place state changes, shared by live writes and journal replay. */
  private apply(r: JournalRecord): void {
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
    const { puts = [], deletes = [], appends = [] } = c;
    const version = (coll: string, id: string): number => this.docs.get(coll)?.get(id)?.v ?? 0;
    for (const op of [...puts, ...deletes]) checkExpect(op.expectVersion);
    // Checks run in the same order as the Redis script, so both report the same reason.
    if (c.fence) {
      const l = this.liveLease(c.fence.lease);
      if (!l) throw new ConflictError('fence', `fence: lease "${c.fence.lease}" is not held`);
      if (l.token !== c.fence.token) throw new ConflictError('fence', `fence: lease "${c.fence.lease}" token is ${l.token}, not ${c.fence.token}`);
    }
    for (const [kind, ops] of [['put', puts], ['delete', deletes]] as const) {
      for (const op of ops) {
        const cur = version(op.collection, op.id);
        if (op.expectVersion !== undefined && cur !== op.expectVersion) {
          throw new ConflictError('version', `${kind} ${op.collection}/${op.id}: expected version ${op.expectVersion}, found ${cur}`);
        }
      }
    }
    const nextSeq = new Map<string, number>();
    for (const op of appends) {
      const entries = this.logs.get(op.log);
      const n = nextSeq.get(op.log) ?? (entries?.length ? entries[entries.length - 1]![0] + 1 : 1);
      if (op.seq !== n) throw new ConflictError('append', `append ${op.log}: expected seq ${n}, got ${op.seq}`);
      nextSeq.set(op.log, n + 1);
    }

    // Resolve versions op by op, so several ops on one document inside a commit chain up.
    const pending = new Map<string, number>();
    const cur = (coll: string, id: string): number => pending.get(`${coll}/${id}`) ?? version(coll, id);
    const versions: Record<string, number> = {};
    const w: Write[] = [];
    for (const op of puts) {
      const v = cur(op.collection, op.id) + 1;
      pending.set(`${op.collection}/${op.id}`, (versions[`${op.collection}/${op.id}`] = v));
      w.push(op.quiet ? [op.collection, op.id, v, JSON.stringify(op.value) ?? 'null', 1] : [op.collection, op.id, v, JSON.stringify(op.value) ?? 'null']);
    }
    for (const op of deletes) {
      const v = cur(op.collection, op.id);
      if (v === 0) continue; // deleting an absent document changes nothing and feeds nothing
      pending.set(`${op.collection}/${op.id}`, 0);
      w.push(op.quiet ? [op.collection, op.id, v, null, 1] : [op.collection, op.id, v, null]);
    }
    const a = appends.map((op): [string, number, string] => [op.log, op.seq, JSON.stringify(op.entry) ?? 'null']);
    if (w.length === 0 && a.length === 0) return { seq: this.head, versions };

    const record: CommitRecord = { t: 'c', s: this.head + 1, w, a };
    this.journal.append([JSON.stringify(record)], true); // durable before anyone can observe it
    this.apply(record);
    if (w.some((write) => !write[4])) for (const f of this.followers) this.schedule(f);
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

  /** [] when caught up, null when the successor of `after` was trimmed away. */
  private entriesAfter(after: number, limit: number): FeedEntry[] | null {
    if (after >= this.head) return [];
    const first = this.feed[0];
    if (!first || first[0] > after + 1) return null;
    const start = after + 1 - first[0]; // seqs are contiguous, so the index follows from the seq
    return this.feed.slice(start, start + limit).map(([seq, collection, id, version, j]) => ({
      seq, collection, id, version, value: j === null ? null : JSON.parse(j),
    }));
  }

  follow(afterSeq: number, onEntries: (entries: FeedEntry[]) => void, onGap: () => void): () => void {
    this.assertOpen();
    const f: Follower = { last: Math.max(0, Math.floor(afterSeq)), scheduled: false, stopped: false, onEntries, onGap };
    this.followers.add(f);
    this.schedule(f);
    return () => {
      f.stopped = true;
      this.followers.delete(f);
    };
  }

  /** Delivery is always asynchronous, so callbacks never run inside commit() or follow(). */
  private schedule(f: Follower): void {
    if (f.scheduled || f.stopped) return;
    f.scheduled = true;
    queueMicrotask(() => {
      f.scheduled = false;
      if (f.stopped) return;
      const entries = this.entriesAfter(f.last, FOLLOW_BATCH);
      if (entries === null) {
        f.last = this.head;
        guard(f.onGap);
      } else if (entries.length > 0) {
        f.last = entries[entries.length - 1]!.seq;
        guard(() => f.onEntries(entries));
        if (f.last < this.head) this.schedule(f);
      }
    });
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
    for (const [f, n] of Object.entries(fields)) if (!Number.isFinite(n)) throw new TypeError(`counter ${f}: increment must be finite, got ${n}`);
    const now = this.now();
    let b = this.counters.get(bucket);
    if (!b || b.x <= now) {
      // Like EXPIRE on a missing key: an empty increment does not create the bucket.
      if (Object.keys(fields).length === 0) return;
      this.counters.set(bucket, (b = { f: {}, x: 0 }));
    }
    for (const [f, n] of Object.entries(fields)) b.f[f] = (b.f[f] ?? 0) + n;
    b.x = now + Math.max(1, Math.ceil(ttlSeconds)) * 1000;
    this.dirtyCounters.add(bucket);
    // Counters are hot and loss of the last second is tolerable, so they skip the per-write fsync.
    this.flushTimer ??= setTimeout(() => this.flushCounters(), this.opts.counterFlushMs ?? 1000).unref();
  }

  async readCounters(bucket: string): Promise<CounterFields> {
    this.assertOpen();
    const b = this.counters.get(bucket);
    return b && b.x > this.now() ? { ...b.f } : {};
  }

  async sumCounters(groups: string[][]): Promise<CounterFields[]> {
    this.assertOpen();
    const now = this.now();
    return groups.map((group) => {
      const out: CounterFields = {};
      for (const bucket of group) {
        const b = this.counters.get(bucket);
        if (!b || b.x <= now) continue;
        for (const field in b.f) out[field] = (out[field] ?? 0) + b.f[field]!;
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
    for (const f of this.followers) f.stopped = true;
    this.followers.clear();
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

function checkExpect(v: number | undefined): void {
  if (v !== undefined && (!Number.isSafeInteger(v) || v < 0)) throw new TypeError(`expectVersion must be an integer >= 0, got ${v}`);
}

/** A throwing callback must not break delivery to others; report it without crashing the process. */
function guard(fn: () => void): void {
  try {
    fn();
  } catch (err) {
    process.emitWarning(`store follow callback threw: ${(err as Error)?.stack ?? String(err)}`);
  }
}
