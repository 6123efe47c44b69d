import type { Store } from '../store/port.js';
import { EXPOSURE_BUCKET_MS, recordExposures, type ClientMetrics } from '../metrics/exposures.js';
import type { Logger } from '../logger.js';
import type { Evaluation } from './evaluation.js';

/** One flag's counts. Maps, not objects: a flag or variant may be named "constructor" or "__proto__". */
interface ToggleCounts {
  yes: number;
  no: number;
  variants: Map<string, number>;
}

/** Names the source of these counts where a person looks (the SDKs name themselves by appName). */
const APP_NAME = 'server-side-evaluation';

/**
 * Counts server-side evaluations into the same exposure counters the SDKs' metrics feed, so the
 * traffic and sample-ratio checks see browsers and OpenFeature apps too. Counting is in memory; a
 * flush every `intervalMs` writes one increment per environment and minute, not one per request.
 * Counts keep the minute they were made in, so a flush that crosses a minute boundary is still exact.
 */
export class ExposureBatcher {
  private pending = new Map<string, { env: string; bucketStart: number; toggles: Map<string, ToggleCounts> }>();
  private readonly timer: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Store,
    private readonly now: () => number,
    private readonly logger: Logger,
    intervalMs: number,
  ) {
    this.timer = setInterval(() => void this.flush(), intervalMs);
    this.timer.unref();
  }

  count(env: string, evaluations: Iterable<Evaluation>): void {
    const bucketStart = Math.floor(this.now() / EXPOSURE_BUCKET_MS) * EXPOSURE_BUCKET_MS;
    const key = `${env}\u0000${bucketStart}`;
    let batch = this.pending.get(key);
    if (!batch) this.pending.set(key, (batch = { env, bucketStart, toggles: new Map() }));
    for (const evaluation of evaluations) {
      let toggle = batch.toggles.get(evaluation.flag);
      if (!toggle) batch.toggles.set(evaluation.flag, (toggle = { yes: 0, no: 0, variants: new Map() }));
      if (evaluation.enabled) toggle.yes++;
      else toggle.no++;
      const variant = evaluation.variant.name;
      if (evaluation.variant.enabled) toggle.variants.set(variant, (toggle.variants.get(variant) ?? 0) + 1);
    }
  }

  /** Writes what was counted so far. Flushes run one at a time; a failed write is logged and its counts dropped. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      const batches = [...this.pending.values()];
      this.pending = new Map();
      for (const batch of batches) {
        try {
          await recordExposures(this.store, batch.env, { appName: APP_NAME, bucket: { toggles: asToggles(batch.toggles) } }, batch.bucketStart);
        } catch (err) {
          this.logger.warn({ env: batch.env, err: (err as Error).message }, 'server-side exposure counts could not be written; they are lost');
        }
      }
    });
    return this.flushing;
  }

  /** Stops the timer and writes the rest (called at shutdown, before the store closes). */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}

/** The counts in the SDK metrics shape; Object.fromEntries makes every name an own property, "__proto__" included. */
function asToggles(toggles: Map<string, ToggleCounts>): ClientMetrics['bucket']['toggles'] {
  return Object.fromEntries([...toggles].map(([flag, t]) => [flag, { yes: t.yes, no: t.no, variants: Object.fromEntries(t.variants) }]));
}
