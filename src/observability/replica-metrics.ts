import { Gauge, type Registry } from 'prom-client';
import { ROLLOUT_STATES, ROLLOUTS, type RolloutState } from '../rollouts/rollout-model.js';
import type { RolloutRecord } from '../rollouts/rollout-docs.js';
import type { Store } from '../store/port.js';
import { FeedFreshness } from './freshness.js';
import { sampled } from './sampled.js';

/** The feed head is read at most once a second, whoever scrapes and however often. */
const HEAD_SAMPLE_MS = 1_000;
/** Rollouts by state come from listing every rollout: cached a few seconds, as scrapes come every 15 s or so. */
const ROLLOUT_SAMPLE_MS = 5_000;
/** A scrape waits no longer than this for the store before answering with what it has. */
const SCRAPE_WAIT_MS = 500;

/** What this replica is, read when Prometheus scrapes. */
export interface ReplicaSources {
  store: Store;
  /** The serving state: the feed position it has applied and a way to hear when its flags change. */
  state: { readonly seq: number; onChange(listener: () => void): () => void };
  streams: () => number;
  storeUp: () => boolean;
  /** False while this replica knows the store lost data (see src/store-loss/). */
  storeIntact?: () => boolean;
  now: () => number;
}

/** Gauges read at scrape time from the replica and (sparingly) from the store. */
export function replicaMetrics(registry: Registry, sources: ReplicaSources): { watchLoop(loop: { readonly isLeader: boolean }): void; close(): void } {
  const { store, state, now } = sources;
  const freshness = new FeedFreshness(now());
  let snapshotChangedAt = now();
  const unsubscribe = state.onChange(() => (snapshotChangedAt = now()));
  let loop: { readonly isLeader: boolean } | undefined;

  const sampleHead = sampled(
    async () => {
      const at = now();
      freshness.sampled(await store.feedHead(), at);
    },
    { maxAgeMs: HEAD_SAMPLE_MS, waitMs: SCRAPE_WAIT_MS, now },
  );
  // A rollout's record is fetched only when its version moved: finished rollouts pile up over
  // months, and reading all of them every few seconds would be most of this gauge's cost.
  const stateByVersion = new Map<string, { version: number; state: RolloutState }>();
  const sampleRollouts = sampled(
    async () => {
      const versions = await store.versions(ROLLOUTS);
      for (const id of stateByVersion.keys()) if (!versions.has(id)) stateByVersion.delete(id);
      const moved = [...versions].filter(([id, version]) => stateByVersion.get(id)?.version !== version).map(([id]) => id);
      for (const doc of await store.getMany<RolloutRecord>(ROLLOUTS, moved)) stateByVersion.set(doc.id, { version: doc.version, state: doc.value.state });
      const counts = new Map<RolloutState, number>(ROLLOUT_STATES.map((s) => [s, 0]));
      for (const { state } of stateByVersion.values()) counts.set(state, (counts.get(state) ?? 0) + 1);
      return counts;
    },
    { maxAgeMs: ROLLOUT_SAMPLE_MS, waitMs: SCRAPE_WAIT_MS, now },
  );

  const gauge = (name: string, help: string, collect: (this: Gauge) => void | Promise<void>) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect(this: Gauge) {
        return collect.call(this);
      },
    });

  gauge('rollout_controller_streams_open', 'Streaming (SSE) connections open on this replica.', function () {
    this.set(sources.streams());
  });
  gauge('rollout_controller_leader', '1 while this replica holds the controller lease (runs the rollouts), 0 otherwise.', function () {
    this.set(loop?.isLeader ? 1 : 0);
  });
  gauge('rollout_controller_store_up', '1 while the store answers this replica (its readiness check), 0 while it does not.', function () {
    this.set(sources.storeUp() ? 1 : 0);
  });
  gauge(
    'rollout_controller_store_intact',
    '0 while this replica knows the store lost data (it serves its last snapshot and refuses writes), 1 otherwise.',
    function () {
      this.set(sources.storeIntact?.() === false ? 0 : 1);
    },
  );
  gauge(
    'rollout_controller_snapshot_age_seconds',
    'Seconds since the flag snapshot this replica serves last changed (a change applied from the feed, or a load).',
    function () {
      this.set((now() - snapshotChangedAt) / 1000);
    },
  );
  gauge(
    'rollout_controller_snapshot_version_lag',
    'Change-feed entries this replica has not applied yet: the feed head (sampled at most once a second) minus the position it serves.',
    async function () {
      await sampleHead();
      this.set(freshness.lag(state.seq));
    },
  );
  gauge(
    'rollout_controller_snapshot_stale_seconds',
    'Seconds since this replica was last known to serve the latest change: 0 when current, growing while it is behind or cannot read the feed head.',
    async function () {
      await sampleHead();
      this.set(freshness.staleSeconds(state.seq, now()));
    },
  );
  new Gauge({
    name: 'rollout_controller_rollouts',
    help: 'Rollouts in the store by state (the same on every replica: aggregate with max, not sum). Read at most every 5 s.',
    labelNames: ['state'] as const,
    registers: [registry],
    async collect() {
      const counts = await sampleRollouts();
      if (counts) for (const [state, n] of counts) this.set({ state }, n);
    },
  });

  return {
    watchLoop: (watched) => void (loop = watched),
    close: unsubscribe,
  };
}
