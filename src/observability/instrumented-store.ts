import type { Registry } from 'prom-client';
import type { Commit, Store } from '../store/port.js';
import { ConflictError } from '../errors/app-error.js';
import { metricsOn } from './metric-factory.js';

/** Store round trips: sub-millisecond on loopback Redis, seconds when it is failing over. */
const STORE_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** The port's round trips, whose error series exist from the start at zero (so increase() sees the first error). */
const OPERATIONS = [
  'get',
  'list',
  'versions',
  'getMany',
  'commit',
  'feedHead',
  'readFeed',
  'readLog',
  'incrementCounters',
  'readCounters',
  'sumCounters',
  'addToSamples',
  'mergeSamples',
  'readSamples',
  'acquireLease',
  'releaseLease',
  'ping',
] satisfies Array<keyof Store>;

/** Calls that are not round trips: `follow` returns at once and runs its own loop. */
const NOT_TIMED = new Set<PropertyKey>(['follow', 'kind', 'constructor', 'then']);

export interface StoreInstrumentation {
  /** Told of every commit that landed, after it landed (e.g. to count the audit events it carried). */
  onCommitted?: (commit: Commit) => void;
}

export interface StoreMetrics {
  wrap(store: Store, instrumentation?: StoreInstrumentation): Store;
}

/**
 * Latency and errors of the store by operation. The decorator times every method of the port that
 * returns a promise, under the method's own name, so an operation added to the port later is
 * measured without a change here. A compare-and-set conflict is an answer, not a failure: it is
 * counted apart from errors, which mean the store did not do what it was asked (unreachable, timed
 * out, refused), the thing an operator is alerted on.
 */
export function storeMetrics(registry: Registry): StoreMetrics {
  const { counter, histogram } = metricsOn(registry);
  const duration = histogram(
    'rollout_controller_store_operation_duration_seconds',
    'Time the store took per operation (get, list, commit, feedHead, acquireLease, ping, ...), whatever its outcome.',
    STORE_BUCKETS,
    ['operation'],
  );
  const errors = counter(
    'rollout_controller_store_errors_total',
    'Store operations that failed (unreachable, timed out, refused), by operation. Compare-and-set conflicts are not errors.',
    ['operation'],
  );
  const conflicts = counter(
    'rollout_controller_store_conflicts_total',
    'Commits refused because a version, log position or fence had moved on (a racing writer or a lost lease); retried or given up by the caller.',
  );
  for (const operation of OPERATIONS) errors.inc({ operation }, 0);

  return {
    wrap(store, instrumentation = {}) {
      const wrappers = new Map<PropertyKey, (...args: unknown[]) => unknown>();
      const timed =
        (name: string) =>
        (...args: unknown[]) => {
          const stop = duration.startTimer({ operation: name });
          // Looked up at call time, so a test's spy on the store's method is still the one called.
          const method = Reflect.get(store, name) as (...a: unknown[]) => unknown;
          let result: unknown;
          try {
            result = method.apply(store, args);
          } catch (err) {
            stop();
            errors.inc({ operation: name });
            throw err;
          }
          if (!(result instanceof Promise)) {
            stop();
            return result;
          }
          return result.then(
            (value) => {
              stop();
              if (name === 'commit') instrumentation.onCommitted?.(args[0] as Commit);
              return value;
            },
            (err: unknown) => {
              stop();
              if (err instanceof ConflictError) conflicts.inc();
              else errors.inc({ operation: name });
              throw err;
            },
          );
        };
      return new Proxy(store, {
        get(target, prop) {
          // Read on the store itself, not the proxy, so its getters and private fields work as usual.
          const value = Reflect.get(target, prop);
          if (typeof value !== 'function' || typeof prop !== 'string' || NOT_TIMED.has(prop)) {
            return typeof value === 'function' ? value.bind(target) : value;
          }
          let wrapper = wrappers.get(prop);
          if (!wrapper) wrappers.set(prop, (wrapper = timed(prop)));
          return wrapper;
        },
      });
    },
  };
}
