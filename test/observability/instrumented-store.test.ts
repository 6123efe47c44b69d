import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { storeMetrics } from '../../src/observability/instrumented-store.js';
import { ConflictError, openEmbeddedStore, type Commit, type Store } from '../../src/store/index.js';
import { parseMetrics } from './scrape.js';

const stores: Store[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
});

/** A real embedded store, so the decorator is tested on the port's real behaviour. */
async function embeddedStore(): Promise<Store> {
  const store = await openEmbeddedStore(mkdtempSync(path.join(os.tmpdir(), 'rc-obs-store-')));
  stores.push(store);
  return store;
}

/** A store whose Redis went away: every round trip fails, as ioredis fails them. */
function unreachableStore(): Store {
  const refused = () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:6379'));
  return {
    kind: 'redis',
    get: refused,
    list: refused,
    versions: refused,
    getMany: refused,
    commit: refused,
    feedHead: refused,
    readFeed: refused,
    follow: () => () => {},
    readLog: refused,
    incrementCounters: refused,
    readCounters: refused,
    sumCounters: refused,
    addToSamples: refused,
    mergeSamples: refused,
    readSamples: refused,
    acquireLease: refused,
    releaseLease: refused,
    ping: refused,
    close: async () => {},
  };
}

async function read(registry: Registry) {
  return parseMetrics(await registry.metrics());
}

const put = (id: string, expectVersion?: number): Commit => ({ puts: [{ collection: 'things', id, value: { id }, expectVersion }] });

describe('instrumented store', () => {
  it('counts failures of an unreachable store by operation, and times them', async () => {
    const registry = new Registry();
    const store = storeMetrics(registry).wrap(unreachableStore());
    await expect(store.ping()).rejects.toThrow('ECONNREFUSED');
    await expect(store.ping()).rejects.toThrow('ECONNREFUSED');
    await expect(store.commit(put('a'))).rejects.toThrow('ECONNREFUSED');
    await expect(store.acquireLease('rollout-leader', 'me', 1000)).rejects.toThrow('ECONNREFUSED');
    const metrics = await read(registry);
    expect(metrics.value('rollout_controller_store_errors_total', { operation: 'ping' })).toBe(2);
    expect(metrics.value('rollout_controller_store_errors_total', { operation: 'commit' })).toBe(1);
    expect(metrics.value('rollout_controller_store_errors_total', { operation: 'acquireLease' })).toBe(1);
    expect(metrics.value('rollout_controller_store_errors_total', { operation: 'get' })).toBe(0);
    expect(metrics.value('rollout_controller_store_operation_duration_seconds_count', { operation: 'ping' })).toBe(2);
    expect(metrics.value('rollout_controller_store_conflicts_total')).toBe(0);
  });

  it('a compare-and-set conflict is a conflict, not an error, and is not reported as committed', async () => {
    const registry = new Registry();
    const committed: Commit[] = [];
    const store = storeMetrics(registry).wrap(await embeddedStore(), { onCommitted: (c) => committed.push(c) });
    const first = put('doc', 0);
    await store.commit(first);
    await expect(store.commit(put('doc', 0))).rejects.toBeInstanceOf(ConflictError);
    const metrics = await read(registry);
    expect(metrics.value('rollout_controller_store_conflicts_total')).toBe(1);
    expect(metrics.value('rollout_controller_store_errors_total', { operation: 'commit' })).toBe(0);
    expect(metrics.value('rollout_controller_store_operation_duration_seconds_count', { operation: 'commit' })).toBe(2);
    expect(committed).toEqual([first]);
  });

  it('answers exactly what the store answers; follow and kind pass through untimed', async () => {
    const registry = new Registry();
    const inner = await embeddedStore();
    const store = storeMetrics(registry).wrap(inner);
    expect(store.kind).toBe(inner.kind);
    const { versions } = await store.commit(put('x'));
    expect(versions['things/x']).toBe(1);
    expect(await store.get('things', 'x')).toEqual(await inner.get('things', 'x'));
    const seen: number[] = [];
    const stop = store.follow(
      0,
      (entries) => seen.push(...entries.map((e) => e.seq)),
      () => {},
    );
    await vi.waitFor(() => expect(seen.length).toBeGreaterThan(0));
    stop();
    const metrics = await read(registry);
    expect(metrics.value('rollout_controller_store_operation_duration_seconds_count', { operation: 'get' })).toBe(1);
    expect(metrics.samples.some((s) => s.labels.operation === 'follow' || s.labels.operation === 'kind')).toBe(false);
  });

  it('a spy put on the instrumented store later is the method called (tests spy on controller.store)', async () => {
    const registry = new Registry();
    const store = storeMetrics(registry).wrap(await embeddedStore());
    const spy = vi.spyOn(store, 'readCounters');
    await store.readCounters('bucket');
    expect(spy).toHaveBeenCalledWith('bucket');
    expect((await read(registry)).value('rollout_controller_store_operation_duration_seconds_count', { operation: 'readCounters' })).toBe(1);
  });
});
