import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { TokenIndex } from '../../src/auth/token-index.js';
import { FLAGS } from '../../src/flags/collections.js';
import { createLogger } from '../../src/logger.js';
import { FeedFollower } from '../../src/serving/feed-follower.js';
import { ServingState } from '../../src/serving/serving-state.js';
import type { FeedEntry, Store } from '../../src/store/port.js';
import { createRedisStore } from '../../src/store/redis-store.js';
import { StoreWatch } from '../../src/store-loss/store-watch.js';
import { acceptLoss } from '../../src/store-loss/accept-loss.js';
import { uniquePrefix } from '../support/controller.js';
import { waitUntil } from './topology.js';

/**
 * The change feed going backwards while the follower's connection stays up: the keys were deleted
 * under it (new entries are numbered from 1 again, below the position the replica holds), or an
 * older copy was put in their place (the same identity, a shorter feed). Following on would ignore
 * every new entry, and reloading would serve the emptied store: the replica keeps its snapshot,
 * says so at ERROR, and reloads only once a person accepted the loss. The store's follower is not
 * told of the break here (its connection never dropped): the follower's own look at the store is
 * what notices.
 */

const url = inject('redisUrl');
const admin = new Redis(url, { protocol: 2 });
afterAll(() => admin.quit());

const flag = (name: string) => ({
  name,
  project: 'default',
  environments: { production: { enabled: true, strategies: [] } },
});

/** The store as a follower sees it, never told of gaps: only the follower's look at the store is left. */
function withoutGaps(store: Store): Store {
  return new Proxy(store, {
    get(target, key, receiver) {
      if (key === 'follow') return (after: number, onEntries: (e: FeedEntry[]) => void) => target.follow(after, onEntries, () => {});
      const value = Reflect.get(target, key, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

describe('feed follower when the store goes backwards', () => {
  it.each([
    ['its keys are deleted and written again', 'wiped', /the store no longer holds its identity|is not the one this replica loaded/],
    ['an older copy replaces it', 'older', /the change feed went backwards from 10 to 5/],
  ] as const)('keeps serving its snapshot when %s, and reloads once the loss is accepted', async (_how, kind, reason) => {
    const prefix = uniquePrefix('regress');
    const writer = await createRedisStore(url, prefix);
    const redisFollower = await createRedisStore(url, prefix);
    const lines: Array<{ level: number; msg: string }> = [];
    const logger = createLogger(
      'info',
      new Writable({
        write(chunk, _enc, done) {
          lines.push(JSON.parse(String(chunk)));
          done();
        },
      }),
    );
    const state = new ServingState();
    const watch = new StoreWatch(redisFollower, logger, 'replica-under-test');
    const follower = new FeedFollower(withoutGaps(redisFollower), state, new TokenIndex(), logger, watch);
    const keysOf = () => admin.keys(`{${prefix}}:*`);
    try {
      // Valid stored flags (the serving state parses what it applies).
      const put = (name: string) => writer.commit({ puts: [{ collection: FLAGS, id: name, value: flag(name) }] });
      for (let i = 0; i < 5; i++) await put(`before-${i}`);
      await follower.start(); // gives the store its identity
      const copy = await Promise.all((await keysOf()).map(async (key) => [key, await admin.dumpBuffer(key)] as const));
      for (let i = 5; i < 10; i++) await put(`before-${i}`);
      await waitUntil('the follower to apply all ten', async () => (state.seq === 10 ? true : undefined), 5_000, 20);

      await admin.del(...(await keysOf()));
      if (kind === 'wiped') {
        await put('after-a');
        await put('after-b');
      } else {
        for (const [key, dump] of copy) await admin.restore(key, 0, dump!);
      }

      const loss = await waitUntil('the follower to notice the loss', async () => watch.lost, 5_000, 20);
      expect(loss.reason).toMatch(reason);
      expect(loss.lostFrom).toMatchObject({ feedSeq: 10 });
      // The snapshot stays as it was: nothing of the emptied (or older) store is served.
      expect(state.seq).toBe(10);
      expect(state.allFlags()).toHaveLength(10);
      const errors = lines.filter((l) => l.level >= 50).map((l) => l.msg);
      expect(errors).toEqual([expect.stringContaining('the store lost data')]);
      // The marker tells replicas that start later.
      await waitUntil('the loss marker', async () => ((await admin.hget(`{${prefix}}:doc:meta`, 'store-loss')) ? true : undefined), 5_000, 20);

      // A person accepts the loss: the replica reloads what the store holds, and follows on from there.
      await acceptLoss(writer, watch, { actor: { type: 'system', id: 'test', name: 'test' }, reason: 'test', storeName: prefix }, () => new Date());
      await follower.lookNow();
      expect(watch.lost).toBeUndefined();
      const served = state
        .allFlags()
        .map((f) => f.name)
        .sort();
      expect(served).toEqual(kind === 'wiped' ? ['after-a', 'after-b'] : ['before-0', 'before-1', 'before-2', 'before-3', 'before-4']);
      await put('after-c');
      await waitUntil('the next entry', async () => (state.getFlag('after-c') ? true : undefined), 5_000, 20);
    } finally {
      follower.close();
      await redisFollower.close();
      await writer.close();
      const keys = await keysOf();
      if (keys.length) await admin.del(...keys);
    }
  });
});
