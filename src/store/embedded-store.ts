import { addCounters, checkIncrement, kindConflict, mixedKinds } from './counters.js';
import { planCommit } from './embedded-commit.js';
import { FeedFollowers } from './embedded-feed-followers.js';
import type { CommitRecord, JournalRecord } from './embedded-format.js';
import { openJournal, type Journal } from './embedded-journal.js';
import type { RepairReport } from './embedded-recovery.js';
import { EmbeddedSamples } from './embedded-samples.js';
import { EmbeddedState } from './embedded-state.js';
import type { Commit, CommitResult, CounterFields, FeedEntry, Lease, SampleAdd, Store } from './port.js';

export type { RepairReport } from './embedded-recovery.js';

export interface EmbeddedStoreOptions {
  /** Change-feed retention (entries). Default 10 000. */
  feedMaxLen?: number;
  /** Compact the journal into a new snapshot once it grows past this many bytes. Default 8 MiB. */
  compactBytes?: number;
  /** Counters are journaled in batches at this interval (ms), not per increment. Default 1000. */
  counterFlushMs?: number;
  /** Clock for lease and counter expiry. Default Date.now. */
  now?: () => number;
  /**
   * Open a damaged directory anyway: keep every good record, move each damaged file aside and
   * report what was lost to `onRepair` (the controller's --repair, EMBEDDED_REPAIR). Without it a
   * damaged directory is not opened (StoreDamagedError).
   */
  repair?: boolean;
  /** Called during the open with what a repair set aside and lost, when it had anything to do. */
  onRepair?: (reports: RepairReport[]) => void;
  /** Where a dropped torn record is reported (a WARN). Default: a process warning. */
  warn?: (details: Record<string, unknown>, message: string) => void;
}

export async function openEmbeddedStore(dataDir: string, opts: EmbeddedStoreOptions = {}): Promise<Store> {
  const now = opts.now ?? Date.now;
  const { journal, recovered } = openJournal(dataDir, { repair: opts.repair ?? false, now: () => new Date(now()) });
  try {
    const store = new EmbeddedStore(journal, opts);
    store.load(recovered.state, recovered.records);
    // Every run starts from a fresh snapshot, after every byte read was checked: replay stays short,
    // a torn tail is dropped, and format 1 becomes format 2.
    journal.compact(store.snapshot());
    const warn = opts.warn ?? ((details, message) => process.emitWarning(`${message} ${JSON.stringify(details)}`));
    for (const notice of recovered.notices) warn(notice.details, notice.message);
    if (recovered.repairs.length > 0) opts.onRepair?.(recovered.repairs);
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
  private readonly samples = new EmbeddedSamples(() => this.now());
  private flushTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly journal: Journal,
    private readonly opts: EmbeddedStoreOptions,
  ) {
    super(Math.max(1, Math.floor(opts.feedMaxLen ?? 10_000)), opts.now ?? Date.now);
  }

  async commit(c: Commit): Promise<CommitResult> {
    this.assertOpen();
    const { w, a, versions } = planCommit(c, this.docs, this.logs, (name) => this.liveLease(name));
    if (w.length === 0 && a.length === 0) return { seq: this.head, versions };

    const record: CommitRecord = { t: 'c', s: this.head + 1, w, a };
    this.journal.append([record]); // durable before anyone can observe it
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

  private flushCounters(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.dirtyCounters.size === 0) return;
    const now = this.now();
    const records: JournalRecord[] = [];
    for (const name of this.dirtyCounters) {
      const b = this.counters.get(name);
      if (b) records.push({ t: 'k', b: name, f: b.f, x: b.x });
    }
    this.dirtyCounters.clear();
    for (const [name, b] of this.counters) if (b.x <= now) this.counters.delete(name);
    this.journal.append(records);
    this.maybeCompact();
  }

  async addToSamples(adds: SampleAdd[], keep: number, ttlSeconds: number): Promise<void> {
    this.assertOpen();
    this.samples.add(adds, keep, ttlSeconds);
  }

  async mergeSamples(dest: string, sources: string[], keep: number, ttlSeconds: number): Promise<void> {
    this.assertOpen();
    this.samples.merge(dest, sources, keep, ttlSeconds);
  }

  async readSamples(groups: string[][], keep: number): Promise<string[][]> {
    this.assertOpen();
    return this.samples.read(groups, keep);
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
    this.journal.append([{ t: 'f', n: name, v: token }]);
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

  protected override assertOpen(): void {
    if (this.closed) throw new Error('embedded store is closed');
  }
}
