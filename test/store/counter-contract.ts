import { expect, it } from 'vitest';
import { MAX_COUNTER_VECTOR } from '../../src/store/counters.js';
import type { StoreFixture } from './contract.js';

/**
 * The part of the store contract about vector counters (store/counters.ts): fields that add element
 * by element, exactly, however many writers add at once. Run by storeContract for every store.
 */
export function counterContract(open: () => Promise<StoreFixture>): void {
  it('adds vector counters element by element, whatever their lengths, and sums them per group', async () => {
    const { store } = await open();
    await store.incrementCounters('v1', { n: 1, u: [1, 0, 2] }, 60);
    await store.incrementCounters('v1', { u: [0, 5, 0, 0, 7] }, 60);
    await store.incrementCounters('v2', { u: [10], n: 2 }, 60);
    await store.incrementCounters('v3', { other: [3, 3] }, 60);
    expect(await store.readCounters('v1')).toEqual({ n: 1, u: [1, 5, 2, 0, 7] });
    const [both, shared, none] = await store.sumCounters([['v1', 'v2'], ['v2', 'v3', 'v1'], ['missing']]);
    expect(both).toEqual({ n: 3, u: [11, 5, 2, 0, 7] });
    expect(shared).toEqual({ n: 3, u: [11, 5, 2, 0, 7], other: [3, 3] });
    expect(none).toEqual({});
    // What a caller gets is its own: changing it changes nothing stored.
    (both!.u as number[])[0] = 999;
    expect((await store.readCounters('v1')).u).toEqual([1, 5, 2, 0, 7]);
  });

  it('keeps vector elements exact past 16 and 32 bits, and fractional or negative ones too', async () => {
    const { store } = await open();
    await store.incrementCounters('n', { u: [65_535, 7] }, 60);
    await store.incrementCounters('n', { u: [1, 0, 3] }, 60);
    expect(await store.readCounters('n')).toEqual({ u: [65_536, 7, 3] });
    await store.incrementCounters('w', { u: [2 ** 32 - 1, 1, 0] }, 60);
    await store.incrementCounters('w', { u: [1, 0.5, -2] }, 60);
    await store.incrementCounters('w', { u: [2 ** 52, 0, 0] }, 60);
    expect(await store.readCounters('w')).toEqual({ u: [2 ** 52 + 2 ** 32, 1.5, -2] });
    await store.incrementCounters('x', { u: [123_456_789_012_345, 0.1] }, 60);
    const [sum] = await store.sumCounters([['w', 'x']]);
    expect(sum).toEqual({ u: [2 ** 52 + 2 ** 32 + 123_456_789_012_345, 1.5 + 0.1, -2] });
  });

  it('adds up concurrent vector increments from several writers exactly', async () => {
    const fx = await open();
    const writers = [fx.store, fx.peer ? await fx.peer() : fx.store];
    const rounds = 40;
    await Promise.all(
      Array.from({ length: rounds }, (_, i) =>
        writers[i % writers.length]!.incrementCounters('c', { n: 1, u: Array.from({ length: 64 }, (_, k) => (k + i) % 3) }, 60),
      ),
    );
    const expected = Array.from({ length: 64 }, (_, k) => Array.from({ length: rounds }, (_, i) => (k + i) % 3).reduce((a, b) => a + b, 0));
    expect(await fx.store.readCounters('c')).toEqual({ n: rounds, u: expected });
  });

  it('refuses to mix a number and a vector in one field, or a bad vector, and writes nothing then', async () => {
    const { store } = await open();
    await store.incrementCounters('m', { n: 1, u: [1] }, 60);
    await expect(store.incrementCounters('m', { other: 5, n: [1] }, 60)).rejects.toThrow(/counter n: .*keeps one kind/);
    await expect(store.incrementCounters('m', { other: 5, u: 1 }, 60)).rejects.toThrow(/counter u: .*keeps one kind/);
    await expect(store.incrementCounters('m', { other: 5, u: [] }, 60)).rejects.toThrow(/counter u: .*1 to 1024/);
    await expect(store.incrementCounters('m', { other: 5, u: new Array(MAX_COUNTER_VECTOR + 1).fill(1) }, 60)).rejects.toThrow(/counter u/);
    await expect(store.incrementCounters('m', { other: 5, u: [1, Number.NaN] }, 60)).rejects.toThrow(/counter u\[1\]: increment must be finite/);
    expect(await store.readCounters('m')).toEqual({ n: 1, u: [1] });
    // Across buckets, a field of both kinds cannot be summed.
    await store.incrementCounters('m2', { n: [1] }, 60);
    await expect(store.sumCounters([['m', 'm2']])).rejects.toThrow(/counter n: .*keeps one kind/);
  });
}
