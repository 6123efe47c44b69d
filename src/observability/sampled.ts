export interface SampledOptions {
  /** A sample younger than this is reused: several scrapers (or a fast one) read the store once. */
  maxAgeMs: number;
  /** A scrape waits at most this long for a fresh sample, then reports the last one it has. */
  waitMs: number;
  now?: () => number;
}

/**
 * A value read from the store for a scrape: at most one read in flight, reused while young, and
 * never holding a scrape up for longer than `waitMs`, so /metrics answers while the store does not
 * (that is when an operator needs it most). Until a first read succeeds the value is undefined.
 */
export function sampled<T>(read: () => Promise<T>, opts: SampledOptions): () => Promise<T | undefined> {
  const now = opts.now ?? Date.now;
  let last: { value: T; at: number } | undefined;
  let inFlight: Promise<void> | undefined;
  let triedAt = Number.NEGATIVE_INFINITY;
  return async () => {
    if (!inFlight && now() - triedAt >= opts.maxAgeMs) {
      triedAt = now();
      inFlight = read().then(
        (value) => void (last = { value, at: now() }),
        () => undefined,
      );
      void inFlight.finally(() => (inFlight = undefined));
    }
    if (inFlight) {
      let timer: NodeJS.Timeout | undefined;
      const waited = new Promise<void>((resolve) => (timer = setTimeout(resolve, opts.waitMs)));
      await Promise.race([inFlight, waited]);
      clearTimeout(timer);
    }
    return last?.value;
  };
}
