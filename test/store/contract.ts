import { afterEach, describe, expect, it } from 'vitest';
import { ConflictError } from '../../src/store/errors.js';
import type { Commit, FeedEntry, Store } from '../../src/store/port.js';
import { counterContract } from './counter-contract.js';

export interface StoreFixture {
  store: Store;
  /** Closes `store` and opens the same data again (a restart). */
  reopen: () => Promise<Store>;
  /** A second, independent instance on the same data (another replica); only where that exists. */
  peer?: () => Promise<Store>;
  cleanup: () => Promise<void>;
}
export type MakeStore = (opts: { feedMaxLen?: number }) => Promise<StoreFixture>;

/**
 * A fixture of Redis stores on one prefix: `open` makes another instance on the same data (a peer
 * or a restart); `afterClose` may remove the prefix's keys once every instance is closed.
 */
export async function redisFixture(open: () => Promise<Store>, afterClose: () => Promise<void> = async () => {}): Promise<StoreFixture> {
  const stores: Store[] = [await open()];
  const track = async () => {
    const s = await open();
    stores.push(s);
    return s;
  };
  return {
    store: stores[0]!,
    peer: track,
    reopen: async () => {
      await stores[0]!.close();
      return track();
    },
    cleanup: async () => {
      await Promise.all(stores.map((s) => s.close()));
      await afterClose();
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(5);
  }
}

async function conflict(p: Promise<unknown>, reason: RegExp): Promise<void> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConflictError);
  expect((err as ConflictError).reason).toMatch(reason);
}

/** Collects what follow() delivers, checking batches arrive in order and contiguous. */
function collect(store: Store, afterSeq: number) {
  const got: FeedEntry[] = [];
  const state = { gaps: 0, batches: 0, stop: () => {} };
  state.stop = store.follow(
    afterSeq,
    (entries) => {
      state.batches++;
      got.push(...entries);
    },
    () => state.gaps++,
  );
  return { got, state };
}

export function storeContract(name: string, make: MakeStore): void {
  describe(`Store contract: ${name}`, () => {
    const fixtures: StoreFixture[] = [];
    const open = async (opts: { feedMaxLen?: number } = {}) => {
      const fx = await make(opts);
      fixtures.push(fx);
      return fx;
    };
    afterEach(async () => {
      for (const fx of fixtures.splice(0)) await fx.cleanup();
    });

    it('round-trips documents with versions starting at 1', async () => {
      const { store } = await open();
      expect(await store.get('flags', 'a')).toBeNull();
      expect(await store.list('flags')).toEqual([]);
      const value = { name: 'a', nested: { list: [1, 'two', null], text: 'héllo ✓' } };
      const r1 = await store.commit({ puts: [{ collection: 'flags', id: 'a', value }] });
      expect(r1).toEqual({ seq: 1, versions: { 'flags/a': 1 } });
      expect(await store.get('flags', 'a')).toEqual({ id: 'a', version: 1, value });
      const r2 = await store.commit({
        puts: [
          { collection: 'flags', id: 'a', value: 2 },
          { collection: 'flags', id: 'b', value: 'b' },
          { collection: 'other', id: 'a', value: true },
        ],
      });
      expect(r2).toEqual({ seq: 4, versions: { 'flags/a': 2, 'flags/b': 1, 'other/a': 1 } });
      expect(await store.list('flags')).toEqual([
        { id: 'a', version: 2, value: 2 },
        { id: 'b', version: 1, value: 'b' },
      ]);
      await store.commit({ deletes: [{ collection: 'flags', id: 'a' }] });
      expect(await store.get('flags', 'a')).toBeNull();
      expect(await store.list('flags')).toEqual([{ id: 'b', version: 1, value: 'b' }]);
      expect(await store.get('other', 'a')).toEqual({ id: 'a', version: 1, value: true });
      // An empty commit, or deleting an absent document, changes nothing and reports the head.
      expect(await store.commit({})).toEqual({ seq: 5, versions: {} });
      expect(await store.commit({ deletes: [{ collection: 'flags', id: 'zzz' }] })).toEqual({ seq: 5, versions: {} });
      expect(await store.feedHead()).toBe(5);
      await store.ping();
    });

    it('enforces compare-and-set versions, 0 meaning "must not exist"', async () => {
      const { store } = await open();
      await store.commit({ puts: [{ collection: 'c', id: 'x', value: 1, expectVersion: 0 }] });
      await conflict(store.commit({ puts: [{ collection: 'c', id: 'x', value: 2, expectVersion: 0 }] }), /c\/x.*expected version 0, found 1/);
      await conflict(store.commit({ puts: [{ collection: 'c', id: 'x', value: 2, expectVersion: 2 }] }), /expected version 2/);
      expect((await store.commit({ puts: [{ collection: 'c', id: 'x', value: 2, expectVersion: 1 }] })).versions).toEqual({ 'c/x': 2 });
      await conflict(store.commit({ deletes: [{ collection: 'c', id: 'x', expectVersion: 1 }] }), /delete c\/x/);
      await conflict(store.commit({ deletes: [{ collection: 'c', id: 'nope', expectVersion: 1 }] }), /found 0/);
      expect(await store.get('c', 'x')).toMatchObject({ version: 2, value: 2 });
      await store.commit({ deletes: [{ collection: 'c', id: 'x', expectVersion: 2 }] });
      expect(await store.get('c', 'x')).toBeNull();
      await expect(store.commit({ puts: [{ collection: 'c', id: 'x', value: 1, expectVersion: -1 }] })).rejects.toThrow(TypeError);
    });

    it('writes nothing at all when any check of a commit fails', async () => {
      const { store } = await open();
      await store.commit({ puts: [{ collection: 'c', id: 'keep', value: 'v1' }], appends: [{ log: 'audit', seq: 1, entry: 'e1' }] });
      const lease = await store.acquireLease('writer', 'me', 10_000);
      const good: Commit = {
        puts: [
          { collection: 'c', id: 'new', value: 'n', expectVersion: 0 },
          { collection: 'c', id: 'keep', value: 'v2', expectVersion: 1 },
        ],
        deletes: [{ collection: 'c', id: 'keep' }],
        appends: [
          { log: 'audit', seq: 2, entry: 'e2' },
          { log: 'other', seq: 1, entry: 'o1' },
        ],
        fence: { lease: 'writer', token: lease!.token },
      };
      const bad: Array<[Commit, RegExp]> = [
        [{ ...good, puts: [...good.puts!, { collection: 'c', id: 'keep', value: 'x', expectVersion: 7 }] }, /put c\/keep/],
        [{ ...good, deletes: [{ collection: 'c', id: 'keep', expectVersion: 3 }] }, /delete c\/keep/],
        [
          {
            ...good,
            appends: [
              { log: 'audit', seq: 2, entry: 'e2' },
              { log: 'audit', seq: 4, entry: 'gap' },
            ],
          },
          /append audit: expected seq 3, got 4/,
        ],
        [{ ...good, appends: [{ log: 'other', seq: 2, entry: 'o' }] }, /append other: expected seq 1/],
        [{ ...good, fence: { lease: 'writer', token: lease!.token + 1 } }, /fence/],
        [{ ...good, fence: { lease: 'nobody', token: 1 } }, /fence: lease "nobody" is not held/],
      ];
      for (const [commit, reason] of bad) await conflict(store.commit(commit), reason);
      expect(await store.list('c')).toEqual([{ id: 'keep', version: 1, value: 'v1' }]);
      expect(await store.feedHead()).toBe(1);
      expect(await store.readFeed(1, 10)).toEqual([]);
      expect(await store.readLog('audit', 1, 10)).toEqual([{ seq: 1, entry: 'e1' }]);
      expect(await store.readLog('other', 0, 10)).toEqual([]);
      // The same commit without the faulty op goes through in one piece.
      const ok = await store.commit(good);
      expect(ok).toEqual({ seq: 4, versions: { 'c/new': 1, 'c/keep': 2 } });
      expect((await store.readFeed(1, 10))!.map((e) => [e.id, e.version, e.value])).toEqual([
        ['new', 1, 'n'],
        ['keep', 2, 'v2'],
        ['keep', 2, null],
      ]);
      expect(await store.readLog('audit', 1, 10)).toEqual([
        { seq: 1, entry: 'e1' },
        { seq: 2, entry: 'e2' },
      ]);
    });

    it('loses no update when writers race with read-modify-write retries', async () => {
      const fx = await open();
      const other = fx.peer ? await fx.peer() : fx.store;
      let conflicts = 0;
      const increment = async (s: Store) => {
        for (;;) {
          const cur = await s.get<number>('ctr', 'n');
          try {
            await s.commit({ puts: [{ collection: 'ctr', id: 'n', value: (cur?.value ?? 0) + 1, expectVersion: cur?.version ?? 0 }] });
            return;
          } catch (err) {
            if (!(err instanceof ConflictError)) throw err;
            conflicts++;
          }
        }
      };
      await Promise.all(Array.from({ length: 20 }, (_, i) => increment(i % 2 ? other : fx.store)));
      expect(await fx.store.get('ctr', 'n')).toEqual({ id: 'n', version: 20, value: 20 });
      expect(conflicts).toBeGreaterThan(0); // the race really happened
      expect((await fx.store.readFeed(0, 100))!.map((e) => e.value)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    });

    it('feeds every put and delete in strictly increasing order, with values', async () => {
      const { store } = await open();
      for (let i = 1; i <= 5; i++) await store.commit({ puts: [{ collection: 'f', id: `d${i % 2}`, value: { i } }] });
      await store.commit({ deletes: [{ collection: 'f', id: 'd1' }] });
      const all = (await store.readFeed(0, 100))!;
      expect(all.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(all[4]).toEqual({ seq: 5, collection: 'f', id: 'd1', version: 3, value: { i: 5 } });
      expect(all[5]).toEqual({ seq: 6, collection: 'f', id: 'd1', version: 3, value: null });
      expect((await store.readFeed(2, 2))!.map((e) => e.seq)).toEqual([3, 4]);
      expect(await store.readFeed(6, 10)).toEqual([]);
      expect(await store.readFeed(99, 10)).toEqual([]);
    });

    it('keeps quiet writes off the feed while versioning them like any other', async () => {
      const { store } = await open();
      await store.commit({ puts: [{ collection: 'f', id: 'loud', value: 1 }] });
      const quiet = await store.commit({ puts: [{ collection: 'q', id: 'a', value: 1, quiet: true }] });
      expect(quiet.seq).toBe(1);
      expect(quiet.versions['q/a']).toBe(1);
      await store.commit({
        puts: [
          { collection: 'q', id: 'a', value: 2, quiet: true, expectVersion: 1 },
          { collection: 'f', id: 'loud', value: 2 },
        ],
      });
      expect(await store.get('q', 'a')).toEqual({ id: 'a', version: 2, value: 2 });
      await store.commit({ deletes: [{ collection: 'q', id: 'a', quiet: true }] });
      expect(await store.get('q', 'a')).toBeNull();
      expect((await store.readFeed(0, 100))!.map((e) => [e.seq, e.collection, e.value])).toEqual([
        [1, 'f', 1],
        [2, 'f', 2],
      ]);
      expect(await store.feedHead()).toBe(2);
    });

    it('returns null from readFeed, and calls onGap, once entries were trimmed', async () => {
      const { store } = await open({ feedMaxLen: 5 });
      for (let i = 1; i <= 20; i++) await store.commit({ puts: [{ collection: 'f', id: 'x', value: i }] });
      expect(await store.readFeed(0, 100)).toBeNull();
      expect(await store.readFeed(14, 100)).toBeNull();
      expect((await store.readFeed(15, 100))!.map((e) => e.value)).toEqual([16, 17, 18, 19, 20]);
      expect(await store.readFeed(20, 100)).toEqual([]);
      const { got, state } = collect(store, 3);
      await until(() => state.gaps === 1);
      await store.commit({ puts: [{ collection: 'f', id: 'x', value: 21 }] });
      await until(() => got.length === 1);
      expect(got.map((e) => [e.seq, e.value])).toEqual([[21, 21]]);
      state.stop();
    });

    it('follows the feed from a position, across instances, promptly and in order', async () => {
      const fx = await open();
      const { store } = fx;
      await store.commit({ puts: [{ collection: 'f', id: 'old', value: 0 }] });
      const watcher = fx.peer ? await fx.peer() : store;
      const backlog = collect(watcher, 0);
      await until(() => backlog.got.length === 1);
      backlog.state.stop();
      const live = collect(watcher, 1);
      await sleep(200); // let the follower settle into waiting
      const t0 = performance.now();
      await store.commit({ puts: [{ collection: 'f', id: 'one', value: 1 }] });
      await until(() => live.got.length === 1);
      const latency = performance.now() - t0;
      expect(latency).toBeLessThan(100);
      await Promise.all(Array.from({ length: 30 }, (_, i) => store.commit({ puts: [{ collection: 'f', id: `k${i}`, value: i }] })));
      await until(() => live.got.length === 31);
      expect(live.got.map((e) => e.seq)).toEqual(Array.from({ length: 31 }, (_, i) => i + 2));
      expect(live.state.gaps).toBe(0);
      live.state.stop();
      await store.commit({ puts: [{ collection: 'f', id: 'after-stop', value: 1 }] });
      await sleep(100);
      expect(live.got).toHaveLength(31);
    });

    it('appends to logs only at exactly the next seq', async () => {
      const { store } = await open();
      await conflict(store.commit({ appends: [{ log: 'audit', seq: 2, entry: 'x' }] }), /expected seq 1, got 2/);
      await store.commit({ appends: [1, 2, 3].map((seq) => ({ log: 'audit', seq, entry: { n: seq } })) });
      await conflict(store.commit({ appends: [{ log: 'audit', seq: 3, entry: 'dup' }] }), /expected seq 4, got 3/);
      await store.commit({ appends: [{ log: 'audit', seq: 4, entry: { n: 4 } }] });
      expect((await store.readLog('audit', 2, 2)).map((r) => r.seq)).toEqual([2, 3]);
      expect(await store.readLog('audit', 4, 10)).toEqual([{ seq: 4, entry: { n: 4 } }]);
      expect(await store.readLog('audit', 5, 10)).toEqual([]);
      expect(await store.readLog('missing', 1, 10)).toEqual([]);
      expect(await store.feedHead()).toBe(0); // appends alone produce no feed entries
    });

    it('increments counters per bucket and lets them expire', async () => {
      const { store } = await open();
      expect(await store.readCounters('b1')).toEqual({});
      await store.incrementCounters('b1', { yes: 2, no: 1 }, 1);
      await Promise.all([store.incrementCounters('b1', { yes: 3, ms: 1.5 }, 1), store.incrementCounters('b2', { yes: 7 }, 60)]);
      await store.incrementCounters('b1', { ms: 2 }, 1);
      expect(await store.readCounters('b1')).toEqual({ yes: 5, no: 1, ms: 3.5 });
      await sleep(1500);
      expect(await store.readCounters('b1')).toEqual({});
      expect(await store.readCounters('b2')).toEqual({ yes: 7 });
      await store.incrementCounters('b1', { yes: 1 }, 1);
      expect(await store.readCounters('b1')).toEqual({ yes: 1 });
    });

    it('lists versions without values, and reads several documents at once', async () => {
      const { store } = await open();
      expect(await store.versions('v')).toEqual(new Map());
      expect(await store.getMany('v', ['a'])).toEqual([]);
      await store.commit({
        puts: [
          { collection: 'v', id: 'a', value: { n: 1 } },
          { collection: 'v', id: 'b', value: 'two' },
        ],
      });
      await store.commit({
        puts: [
          { collection: 'v', id: 'a', value: { n: 2 }, expectVersion: 1 },
          { collection: 'other', id: 'c', value: 3 },
        ],
      });
      expect(await store.versions('v')).toEqual(
        new Map([
          ['a', 2],
          ['b', 1],
        ]),
      );
      const many = await store.getMany<unknown>('v', ['b', 'missing', 'a']);
      expect(many.map((d) => [d.id, d.version, d.value])).toEqual([
        ['b', 1, 'two'],
        ['a', 2, { n: 2 }],
      ]);
      await store.commit({ deletes: [{ collection: 'v', id: 'b' }] });
      expect(await store.versions('v')).toEqual(new Map([['a', 2]]));
      expect(await store.getMany('v', [])).toEqual([]);
    });

    it('sums counter buckets per group, reading a bucket shared by groups into each', async () => {
      const { store } = await open();
      await store.incrementCounters('b1', { a: 1, b: 2.5 }, 60);
      await store.incrementCounters('b2', { a: 10 }, 60);
      await store.incrementCounters('b3', { c: 7 }, 60);
      const [first, second, empty, missing] = await store.sumCounters([['b1', 'b2'], ['b2', 'b3', 'b1'], [], ['nope']]);
      expect(first).toEqual({ a: 11, b: 2.5 });
      expect(second).toEqual({ a: 11, b: 2.5, c: 7 });
      expect(empty).toEqual({});
      expect(missing).toEqual({});
      expect(await store.sumCounters([])).toEqual([]);
    });

    it('sums keep every digit: large counts and fractional sums come back exact', async () => {
      const { store } = await open();
      // 15 and 16 digits: past the 14 that a plain number encoding would keep.
      await store.incrementCounters('big1', { n: 123_456_789_012_345, ms: 0.1 }, 60);
      await store.incrementCounters('big2', { n: 1_000_000_000_000_000, ms: 0.2, k: 99_999_999_999_999 }, 60);
      const [sum] = await store.sumCounters([['big1', 'big2']]);
      expect(sum).toEqual({ n: 1_123_456_789_012_345, ms: 0.1 + 0.2, k: 99_999_999_999_999 });
    });

    it('grants leases exclusively with increasing fencing tokens', async () => {
      const { store } = await open();
      const a = await store.acquireLease('leader', 'a', 10_000);
      expect(a).toMatchObject({ holder: 'a' });
      expect(await store.acquireLease('leader', 'b', 10_000)).toBeNull();
      expect(await store.acquireLease('leader', 'a', 10_000)).toEqual(a); // renewal keeps the token
      await store.releaseLease('leader', 'b'); // not b's to release
      expect(await store.acquireLease('leader', 'b', 10_000)).toBeNull();
      await store.commit({ puts: [{ collection: 'c', id: 'x', value: 'a' }], fence: { lease: 'leader', token: a!.token } });
      await store.releaseLease('leader', 'a');
      const b = await store.acquireLease('leader', 'b', 150);
      expect(b!.token).toBeGreaterThan(a!.token);
      await conflict(store.commit({ puts: [{ collection: 'c', id: 'x', value: 'stale' }], fence: { lease: 'leader', token: a!.token } }), /fence/);
      await sleep(300); // b's lease expires without release
      await conflict(store.commit({ puts: [{ collection: 'c', id: 'x', value: 'late' }], fence: { lease: 'leader', token: b!.token } }), /not held/);
      const c = await store.acquireLease('leader', 'c', 10_000);
      expect(c!.token).toBeGreaterThan(b!.token);
      expect(await store.get('c', 'x')).toMatchObject({ version: 1, value: 'a' });
      expect(await store.acquireLease('other', 'a', 1000)).not.toBeNull(); // leases are independent
    });

    it('keeps documents, feed, logs, counters and fences across a restart', async () => {
      const fx = await open();
      const s1 = fx.store;
      await s1.commit({
        puts: [
          { collection: 'c', id: 'a', value: { v: 1 } },
          { collection: 'c', id: 'b', value: 'b' },
        ],
        appends: [{ log: 'audit', seq: 1, entry: 'e1' }],
      });
      await s1.commit({ puts: [{ collection: 'c', id: 'a', value: { v: 2 } }], deletes: [{ collection: 'c', id: 'b' }] });
      await s1.incrementCounters('bucket', { n: 3, v: [1, 0, 2 ** 33] }, 60);
      const lease = await s1.acquireLease('leader', 'me', 10_000);
      await s1.releaseLease('leader', 'me');
      const s2 = await fx.reopen();
      expect(await s2.list('c')).toEqual([{ id: 'a', version: 2, value: { v: 2 } }]);
      expect(await s2.feedHead()).toBe(4);
      expect((await s2.readFeed(0, 10))!.map((e) => [e.seq, e.id, e.version])).toEqual([
        [1, 'a', 1],
        [2, 'b', 1],
        [3, 'a', 2],
        [4, 'b', 1],
      ]);
      expect(await s2.readLog('audit', 1, 10)).toEqual([{ seq: 1, entry: 'e1' }]);
      expect(await s2.readCounters('bucket')).toEqual({ n: 3, v: [1, 0, 2 ** 33] });
      expect((await s2.acquireLease('leader', 'next', 1000))!.token).toBeGreaterThan(lease!.token);
      expect(await s2.commit({ puts: [{ collection: 'c', id: 'a', value: 3, expectVersion: 2 }], appends: [{ log: 'audit', seq: 2, entry: 'e2' }] })).toEqual({
        seq: 5,
        versions: { 'c/a': 3 },
      });
    });

    counterContract(open);
  });
}
