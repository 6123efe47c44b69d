import type { Store } from '../store/port.js';
import { EXPOSURE_BUCKET_MS, recordExposures, type ClientMetrics } from '../metrics/exposures.js';
import { USER_SAMPLE_SIZE, USER_SAMPLE_TTL_SECONDS } from '../metrics/user-sample.js';
import type { Logger } from '../logger.js';
import type { Evaluation } from './evaluation.js';
import { UserSampler } from './user-sampler.js';

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
 * traffic and sample-ratio checks see browsers and OpenFeature apps too, and their users into the
 * same user samples the SDK helper's reports feed (src/metrics/user-sample.ts): the server sees each
 * context, so it counts users without any help from the application. Counting is in memory; a flush
 * every `intervalMs` writes one increment per environment and minute, and the users that entered
 * each sample (per flag, cohort and 10-second bucket) since the last flush (user-sampler.ts), not one
 * write per request. Counts keep the time they were made in, so a
 * flush that crosses a bucket boundary is still exact.
 */
export class ExposureBatcher {
  private pending = new Map<string, { env: string; bucketStart: number; toggles: Map<string, ToggleCounts> }>();
  private readonly users = new UserSampler();
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

  /** Counts evaluations; `userOf` gives the sample hash (as a number: hashValue) of the user an evaluation was for, when the flag sticks to one the context has. */
  count(env: string, evaluations: Iterable<Evaluation>, userOf?: (flag: string) => number | undefined): void {
    const at = this.now();
    const bucketStart = Math.floor(at / EXPOSURE_BUCKET_MS) * EXPOSURE_BUCKET_MS;
    const key = `${env}\u0000${bucketStart}`;
    let batch = this.pending.get(key);
    if (!batch) this.pending.set(key, (batch = { env, bucketStart, toggles: new Map() }));
    const samples = this.users.bucket(env, at);
    for (const evaluation of evaluations) {
      let toggle = batch.toggles.get(evaluation.flag);
      if (!toggle) batch.toggles.set(evaluation.flag, (toggle = { yes: 0, no: 0, variants: new Map() }));
      if (evaluation.enabled) toggle.yes++;
      else toggle.no++;
      const variant = evaluation.variant.name;
      if (evaluation.variant.enabled) toggle.variants.set(variant, (toggle.variants.get(variant) ?? 0) + 1);
      const user = userOf?.(evaluation.flag);
      if (user !== undefined) samples.add(evaluation.flag, evaluation.cohort, user);
    }
  }

  /** Writes what was counted so far. Flushes run one at a time; a failed write is logged and its counts dropped. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      const batches = [...this.pending.values()];
      const users = this.users.drain(this.now());
      this.pending = new Map();
      for (const batch of batches) {
        try {
          await recordExposures(this.store, batch.env, { appName: APP_NAME, bucket: { toggles: asToggles(batch.toggles) } }, batch.bucketStart);
        } catch (err) {
          this.logger.warn({ env: batch.env, err: (err as Error).message }, 'server-side exposure counts could not be written; they are lost');
        }
      }
      if (users.length === 0) return;
      try {
        await this.store.addToSamples(users, USER_SAMPLE_SIZE, USER_SAMPLE_TTL_SECONDS);
      } catch (err) {
        this.logger.warn({ err: (err as Error).message }, 'users of server-side evaluations could not be written; they are lost');
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
