import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { RolloutChange } from '../rollouts/rollout-writer.js';
import type { TickReport } from '../rollouts/rollout-loop.js';
import type { RouteSpec } from '../http/route.js';
import type { Store } from '../store/port.js';
import { httpMetrics, type HttpMetrics } from './http-metrics.js';
import { storeMetrics } from './instrumented-store.js';
import { metricsRoutes } from './metrics-route.js';
import { replicaMetrics, type ReplicaSources } from './replica-metrics.js';
import { rolloutMetrics } from './rollout-metrics.js';

/**
 * Everything a controller exports to Prometheus, on a registry of its own rather than prom-client's
 * global one: tests run several controllers in one process, and each must report only itself.
 * Counters of events (kills, approvals, gate results, transitions) count what this replica
 * committed, so summing them over replicas counts each event once; gauges read from the store
 * (rollouts by state) are the same on every replica and are aggregated with max.
 */
export class Observability {
  readonly registry = new Registry();
  readonly http: HttpMetrics;
  private readonly store = storeMetrics(this.registry);
  private readonly rollouts = rolloutMetrics(this.registry);
  private replica: ReturnType<typeof replicaMetrics> | undefined;

  constructor(opts: { version: string }) {
    collectDefaultMetrics({ register: this.registry });
    this.http = httpMetrics(this.registry);
    new Gauge({
      name: 'rollout_controller_build_info',
      help: 'Always 1; the controller version as a label.',
      labelNames: ['version'] as const,
      registers: [this.registry],
    }).set({ version: opts.version }, 1);
  }

  /** The store with its latency and errors measured, and its commits told to the event counters. */
  instrumentStore(store: Store): Store {
    return this.store.wrap(store, { onCommitted: (commit) => this.rollouts.committed(commit) });
  }

  watchRollouts(service: { onChange(listener: (change: RolloutChange) => void): () => void }): void {
    service.onChange((change) => this.rollouts.changed(change));
  }

  watchReplica(sources: ReplicaSources): void {
    this.replica = replicaMetrics(this.registry, sources);
  }

  watchLoop(loop: { readonly isLeader: boolean }): void {
    this.replica?.watchLoop(loop);
  }

  /** For the rollout loop's onTick option. */
  readonly ticked = (report: TickReport): void => this.rollouts.ticked(report);

  routes(metricsToken: string | undefined): RouteSpec[] {
    return metricsRoutes(this.registry, metricsToken);
  }

  close(): void {
    this.replica?.close();
  }
}
