import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Logger } from '../logger.js';
import type { SdkFetch } from '../rollouts/traffic-window.js';
import type { Store } from '../store/port.js';
import { counterFields, HOLDINGS_TTL_SECONDS, HoldingsRecorder, namesText } from './sdk-holdings.js';
import type { ServingState } from './serving-state.js';

/**
 * Which SDK instance fetched which flag state, and when: what tells the controller that the SDKs
 * have a step (src/rollouts/traffic-window.ts). Every replica notes each poll (full payload, delta),
 * each stream it opens, each update it pushes and each heartbeat, with the revision (change-feed
 * position) the SDK then holds, and writes what it noted once a second: one counter field per
 * instance and revision in 5-second buckets per environment, kept a quarter of an hour (the window
 * the rule looks at).
 *
 * Instances are named by a hash of the `unleash-appname`, `unleash-instanceid` and
 * `unleash-connection-id` headers the stock SDKs send: bounded in size whatever they hold, and no
 * application names in the store's keys. The connection id tells apart two SDK clients that share
 * an instance id (the stock default is user and host name, the same for every worker of a host).
 *
 * The first fetch of a revision by an instance in a bucket is also told to the holdings recorder
 * (sdk-holdings.ts), which records when each instance got each revision, that it was seen (once a
 * minute) with its names, and when its stream closed: what the propagation view and drills read
 * (src/propagation/).
 */

export const FETCH_BUCKET_MS = 5_000;
const FETCH_TTL_SECONDS = 15 * 60;
/** Instance-and-revision pairs noted per environment and bucket between writes; more are dropped and counted. */
const MAX_PENDING = 50_000;
/** Instance names remembered, so the hash is not taken on every poll. */
const MAX_NAMES = 10_000;

export function fetchBucketKey(environment: string, bucketStart: number): string {
  return `fetches:${environment}:${bucketStart}`;
}

function header(headers: IncomingHttpHeaders, name: string): string {
  const value = headers[name];
  return (Array.isArray(value) ? value[0] : value) ?? '';
}

export class SdkFetchRecorder {
  /** `${env}\u0000${bucketStart}` → `${instance}\t${revision}` → fetches. */
  private pending = new Map<string, Map<string, number>>();
  /** Connection id (or app name and instance id, without one) → the names and the instance they hash to. */
  private names = new Map<string, { appName: string; instanceId: string; instance: string }>();
  /** Instance → its names as holdings records end (namesText), made once: the other way round from `names`, as big. */
  private labels = new Map<string, string>();
  private readonly holdings = new HoldingsRecorder((instance) => this.labels.get(instance));
  private dropped = 0;
  private readonly timer: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Store,
    private readonly now: () => number,
    private readonly logger: Logger,
    flushMs = 1_000,
  ) {
    this.timer = setInterval(() => void this.flush(), flushMs);
    this.timer.unref();
  }

  /** The instance a request comes from, from the headers the stock SDKs send. */
  instanceOf(headers: IncomingHttpHeaders): string {
    return this.instanceNamed(header(headers, 'unleash-appname'), header(headers, 'unleash-instanceid'), header(headers, 'unleash-connection-id'));
  }

  /** The instance with these names (a registration names itself in its body as well as in its headers). */
  instanceNamed(appName: string, instanceId: string, connectionId: string): string {
    // Looked up by the connection id alone (unique per SDK client) when there is one: this runs on
    // every poll, and a short key is hashed faster than the three names joined.
    const key = connectionId || `${appName}\u0000${instanceId}`;
    const known = this.names.get(key);
    if (known && known.appName === appName && known.instanceId === instanceId) return known.instance;
    if (this.names.size >= MAX_NAMES) {
      this.names.clear();
      this.labels.clear();
    }
    const instance = createHash('sha256').update(`${appName}\u0000${instanceId}\u0000${connectionId}`).digest('hex').slice(0, 16);
    this.names.set(key, { appName, instanceId, instance });
    this.labels.set(instance, namesText({ appName, instanceId, connectionId }));
    return instance;
  }

  /** Notes that `instance` now holds the state at `revision` in `env` (a poll answered, a stream opened or updated). */
  note(env: string, instance: string, revision: number): void {
    const now = this.now();
    const bucket = Math.floor(now / FETCH_BUCKET_MS) * FETCH_BUCKET_MS;
    const key = `${env}\u0000${bucket}`;
    let fields = this.pending.get(key);
    if (!fields) this.pending.set(key, (fields = new Map()));
    const field = `${instance}\t${revision}`;
    const seen = fields.get(field);
    if (seen === undefined) {
      if (fields.size >= MAX_PENDING) {
        this.dropped++;
        return;
      }
      this.holdings.saw(env, instance, revision, now);
    }
    fields.set(field, (seen ?? 0) + 1);
  }

  /** A stream opened: noted as a fetch, and as a sign of life even when the revision is one the instance had. */
  opened(env: string, instance: string, revision: number): void {
    this.holdings.saw(env, instance, revision, this.now(), true);
    this.note(env, instance, revision);
  }

  /** A stream closed: its instance is gone unless it is seen again (it reconnects, or polls). */
  closed(env: string, instance: string): void {
    this.holdings.closed(env, instance, this.now());
  }

  /** An SDK registered: known (and named) before it fetched anything. */
  registered(env: string, instance: string): void {
    this.holdings.saw(env, instance, undefined, this.now());
  }

  /** Writes what was noted. One write at a time; a failed one is logged and its notes lost (the rule then waits its longest). */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      const batches = this.pending;
      this.pending = new Map();
      const held = this.holdings.take();
      const dropped = this.dropped;
      this.dropped = 0;
      if (dropped > 0) this.logger.warn({ dropped }, `${dropped} SDK fetches were not recorded: more than ${MAX_PENDING} SDK instances in a few seconds`);
      for (const [key, fields] of batches) {
        const [env, bucket] = key.split('\u0000') as [string, string];
        try {
          await this.store.incrementCounters(fetchBucketKey(env, Number(bucket)), counterFields(fields), FETCH_TTL_SECONDS);
        } catch (err) {
          this.logger.warn({ env, err: (err as Error).message }, 'SDK fetches could not be recorded; steps wait their longest for them');
        }
      }
      for (const { key, fields } of held) {
        try {
          await this.store.incrementCounters(key, fields, HOLDINGS_TTL_SECONDS);
        } catch (err) {
          this.logger.warn({ err: (err as Error).message }, 'which SDK instance holds which flag state could not be recorded; propagation shows them pending');
        }
      }
    });
    return this.flushing;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}

/** The buckets that cover [from, to) (ms): their starts, to read with readFetches. */
export function fetchBuckets(from: number, to: number): number[] {
  const starts: number[] = [];
  for (let t = Math.floor(from / FETCH_BUCKET_MS) * FETCH_BUCKET_MS; t < to; t += FETCH_BUCKET_MS) starts.push(t);
  return starts;
}

/** The fetches recorded in `env` in the buckets starting at `starts`, each at the end of its bucket. */
export async function readFetches(store: Pick<Store, 'sumCounters'>, env: string, starts: readonly number[]): Promise<SdkFetch[]> {
  if (starts.length === 0) return [];
  const sums = await store.sumCounters(starts.map((t) => [fetchBucketKey(env, t)]));
  const fetches: SdkFetch[] = [];
  sums.forEach((fields, i) => {
    for (const field in fields) {
      const tab = field.lastIndexOf('\t');
      const revision = Number(field.slice(tab + 1));
      if (tab > 0 && Number.isFinite(revision)) fetches.push({ instance: field.slice(0, tab), revision, at: starts[i]! + FETCH_BUCKET_MS });
    }
  });
  return fetches;
}

/**
 * The revision from which SDKs hold a rollout's current step: the flag's revision on this replica,
 * once this replica serves the step itself (its strategy at the rollout's percentage). Undefined
 * before that (the step's commit has not reached this replica yet) or when the flag is gone.
 */
export function stepRevision(state: ServingState, r: { flag: string; environment: string; strategyId: string; percentage: number }): number | undefined {
  const strategy = state.getFlag(r.flag)?.environments[r.environment]?.strategies.find((s) => s.id === r.strategyId);
  if (!strategy || Number(strategy.parameters?.rollout) !== r.percentage) return undefined;
  return state.flagRevision(r.flag);
}
