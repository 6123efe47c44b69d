import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createRedisStore } from '../../src/store/redis-store.js';
import { redisFixture, storeContract, type MakeStore } from './contract.js';
import { sampleContract } from './sample-contract.js';

const url = inject('redisUrl');
const admin = new Redis(url, { lazyConnect: true });
afterAll(async () => {
  await admin.quit().catch(() => admin.disconnect());
});

/** Each fixture gets a fresh prefix, so tests share one server without seeing each other's keys. */
const makeRedis: MakeStore = async ({ feedMaxLen }) => {
  const prefix = `t-${randomUUID().slice(0, 8)}`;
  return redisFixture(
    () => createRedisStore(url, prefix, { feedMaxLen }),
    async () => {
      const keys = await admin.keys(`{${prefix}}:*`);
      if (keys.length) await admin.del(...keys);
    },
  );
};
storeContract('redis', makeRedis);
sampleContract('redis', makeRedis);

describe('redis store specifics', () => {
  it('keeps every key under the {prefix} hash tag', async () => {
    const prefix = `t-${randomUUID().slice(0, 8)}`;
    const store = await createRedisStore(url, prefix);
    await store.commit({ puts: [{ collection: 'c', id: 'x', value: 1 }], appends: [{ log: 'audit', seq: 1, entry: 1 }] });
    await store.incrementCounters('b', { n: 1 }, 60);
    await store.acquireLease('l', 'me', 10_000);
    const keys = (await admin.keys(`*${prefix}*`)).sort();
    expect(keys).toEqual([
      `{${prefix}}:ctr:b`,
      `{${prefix}}:doc:c`,
      `{${prefix}}:feed`,
      `{${prefix}}:feedseq`,
      `{${prefix}}:fence:l`,
      `{${prefix}}:lease:l`,
      `{${prefix}}:log:audit`,
      `{${prefix}}:ver:c`,
    ]);
    await store.close();
    await store.close(); // idempotent
    await admin.del(...keys);
  });

  it('keeps following through a dropped connection', async () => {
    const prefix = `t-${randomUUID().slice(0, 8)}`;
    const store = await createRedisStore(url, prefix);
    const got: number[] = [];
    const stop = store.follow(
      0,
      (entries) => got.push(...entries.map((e) => e.seq)),
      () => {},
    );
    await store.commit({ puts: [{ collection: 'c', id: 'x', value: 1 }] });
    await until(() => got.length === 1);
    // Kill the follower's connection server-side; it must reconnect and resume where it was.
    const clients = (await admin.client('LIST')) as string;
    const followers = clients.split('\n').filter((l) => l.includes('cmd=xread'));
    expect(followers.length).toBeGreaterThan(0);
    for (const line of followers) await admin.client('KILL', 'ID', line.match(/id=(\d+)/)![1]!);
    await store.commit({ puts: [{ collection: 'c', id: 'x', value: 2 }] });
    await until(() => got.length === 2, 5000);
    expect(got).toEqual([1, 2]);
    stop();
    await store.close();
  });

  it('fails to connect to a server that is not there', async () => {
    await expect(createRedisStore('redis://127.0.0.1:1', 'nothing')).rejects.toThrow();
  });
});

async function until(cond: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
