import type { Logger } from '../logger.js';

/** A client that keeps hitting a limit is logged again after this long, with how many refusals went unlogged. */
export const LIMIT_LOG_WINDOW_MS = 60_000;
/** Clients remembered at once; past that the oldest are forgotten (and would be logged again). */
const MAX_REMEMBERED = 10_000;

/**
 * Logs refusals by a limit once per client and limit in each window, not once per request: a
 * client hammering a limit must not flood the log (or the disk under it). A client is its token id
 * when it sent a valid one, its address otherwise.
 */
export class LimitLog {
  private seen = new Map<string, { at: number; unlogged: number }>();

  constructor(
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
    private readonly windowMs = LIMIT_LOG_WINDOW_MS,
  ) {}

  /** Records one refusal; returns whether it was logged. */
  refused(limit: string, client: string, message: string, fields: Record<string, unknown> = {}): boolean {
    const key = `${limit}\u0000${client}`;
    const now = this.now();
    const entry = this.seen.get(key);
    if (entry && now - entry.at < this.windowMs) {
      entry.unlogged++;
      return false;
    }
    this.seen.delete(key);
    if (this.seen.size >= MAX_REMEMBERED) this.seen.delete(this.seen.keys().next().value!);
    this.seen.set(key, { at: now, unlogged: 0 });
    this.logger.warn({ limit, client, ...fields, ...(entry?.unlogged ? { unloggedSinceLast: entry.unlogged } : {}) }, `limit reached: ${message}`);
    return true;
  }
}
