import type { FeedEntry, Store } from '../store/port.js';
import type { Logger } from '../logger.js';
import type { TokenIndex } from '../auth/token-index.js';
import { TOKENS, type StoredToken } from '../auth/token-model.js';
import type { ServingState } from './serving-state.js';

/**
 * Keeps this replica's in-memory state (flags, segments, tokens) current from the store's change
 * feed. Every replica, including the one that made a change, learns of it this way, so all of them
 * serve the same thing in the same order.
 */
export class FeedFollower {
  private stop: (() => void) | undefined;
  private waiters: Array<{ seq: number; resolve: () => void }> = [];
  /** Entries that arrive while a reload runs wait here, so a slow reload cannot overwrite them. */
  private pending: FeedEntry[] | undefined;

  constructor(
    private readonly store: Store,
    private readonly state: ServingState,
    private readonly tokens: TokenIndex,
    private readonly logger: Logger,
  ) {}

  /** Loads everything, then follows the feed from the position the load started at. */
  async start(): Promise<void> {
    await this.state.load(this.store);
    await this.tokens.load(this.store);
    this.stop = this.store.follow(this.state.seq, (entries) => this.apply(entries), () => void this.reload());
  }

  private apply(entries: FeedEntry[]): void {
    if (this.pending) {
      this.pending.push(...entries);
      return;
    }
    this.state.apply(entries);
    for (const entry of entries) {
      if (entry.collection === TOKENS) this.tokens.apply(entry.id, entry.value as StoredToken | null);
    }
    this.release();
  }

  /** The feed was trimmed past our position: everything is reloaded rather than applied with a gap. */
  private async reload(): Promise<void> {
    if (this.pending) return;
    this.logger.warn({ seq: this.state.seq }, 'change feed gap: reloading all flag state');
    this.pending = [];
    try {
      await this.state.load(this.store);
      await this.tokens.load(this.store);
    } catch (err) {
      this.logger.error({ err }, 'reloading flag state failed; serving the last state');
    } finally {
      const buffered = this.pending;
      this.pending = undefined;
      // Replayed in order on top of the reload; entries the reload already saw are skipped by seq and version.
      this.apply(buffered);
    }
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
    this.stop?.();
    for (const w of this.waiters) w.resolve();
    this.waiters = [];
  }
}
