/**
 * A token bucket per API token, kept in this replica's memory: `perSecond` requests a second on
 * average, bursts up to `burst`. Per replica rather than global, because a shared counter would
 * put a store round trip on every evaluation; N replicas behind a balancer allow N × the rate.
 * Time is a parameter, so the arithmetic is tested without waiting.
 */
export class RateLimiter {
  private buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly now: () => number,
  ) {}

  /** 0 when the request may go ahead, otherwise the whole seconds to wait before the next one would. */
  take(key: string): number {
    if (this.perSecond <= 0) return 0;
    const now = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: this.burst, at: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond);
    bucket.at = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.perSecond));
  }

  /** Forgets buckets that have refilled completely (they would start full anyway), so revoked tokens do not pile up. */
  sweep(): void {
    const now = this.now();
    for (const [key, bucket] of this.buckets) {
      if (bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond >= this.burst) this.buckets.delete(key);
    }
  }
}
