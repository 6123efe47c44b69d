/**
 * The one narrow storage port. Redis implements it for production and for
 * any number of replicas; the embedded store implements it for a single
 * process. Both are held equal by test/store/contract.ts.
 *
 * Everything that changes state goes through `commit`, which is atomic:
 * every version expectation and the fence are checked first, and then all
 * writes, log appends and change-feed entries happen together or not at all.
 */

import type { CounterFields } from './counters.js';

/** A document and the version it was read at. Versions start at 1; 0 means "absent". */
export interface Versioned<T = unknown> {
  id: string;
  version: number;
  value: T;
}

export interface PutOp {
  collection: string;
  id: string;
  value: unknown;
  /** Compare-and-set: the version the writer read (0 = must not exist). Omit for an unconditional write. */
  expectVersion?: number;
  /**
   * Keep this write off the change feed. For documents no replica needs to follow (a rollout's
   * analysis state is rewritten every tick), so they neither crowd the feed nor push followers past its end.
   */
  quiet?: boolean;
}

export interface DeleteOp {
  collection: string;
  id: string;
  expectVersion?: number;
  quiet?: boolean;
}

export interface AppendOp {
  /** Name of an append-only log, e.g. "audit". */
  log: string;
  /** Position in the log, chosen by the writer (previous + 1). The commit fails if it is not exactly next. */
  seq: number;
  entry: unknown;
}

export interface Commit {
  puts?: PutOp[];
  deletes?: DeleteOp[];
  appends?: AppendOp[];
  /** When set, the commit only happens while this lease is still held with this fencing token. */
  fence?: { lease: string; token: number };
}

/** Why a follower must reload: see Store.follow. */
export type GapKind = 'behind' | 'diverged';

/** One entry of the change feed: a document was written or deleted. */
export interface FeedEntry {
  /** Global, strictly increasing position in the feed (an integer, shared by every replica). */
  seq: number;
  collection: string;
  id: string;
  /** Version after the change; for a delete, the version the document had. */
  version: number;
  /** The new value, or null when the document was deleted. */
  value: unknown | null;
}

export interface CommitResult {
  /** Feed position of the last entry this commit produced (unchanged feed position when it produced none). */
  seq: number;
  /** New version of each written document, keyed "collection/id". */
  versions: Record<string, number>;
}

export interface Lease {
  holder: string;
  token: number;
}

export type { CounterFields, CounterValue } from './counters.js';

/** Members to add to one bottom-k sample (see Store.addToSamples). */
export interface SampleAdd {
  key: string;
  members: string[];
}

export interface Store {
  /** Short name for logs: "redis" or "embedded". */
  readonly kind: string;

  get<T = unknown>(collection: string, id: string): Promise<Versioned<T> | null>;
  list<T = unknown>(collection: string): Promise<Versioned<T>[]>;
  /**
   * Every document's version (id → version), without the values: with getMany, a reader that keeps
   * the values it has seen (the rollout loop) fetches only the documents that changed since.
   */
  versions(collection: string): Promise<Map<string, number>>;
  /** The documents with these ids as of one instant, in the order asked; absent ones are left out. */
  getMany<T = unknown>(collection: string, ids: string[]): Promise<Versioned<T>[]>;
  /** Throws ConflictError (from errors.ts) when an expectation or the fence does not hold; nothing is written then. */
  commit(commit: Commit): Promise<CommitResult>;

  /** Current head of the change feed (0 when empty). */
  feedHead(): Promise<number>;
  /**
   * Entries after `afterSeq`, oldest first, at most `limit`.
   * Returns null when entries after `afterSeq` have already been trimmed away:
   * the caller must reload everything instead of applying a gap.
   */
  readFeed(afterSeq: number, limit: number): Promise<FeedEntry[] | null>;
  /**
   * Follow the feed from `afterSeq`: `onEntries` is called in order, once per batch, as soon as
   * entries land (from any replica). `onGap` is called when the follower must reload; following then
   * resumes from the head as of that moment. Its kind says why: `behind` (or none), it fell behind
   * the trimmed feed; `diverged`, the feed no longer holds the entry it last applied, or ends before
   * it (Redis: found after a reconnection, to a promoted replica or to a server restarted without its
   * data): what was applied is gone from the store. Returns a function that stops following.
   */
  follow(afterSeq: number, onEntries: (entries: FeedEntry[]) => void, onGap: (kind?: GapKind) => void): () => void;

  /** Entries of an append-only log with seq >= fromSeq, oldest first, at most `limit`. */
  readLog<T = unknown>(log: string, fromSeq: number, limit: number): Promise<Array<{ seq: number; entry: T }>>;

  /**
   * Add to counters in one time bucket, atomically however many writers add at once; the bucket
   * expires `ttlSeconds` after its last write. A field holds a number or a vector (added element by
   * element, see counters.ts) and keeps that kind: an increment that would add a vector to a number
   * or the other way round, or that checkIncrement refuses, throws TypeError and writes nothing.
   */
  incrementCounters(bucket: string, fields: CounterFields, ttlSeconds: number): Promise<void>;
  readCounters(bucket: string): Promise<CounterFields>;
  /**
   * Sums of buckets, one result per group (a bucket may sit in several groups), vectors element by
   * element. Read in one round trip however many buckets the groups span, so a rollout analysis is
   * one store call. A field that holds a number in one bucket and a vector in another throws.
   */
  sumCounters(groups: string[][]): Promise<CounterFields[]>;

  /**
   * Bottom-k samples (see sample-merge.ts): sets of members that keep only their `keep` smallest, in
   * text order, and expire `ttlSeconds` after their last write. Adds each list of members to its
   * sample. Members are short strings of one length (hashes in hex), so text order is number order.
   * The embedded store keeps samples in memory only: they are derived data, and after a restart a
   * sample holds what was added since (Redis keeps them like its other keys).
   */
  addToSamples(adds: SampleAdd[], keep: number, ttlSeconds: number): Promise<void>;
  /** `dest` becomes the bottom-`keep` sample of itself and every source. Idempotent: merging a source again changes nothing. */
  mergeSamples(dest: string, sources: string[], keep: number, ttlSeconds: number): Promise<void>;
  /** Per group, the `keep` smallest members of the union of its samples, smallest first (missing samples are empty). */
  readSamples(groups: string[][], keep: number): Promise<string[][]>;

  /**
   * Take or renew a lease. Returns the lease with its fencing token when `holder` now holds it,
   * null when someone else does. A fresh acquisition always gets a larger token than any before.
   */
  acquireLease(name: string, holder: string, ttlMs: number): Promise<Lease | null>;
  releaseLease(name: string, holder: string): Promise<void>;

  /** Cheap round trip, for readiness. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The reading half of the port, for tools that must not change anything (`npm run simulate --
 * --replay`): given only this, they cannot write, and openStoreReader (index.ts) hands out objects
 * that have no other methods.
 */
export type StoreReader = Pick<Store, 'kind' | 'get' | 'list' | 'versions' | 'getMany' | 'readCounters' | 'close'>;
