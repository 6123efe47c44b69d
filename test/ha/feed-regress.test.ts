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
import { uniquePrefix } from '../support/controller.js';
import { waitUntil } from './topology.js';

/**
 * The change feed going backwards while the follower's connection stays up (the data was wiped
 * under it, as by a FLUSHALL or a restore of an older copy): new entries are numbered below the
 * position the replica holds, so following on would ignore them. Either the store notices (the
 * next entry it reads is not the successor of the last) or, when it cannot tell, the follower's own
 * check of the store's head against its position does; the replica says so at ERROR and reloads
 * what the store now holds.
 */

const url = inject('redisUrl');
const admin = new Redis(url, { protocol: 2 });
afterAll(() => admin.quit());

const flag = (name: string) => ({
  name,
  project: 'default',
  environments: { production: { enabled: true, strategies: [] } },
});

/** The store as a follower sees it, but never told of gaps: only the follower's head check is left. */
function withoutGaps(store: Store): Store {
  return new Proxy(store, {
    get(target, key, receiver) {
      if (key === 'follow') return (after: number, onEntries: (e: FeedEntry[]) => void) => target.follow(after, onEntries, () => {});
      const value = Reflect.get(target, key, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

describe('feed follower when the feed goes backwards', () => {
  it.each([
    ['the store reports the break', false],
    ['only the head check can see it', true],
  ])('reloads and follows the new entries when %s', async (_how, hideGaps) => {
    const prefix = uniquePrefix('regress');
    const writer = await createRedisStore(url, prefix);
    const redisFollower = await createRedisStore(url, prefix);
    const followerStore = hideGaps ? withoutGaps(redisFollower) : redisFollower;
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
    const follower = new FeedFollower(followerStore, state, new TokenIndex(), logger);
    try {
      // Valid stored flags (the serving state parses what it applies).
      const put = (name: string) => writer.commit({ puts: [{ collection: FLAGS, id: name, value: flag(name) }] });
      for (let i = 0; i < 10; i++) await put(`before-${i}`);
      await follower.start();
      expect(state.seq).toBe(10);
      expect(state.allFlags()).toHaveLength(10);

      // Everything of the deployment vanishes; new writes number the feed from 1 again.
      const keys = await admin.keys(`{${prefix}}:*`);
      await admin.del(...keys);
      await put('after-a');
      await put('after-b');
      expect(await writer.feedHead()).toBe(2);

      await waitUntil(
        'the follower to serve the new flags',
        async () =>
          state
            .allFlags()
            .map((f) => f.name)
            .sort()
            .join() === 'after-a,after-b'
            ? true
            : undefined,
        5_000,
        20,
      );
      expect(state.seq).toBe(2);
      const errors = lines.filter((l) => l.level >= 50);
      expect(errors.map((l) => l.msg)).toEqual([expect.stringContaining('the change feed went backwards')]);

      // And it follows from there like any other replica.
      await put('after-c');
      await waitUntil('the next entry', async () => (state.getFlag('after-c') ? true : undefined), 5_000, 20);
      expect(state.seq).toBe(3);
    } finally {
      follower.close();
      await redisFollower.close();
      await writer.close();
      const keys = await admin.keys(`{${prefix}}:*`);
      if (keys.length) await admin.del(...keys);
    }
  });
});
