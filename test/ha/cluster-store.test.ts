import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../../src/store/errors.js';
import { createRedisStore } from '../../src/store/redis-store.js';
import { redisFixture, storeContract } from '../store/contract.js';
import { command, Topology } from './topology.js';

/**
 * The store's whole contract suite on a three-master Redis Cluster: every script (EVALSHA routed by
 * its keys), MULTI, the follower's blocking XREAD via call(), trimming and leases work when the
 * deployment's keys live on one node of several.
 */
const topology = new Topology();
let url = '';
let ports: number[] = [];

beforeAll(async () => {
  const cluster = await topology.cluster(3);
  url = cluster.url;
  ports = cluster.nodes.map((n) => n.port);
}, 60_000);
afterAll(() => topology.stop());

storeContract('redis cluster', async ({ feedMaxLen }) => {
  const prefix = `c-${randomUUID().slice(0, 8)}`;
  return redisFixture(() => createRedisStore(url, prefix, { feedMaxLen }));
});

describe('redis cluster specifics', () => {
  it('keeps a deployment on one node: every key of a prefix is in the same slot', async () => {
    const prefix = `slot-${randomUUID().slice(0, 8)}`;
    const store = await createRedisStore(url, prefix);
    await store.commit({ puts: [{ collection: 'flags', id: 'a', value: 1 }], appends: [{ log: 'audit', seq: 1, entry: 1 }] });
    await store.incrementCounters('b', { n: 1 }, 60);
    await store.acquireLease('l', 'me', 10_000);
    const holders = await Promise.all(ports.map(async (port) => ({ port, keys: ((await command(port, 'KEYS', `{${prefix}}:*`)) as string[]).sort() })));
    const withKeys = holders.filter((h) => h.keys.length > 0);
    expect(withKeys).toHaveLength(1);
    expect(withKeys[0]!.keys).toEqual([
      `{${prefix}}:ctr:b`,
      `{${prefix}}:doc:flags`,
      `{${prefix}}:feed`,
      `{${prefix}}:feedseq`,
      `{${prefix}}:fence:l`,
      `{${prefix}}:lease:l`,
      `{${prefix}}:log:audit`,
      `{${prefix}}:ver:flags`,
    ]);
    expect(store.topology.kind).toBe('cluster');
    await store.close();
  });
});

describe('WAIT on a Cluster with replicas', () => {
  const replicated = new Topology();
  afterAll(() => replicated.stop());

  it('asks the node that owns the deployment: only its replica can confirm a write', async () => {
    const { nodes, url: clusterUrl } = await replicated.cluster(3, 1);
    const prefix = `w-${randomUUID().slice(0, 8)}`;
    const store = await createRedisStore(clusterUrl, prefix, { waitReplicas: 1, waitTimeoutMs: 2_000 });
    try {
      const put = (n: number) => store.commit({ puts: [{ collection: 'flags', id: 'a', value: n }] });
      expect((await put(1)).versions).toEqual({ 'flags/a': 1 });
      const owner = await replicated.slotOwner(nodes[0]!.port, `{${prefix}}:feed`);
      expect(owner.replicas).toHaveLength(1);
      const replica = nodes.find((n) => n.port === owner.replicas[0])!;
      // Every other master still has its replica: a WAIT sent to any of them would be confirmed.
      replica.process.kill('SIGSTOP');
      let refused: unknown;
      try {
        refused = await put(2).then(
          () => undefined,
          (err: unknown) => err,
        );
      } finally {
        replica.process.kill('SIGCONT');
      }
      expect(refused).toBeInstanceOf(StoreUnavailableError);
      expect((refused as StoreUnavailableError).kind).toBe('unavailable');
      expect((refused as Error).message).toMatch(/only 0 of the 1 replica/);
      // Applied on the primary all the same (WAIT does not undo), and confirmed again once the replica is back.
      expect((await store.get('flags', 'a'))?.version).toBe(2);
      expect((await put(3)).versions).toEqual({ 'flags/a': 3 });
    } finally {
      await store.close();
    }
  }, 60_000);
});
