import type { FeedEntry, Store } from '../store/port.js';
import type { Logger } from '../logger.js';
import type { TokenIndex } from '../auth/token-index.js';
import { TOKENS, type StoredToken } from '../auth/token-model.js';
import type { ServingState } from './serving-state.js';

/** How often the follower compares the store's feed head with its own position. */
const HEAD_CHECK_MS = 1_000;
const RELOAD_RETRY_MAX_MS = 5_000;

/**
 * Keeps this replica's in-memory state (flags, segments, tokens) current from the store's change
 * feed. Every replica, including the one that made a change, learns of it this way, so all of them
 * serve the same thing in the same order. While the store is away it simply keeps what it has: the
 * serving routes read only this state, so SDKs are answered from the last snapshot.
 */
export class FeedFollower {
  private stop: (() => void) | undefined;
  private waiters: Array<{ seq: number; resolve: () => void }> = [];
  private resyncing: Promise<void> | undefined;
  private headCheck: NodeJS.Timeout | undefined;
  private checking = false;
  private closed = false;

  constructor(
    private readonly store: Store,
    private readonly state: ServingState,
    private readonly tokens: TokenIndex,
    private readonly logger: Logger,
  ) {}

  /** Loads everything, then follows the feed from the position the load started at. */
  async start(): Promise<void> {
    await this.load();
    this.follow();
    this.headCheck = setInterval(() => void this.checkHead(), HEAD_CHECK_MS);
    this.headCheck.unref();
  }

  private async load(): Promise<void> {
    await this.state.load(this.store);
    await this.tokens.load(this.store);
  }

  private follow(): void {
    this.stop = this.store.follow(
      this.state.seq,
      (entries) => this.apply(entries),
      () => this.resync(),
    );
  }

  private apply(entries: FeedEntry[]): void {
    this.state.apply(entries);
    for (const entry of entries) {
      if (entry.collection === TOKENS) this.tokens.apply(entry.id, entry.value as StoredToken | null);
    }
    this.release();
  }

  /**
   * A feed head below our position means the feed went backwards: Redis restarted without its data
   * (or a failover promoted a copy that had not received the latest writes) and numbers entries
   * from 1 again. Following on from our position would ignore every new entry, so reload instead.
   */
  private async checkHead(): Promise<void> {
    // One check at a time: while the store does not answer, a check waits out the command timeout.
    if (this.checking || this.resyncing || this.closed) return;
    this.checking = true;
    try {
      // Our position is taken before the head is read: entries applied while the read is in flight
      // move us past the head we get back without the feed having gone anywhere.
      const position = this.state.seq;
      const head = await this.store.feedHead().catch(() => undefined); // unreachable: the next check tries again
      if (head !== undefined && head < position) this.resync();
    } finally {
      this.checking = false;
    }
  }

  /**
   * Reloads everything and follows again from the position the reload started at, so that nothing
   * written meanwhile is missed and nothing is applied on top of a gap. The old state keeps being
   * served until the reload is complete; a reload that fails (the store is away) is retried.
   */
  private resync(): void {
    if (this.resyncing || this.closed) return;
    this.resyncing = this.reloadAndFollow().finally(() => (this.resyncing = undefined));
  }

  private async reloadAndFollow(): Promise<void> {
    this.stop?.();
    this.stop = undefined;
    const before = this.state.seq;
    this.logger.warn({ seq: before }, 'change feed gap or reconnection: reloading all flag state');
    for (let delay = 100; !this.closed; delay = Math.min(delay * 2, RELOAD_RETRY_MAX_MS)) {
      try {
        await this.load();
        break;
      } catch (err) {
        this.logger.error({ err: String(err) }, 'reloading flag state failed; serving the last state and retrying');
        await new Promise((r) => setTimeout(r, delay).unref());
      }
    }
    if (this.closed) return;
    if (this.state.seq < before) {
      // ERROR: a person must look: restore a backup if the store lost data nobody meant to delete.
      this.logger.error({ before, after: this.state.seq }, 'the change feed went backwards (the store lost data): reloaded, now serving what the store holds');
    }
    this.follow();
    this.release();
  }

  private release(): void {
    const seq = this.state.seq;
    this.waiters = this.waiters.filter((w) => {
      if (w.seq > seq) return true;
      w.resolve();
      return false;
    });
  }

  /** Resolves once this replica has applied the feed up to `seq` (or after `timeoutMs`, whichever is first). */
  waitFor(seq: number, timeoutMs = 2_000): Promise<void> {
    if (this.state.seq >= seq) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      timer.unref();
      this.waiters.push({ seq, resolve: () => (clearTimeout(timer), resolve()) });
    });
  }

  close(): void {
    this.closed = true;
    clearInterval(this.headCheck);
    this.stop?.();
    for (const w of this.waiters) w.resolve();
    this.waiters = [];
  }
}
