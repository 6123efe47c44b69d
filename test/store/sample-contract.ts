import { afterEach, describe, expect, it } from 'vitest';
import type { MakeStore, StoreFixture } from './contract.js';

/**
 * The store port's bottom-k samples (addToSamples, mergeSamples, readSamples), held equal on both
 * stores: what the sample-ratio check counts distinct users with (src/metrics/user-sample.ts).
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const hex = (n: number) => n.toString(16).padStart(12, '0');

export function sampleContract(name: string, make: MakeStore): void {
  describe(`Store contract, samples: ${name}`, () => {
    const fixtures: StoreFixture[] = [];
    const open = async () => {
      const fx = await make({});
      fixtures.push(fx);
      return fx;
    };
    afterEach(async () => {
      for (const fx of fixtures.splice(0)) await fx.cleanup();
    });

    it('keeps the smallest members in text order, each once, however they were added', async () => {
      const { store } = await open();
      await store.addToSamples([{ key: 's', members: [hex(9), hex(3), hex(7)] }], 3, 60);
      await store.addToSamples(
        [
          { key: 's', members: [hex(3), hex(1), hex(12)] },
          { key: 't', members: [hex(5)] },
          { key: 'empty', members: [] },
        ],
        3,
        60,
      );
      expect(await store.readSamples([['s'], ['t'], ['empty'], ['missing'], []], 3)).toEqual([[hex(1), hex(3), hex(7)], [hex(5)], [], [], []]);
      // Text order is the order of the bytes: "a" after "9", upper case before lower.
      await store.addToSamples([{ key: 'mixed', members: ['00000000000a', '000000000009', '00000000000B'] }], 5, 60);
      expect(await store.readSamples([['mixed']], 5)).toEqual([['000000000009', '00000000000B', '00000000000a']]);
    });

    it('reads the union of a group’s samples, a sample shared by groups in each, up to `keep`', async () => {
      const { store } = await open();
      await store.addToSamples(
        [
          { key: 'a', members: [hex(2), hex(4), hex(6)] },
          { key: 'b', members: [hex(1), hex(4), hex(9)] },
        ],
        10,
        60,
      );
      expect(await store.readSamples([['a', 'b'], ['b', 'a', 'nope'], ['b']], 4)).toEqual([
        [hex(1), hex(2), hex(4), hex(6)],
        [hex(1), hex(2), hex(4), hex(6)],
        [hex(1), hex(4), hex(9)],
      ]);
      expect(await store.readSamples([], 4)).toEqual([]);
    });

    it('merges sources into a sample: the smallest of all, and merging again changes nothing', async () => {
      const { store, peer } = await open();
      await store.addToSamples([{ key: 'dest', members: [hex(5), hex(50)] }], 3, 60);
      await store.addToSamples(
        [
          { key: 'src1', members: [hex(7), hex(1)] },
          { key: 'src2', members: [hex(5), hex(30)] },
        ],
        3,
        60,
      );
      await store.mergeSamples('dest', ['src1', 'src2', 'nope'], 3, 60);
      expect(await store.readSamples([['dest']], 3)).toEqual([[hex(1), hex(5), hex(7)]]);
      await store.mergeSamples('dest', ['src2', 'src1'], 3, 60);
      await store.mergeSamples('dest', [], 3, 60);
      expect(await store.readSamples([['dest']], 3)).toEqual([[hex(1), hex(5), hex(7)]]);
      // Into a sample that did not exist; the sources are left as they were.
      await store.mergeSamples('fresh', ['src2'], 3, 60);
      expect(await store.readSamples([['fresh'], ['src2']], 3)).toEqual([
        [hex(5), hex(30)],
        [hex(5), hex(30)],
      ]);
      // Another replica sees the same samples.
      if (peer) expect(await (await peer()).readSamples([['dest']], 3)).toEqual([[hex(1), hex(5), hex(7)]]);
    });

    it('lets samples expire after their last write', async () => {
      const { store } = await open();
      await store.addToSamples([{ key: 'short', members: [hex(1)] }], 3, 1);
      await store.addToSamples([{ key: 'long', members: [hex(2)] }], 3, 60);
      await store.mergeSamples('merged', ['short'], 3, 1);
      await sleep(1500);
      expect(await store.readSamples([['short'], ['long'], ['merged']], 3)).toEqual([[], [hex(2)], []]);
    });

    it('refuses a sample that keeps nothing, before doing anything', async () => {
      const { store } = await open();
      await expect(store.addToSamples([{ key: 'x', members: [hex(1)] }], 0, 60)).rejects.toThrow(RangeError);
      await expect(store.mergeSamples('x', ['y'], 1.5, 60)).rejects.toThrow(/keep must be a positive integer/);
      await expect(store.readSamples([['x']], -1)).rejects.toThrow(RangeError);
      expect(await store.readSamples([['x']], 1)).toEqual([[]]);
    });
  });
}
