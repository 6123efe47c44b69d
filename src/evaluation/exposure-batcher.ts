import type { SampleAdd, Store } from '../store/port.js';
import { recordExposures, type ClientMetrics } from '../metrics/exposures.js';
import { USER_SAMPLE_SIZE, USER_SAMPLE_TTL_SECONDS } from '../metrics/user-sample.js';
import type { Logger } from '../logger.js';
import type { Evaluation } from './evaluation.js';
import { type CountedExposures, EnvironmentTally, takeFresh } from './exposure-tally.js';

/** The most user hashes sent to the store in one write. */
const SAMPLE_WRITE_MEMBERS = 10_000;

/** Names the source of these counts where a person looks (the SDKs name themselves by appName). */
const APP_NAME = 'server-side-evaluation';

/** The sample hash (a number: hashValue) of the user an evaluation was for, when the flag sticks to one the context has. */
export type UserOf = (flag: string, index: number) => number | undefined;

/**
 * Counts server-side evaluations into the same exposure counters the SDKs' metrics feed, so the
 * traffic and sample-ratio checks see browsers and OpenFeature apps too, and their users into the
 * same user samples the SDK helper's reports feed (src/metrics/user-sample.ts): the server sees each
 * context, so it counts users without any help from the application. Counting is in memory
 * (exposure-tally.ts); a flush every `intervalMs` writes one increment per environment and minute,
 * and the users that entered each sample (per flag, cohort and 10-second bucket) since the last
 * flush, not one write per request. Counts keep the time they were made in, so a flush that crosses
 * a bucket boundary is still exact.
 */
export class ExposureBatcher {
  private readonly tallies = new Map<string, EnvironmentTally>();
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

  private tallyAt(env: string): EnvironmentTally {
    let tally = this.tallies.get(env);
    if (!tally) this.tallies.set(env, (tally = new EnvironmentTally(env)));
    tally.at(this.now());
    return tally;
  }

  /** Counts evaluations of any flags. */
  count(env: string, evaluations: Iterable<Evaluation>, userOf?: UserOf): void {
    const tally = this.tallyAt(env);
    let index = 0;
    for (const evaluation of evaluations) EnvironmentTally.count(tally.tallyOf(evaluation.flag), evaluation, userOf?.(evaluation.flag, index++));
  }

  /** Counts one evaluation of every flag of `flags` (an engine's flagNames), in that order: evaluateAll's answer. */
  countAll(env: string, flags: readonly string[], evaluations: readonly Evaluation[], userOf?: UserOf): void {
    const records = this.tallyAt(env).talliesOf(flags);
    for (let i = 0; i < evaluations.length; i++) EnvironmentTally.count(records[i]!, evaluations[i]!, userOf?.(flags[i]!, i));
  }

  /** Writes what was counted so far. Flushes run one at a time; a failed write is logged and its counts dropped. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      const drained = [...this.tallies.values()].map((t) => t.drain());
      for (const [key, counts] of byMinute(drained.flatMap((d) => d.counts))) {
        const { env, bucketStart } = counts[0]!;
        try {
          await recordExposures(this.store, env, { appName: APP_NAME, bucket: { toggles: asToggles(counts) } }, bucketStart);
        } catch (err) {
          this.logger.warn({ env, err: (err as Error).message, key }, 'server-side exposure counts could not be written; they are lost');
        }
      }
      // Users in writes of at most SAMPLE_WRITE_MEMBERS members: a busy bucket churns hundreds of
      // thousands, and one command of them all would hold the event loop (and every request) for its building.
      let adds: SampleAdd[] = [];
      let members = 0;
      const write = async () => {
        const batch = adds;
        adds = [];
        members = 0;
        try {
          await this.store.addToSamples(batch, USER_SAMPLE_SIZE, USER_SAMPLE_TTL_SECONDS);
        } catch (err) {
          this.logger.warn({ err: (err as Error).message }, 'users of server-side evaluations could not be written; they are lost');
        }
      };
      for (const pending of drained.flatMap((d) => d.samples)) {
        const add = takeFresh(pending);
        if (!add) continue;
        adds.push(add);
        members += add.members.length;
        if (members >= SAMPLE_WRITE_MEMBERS) await write();
      }
      if (adds.length > 0) await write();
    });
    return this.flushing;
  }

  /** Stops the timer and writes the rest (called at shutdown, before the store closes). */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}

/** Counts grouped per environment and minute, in the order they were counted. */
function byMinute(counts: CountedExposures[]): Map<string, CountedExposures[]> {
  const groups = new Map<string, CountedExposures[]>();
  for (const c of counts) {
    const key = `${c.env}\u0000${c.bucketStart}`;
    let group = groups.get(key);
    if (!group) groups.set(key, (group = []));
    group.push(c);
  }
  return groups;
}

/** The counts in the SDK metrics shape, one entry per flag; Object.fromEntries makes every name an own property, "__proto__" included. */
function asToggles(counts: CountedExposures[]): ClientMetrics['bucket']['toggles'] {
  const byFlag = new Map<string, { yes: number; no: number; variants: Map<string, number> }>();
  for (const c of counts) {
    const sum = byFlag.get(c.flag) ?? { yes: 0, no: 0, variants: new Map<string, number>() };
    sum.yes += c.yes;
    sum.no += c.no;
    for (const [name, n] of c.variants) sum.variants.set(name, (sum.variants.get(name) ?? 0) + n);
    byFlag.set(c.flag, sum);
  }
  return Object.fromEntries([...byFlag].map(([flag, t]) => [flag, { yes: t.yes, no: t.no, variants: Object.fromEntries(t.variants) }]));
}
