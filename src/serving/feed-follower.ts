import type { FeedEntry, GapKind, Store } from '../store/port.js';
import type { Logger } from '../logger.js';
import type { TokenIndex } from '../auth/token-index.js';
import { TOKENS } from '../auth/token-model.js';
import type { StoreWatch } from '../store-loss/store-watch.js';
import type { StoreLook } from '../store-loss/store-marks.js';
import { readServingSnapshot, type ServingState } from './serving-state.js';

/** How often the follower looks at the store's marks and feed head (see StoreWatch). */
const LOOK_MS = 1_000;
const RELOAD_RETRY_MAX_MS = 5_000;
const START_ATTEMPTS = 5;

/**
 * Keeps this replica's in-memory state (flags, segments, tokens) current from the store's change
 * feed. Every replica, including the one that made a change, learns of it this way, so all of them
 * serve the same thing in the same order. While the store is away it simply keeps what it has: the
 * serving routes read only this state, so SDKs are answered from the last snapshot.
 *
 * Once a second it looks at the store (StoreWatch): when the store lost data (restarted empty, an
 * older copy, another server), following stops and the last snapshot is kept, never replaced by what
 * the store holds now, until a person restores a backup or accepts the loss; then it reloads.
 */
export class FeedFollower {
  private stop: (() => void) | undefined;
  private waiters: Array<{ seq: number; resolve: () => void }> = [];
  private resyncing: Promise<void> | undefined;
  private looking: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly store: Store,
    private readonly state: ServingState,
    private readonly tokens: TokenIndex,
    private readonly logger: Logger,
    private readonly watch: StoreWatch,
  ) {}

  /** Loads everything, then follows the feed from the position the load started at (unless the store is known to have lost data). */
  async start(): Promise<void> {
    for (let attempt = 1; !(await this.load(await this.watch.identify(await this.watch.look()))); attempt++) {
      if (attempt >= START_ATTEMPTS) throw new Error(`the store changed its identity during each of ${START_ATTEMPTS} attempts to load it`);
    }
    if (!this.watch.lost) this.follow();
    this.timer = setInterval(() => void this.lookNow(), LOOK_MS);
    this.timer.unref();
  }

  /**
   * Reads everything between two looks at the store's marks, and installs it only when they agree:
   * a store wiped or swapped during the read is never installed. Returns false when one was.
   */
  private async load(look: StoreLook): Promise<boolean> {
    const [snapshot, tokens] = await Promise.all([readServingSnapshot(this.store), this.store.list(TOKENS)]);
    const after = await this.watch.look();
    // A marker that appeared meanwhile counts as a swap: the next look decides on it before anything is installed.
    if (after.identity?.value.id !== look.identity?.value.id || after.identity === undefined || (after.loss && !look.loss)) return false;
    this.state.install(snapshot);
    this.tokens.install(tokens);
    this.watch.adopt(after, snapshot.head);
    return true;
  }

  private follow(): void {
    this.stop = this.store.follow(
      this.state.seq,
      (entries) => this.apply(entries),
      (kind) => this.onGap(kind),
    );
  }

  private apply(entries: FeedEntry[]): void {
    this.state.apply(entries);
    for (const entry of entries) {
      if (entry.collection === TOKENS) this.tokens.apply(entry.id, entry.value);
    }
    this.release();
  }

  private onGap(kind: GapKind | undefined): void {
    if (kind !== 'diverged') {
      this.resync();
      return;
    }
    // What this replica applied is no longer in the store: keep it, and say so.
    this.freeze();
    void this.watch.look().then(
      (look) =>
        this.watch.diverged(`the change feed no longer holds entry ${this.state.seq} that this replica applied: the store lost data`, look, this.state.seq),
      () => undefined, // unreachable: the next look decides
    );
  }

  /** Looks at the store once (one at a time): serve on, reload, or keep the snapshot and refuse. Also after an accepted loss. */
  lookNow(): Promise<void> {
    if (this.closed || this.resyncing) return Promise.resolve();
    this.looking ??= (async () => {
      try {
        // Our position is taken before the look: entries applied while it is in flight move us past
        // the head it sees without the feed having gone anywhere.
        const position = this.state.seq;
        const look = await this.watch.look().catch(() => undefined); // unreachable: the next look tries again
        if (!look || this.closed) return;
        const outcome = this.watch.observe(look, position);
        if (outcome === 'reload') {
          this.resync();
          await this.resyncing;
        } else if (outcome === 'refuse') this.freeze();
      } finally {
        this.looking = undefined;
      }
    })();
    return this.looking;
  }

  /** Stops following: the snapshot stays as it is, served, until a person resolves the loss. */
  private freeze(): void {
    this.stop?.();
    this.stop = undefined;
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
    this.freeze();
    this.logger.warn({ seq: this.state.seq }, 'change feed gap, reconnection or store loss resolved: reloading all flag state');
    for (let delay = 100; !this.closed; delay = Math.min(delay * 2, RELOAD_RETRY_MAX_MS)) {
      try {
        const look = await this.watch.look();
        // A reload is for a gap in a store that is still the one loaded, or for a loss a person dealt with.
        if (this.watch.observe(look, this.state.seq) === 'refuse') return;
        if (await this.load(await this.watch.identify(look))) break;
      } catch (err) {
        this.logger.error({ err: String(err) }, 'reloading flag state failed; serving the last state and retrying');
      }
      await new Promise((r) => setTimeout(r, delay).unref());
    }
    if (this.closed) return;
    if (!this.watch.lost) this.follow(); // a marker found by the reload itself: keep what was loaded, and refuse
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
    clearInterval(this.timer);
    this.freeze();
    for (const w of this.waiters) w.resolve();
    this.waiters = [];
  }
}
