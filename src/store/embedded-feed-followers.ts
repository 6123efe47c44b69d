import type { FeedEntry } from './port.js';

interface Follower {
  last: number;
  scheduled: boolean;
  stopped: boolean;
  onEntries: (entries: FeedEntry[]) => void;
  onGap: () => void;
}

const FOLLOW_BATCH = 1000;

/**
 * The embedded store's feed followers (see Store.follow). They read the feed through `read` ([] when
 * caught up, null when the successor of `after` was trimmed away) and `head`.
 */
export class FeedFollowers {
  private readonly all = new Set<Follower>();

  constructor(
    private readonly read: (after: number, limit: number) => FeedEntry[] | null,
    private readonly head: () => number,
  ) {}

  add(afterSeq: number, onEntries: (entries: FeedEntry[]) => void, onGap: () => void): () => void {
    const f: Follower = { last: Math.max(0, Math.floor(afterSeq)), scheduled: false, stopped: false, onEntries, onGap };
    this.all.add(f);
    this.schedule(f);
    return () => {
      f.stopped = true;
      this.all.delete(f);
    };
  }

  /** The feed grew: every follower reads on from where it is. */
  wake(): void {
    for (const f of this.all) this.schedule(f);
  }

  stopAll(): void {
    for (const f of this.all) f.stopped = true;
    this.all.clear();
  }

  /** Delivery is always asynchronous, so callbacks never run inside commit() or follow(). */
  private schedule(f: Follower): void {
    if (f.scheduled || f.stopped) return;
    f.scheduled = true;
    queueMicrotask(() => {
      f.scheduled = false;
      if (f.stopped) return;
      const entries = this.read(f.last, FOLLOW_BATCH);
      if (entries === null) {
        f.last = this.head();
        guard(f.onGap);
      } else if (entries.length > 0) {
        f.last = entries[entries.length - 1]!.seq;
        guard(() => f.onEntries(entries));
        if (f.last < this.head()) this.schedule(f);
      }
    });
  }
}

/** A throwing callback must not break delivery to others; report it without crashing the process. */
function guard(fn: () => void): void {
  try {
    fn();
  } catch (err) {
    process.emitWarning(`store follow callback threw: ${(err as Error)?.stack ?? String(err)}`);
  }
}
