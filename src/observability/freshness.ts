/** How many sampled feed heads are remembered while the replica has not reached them yet. */
const MAX_PENDING = 64;

/**
 * How long a replica has been behind the store's change feed, from samples of the feed head.
 *
 * A replica that has applied up to a head sampled at time t was current at t, so its staleness is
 * the time since the latest sampled head it has reached. Unlike "time since the last change", this
 * stays at zero in a quiet deployment and grows only while the replica is really behind (its feed
 * follower stalled, or it cannot tell because the store does not answer). Pure: times are given.
 */
export class FeedFreshness {
  private pending: Array<{ head: number; at: number }> = [];
  private currentAt: number;
  private lastHead = 0;

  constructor(startedAt: number) {
    this.currentAt = startedAt;
  }

  /** A head read from the store at `at`. */
  sampled(head: number, at: number): void {
    this.lastHead = head;
    this.pending.push({ head, at });
    if (this.pending.length > MAX_PENDING) this.pending.shift();
  }

  /** Entries the replica has yet to apply, as of the latest sample (0 when it is ahead of it). */
  lag(applied: number): number {
    return Math.max(0, this.lastHead - applied);
  }

  /** Seconds since the replica was last known to be current. */
  staleSeconds(applied: number, now: number): number {
    this.pending = this.pending.filter((sample) => {
      if (sample.head > applied) return true;
      this.currentAt = Math.max(this.currentAt, sample.at);
      return false;
    });
    return Math.max(0, now - this.currentAt) / 1000;
  }
}
