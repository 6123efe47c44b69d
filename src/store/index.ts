import { openEmbeddedReader } from './embedded-reader.js';
import { openEmbeddedStore, type EmbeddedStoreOptions } from './embedded-store.js';
import type { Store, StoreReader } from './port.js';
import { createRedisStore } from './redis-store.js';

export type * from './port.js';
export { ConflictError, StoreUnavailableError } from './errors.js';
export { RedisStore, createRedisStore, type RedisStoreOptions } from './redis-store.js';
export { describeTopology, parseRedisUrl, type RedisTopology } from './redis-connection.js';
export { openEmbeddedStore, type EmbeddedStoreOptions, type RepairReport } from './embedded-store.js';

export interface OpenStoreOptions {
  /** When set, use Redis (any number of replicas); otherwise the embedded single-process store. */
  redisUrl?: string;
  /** Directory of the embedded store; ignored with Redis. */
  dataDir: string;
  /** Key prefix (deployment name) in Redis; ignored by the embedded store. */
  prefix: string;
  /** Change-feed retention, for both implementations. */
  feedMaxLen?: number;
  /** Redis only: replicas that must confirm each commit and lease grant (WAIT), and for how long to wait. */
  waitReplicas?: number;
  waitTimeoutMs?: number;
  /** Embedded only: open a damaged directory anyway, and what to tell whom (EmbeddedStoreOptions). */
  repair?: boolean;
  onRepair?: EmbeddedStoreOptions['onRepair'];
  warn?: EmbeddedStoreOptions['warn'];
}

export async function openStore(opts: OpenStoreOptions): Promise<Store> {
  if (opts.redisUrl) {
    return createRedisStore(opts.redisUrl, opts.prefix, {
      feedMaxLen: opts.feedMaxLen,
      waitReplicas: opts.waitReplicas,
      waitTimeoutMs: opts.waitTimeoutMs,
    });
  }
  return openEmbeddedStore(opts.dataDir, { feedMaxLen: opts.feedMaxLen, repair: opts.repair, onRepair: opts.onRepair, warn: opts.warn });
}

/**
 * The store as a read-only reader. Redis: the ordinary client, of which only plain reads are handed
 * out (GET, HGET, HMGET, HGETALL), so it may run against a live deployment or a replica; embedded:
 * the files read without the lock, beside the controller that owns them.
 */
export async function openStoreReader(opts: Pick<OpenStoreOptions, 'redisUrl' | 'dataDir' | 'prefix'>): Promise<StoreReader> {
  if (!opts.redisUrl) return openEmbeddedReader(opts.dataDir);
  const store = await createRedisStore(opts.redisUrl, opts.prefix);
  return {
    kind: store.kind,
    get: (collection, id) => store.get(collection, id),
    list: (collection) => store.list(collection),
    versions: (collection) => store.versions(collection),
    getMany: (collection, ids) => store.getMany(collection, ids),
    readCounters: (bucket) => store.readCounters(bucket),
    close: () => store.close(),
  };
}
