import { createRequire } from 'node:module';
import fc from 'fast-check';
import type * as SdkUtil from 'unleash-client/lib/strategy/util.js';
import { describe, expect, it } from 'vitest';
import { GroupHash, GroupHashes, STRATEGY_SEED, VARIANT_SEED } from '../../../src/evaluation/compiled/stickiness-hash.js';

/** The compiled evaluator's stickiness hash is the SDK's (murmurhash3js through unleash-client's own helpers), bit for bit. */

const require = createRequire(import.meta.url);
const { normalizedStrategyValue, normalizedVariantValue } = require('unleash-client/lib/strategy/util.js') as typeof SdkUtil;
const sdkRequire = createRequire(require.resolve('unleash-client/lib/strategy/util.js'));
const murmur = sdkRequire('murmurhash3js') as { x86: { hash32(key: string, seed?: number): number } };

// Any UTF-16 text, lone surrogates included (the SDK hashes code units, not UTF-8 bytes).
const text = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 12 }), fc.string({ unit: 'binary', maxLength: 20 }));

describe('GroupHash', () => {
  it('equals murmurhash3js of `${groupId}:${value}` for any group, value and seed', () => {
    fc.assert(
      fc.property(text, text, fc.constantFrom(STRATEGY_SEED, VARIANT_SEED, 1, 0xffffffff), (groupId, value, seed) => {
        expect(new GroupHash(groupId, seed).hash(value)).toBe(murmur.x86.hash32(`${groupId}:${value}`, seed));
      }),
      { numRuns: 20_000 },
    );
  });

  it('covers every split of the group into whole blocks and bytes left over', () => {
    for (let groupLength = 0; groupLength < 9; groupLength++) {
      for (let valueLength = 0; valueLength < 9; valueLength++) {
        const groupId = 'gröup-€😊'.slice(0, groupLength);
        const value = '1234567890'.slice(0, valueLength);
        expect(new GroupHash(groupId, VARIANT_SEED).hash(value), `${groupId}|${value}`).toBe(murmur.x86.hash32(`${groupId}:${value}`, VARIANT_SEED));
      }
    }
  });

  it("gives the SDK's rollout positions and variant targets", () => {
    fc.assert(
      fc.property(text, text, fc.integer({ min: 1, max: 5000 }), (groupId, value, total) => {
        expect(new GroupHash(groupId, STRATEGY_SEED).position(value, 100)).toBe(normalizedStrategyValue(value, groupId));
        expect(new GroupHash(groupId, VARIANT_SEED).position(value, total)).toBe(normalizedVariantValue(value, groupId, total));
      }),
      { numRuns: 5_000 },
    );
  });
});

describe('GroupHashes', () => {
  it('numbers each (group, seed) once, so a request caches each in a slot of its own', () => {
    const groups = new GroupHashes();
    const a = groups.of('checkout', STRATEGY_SEED);
    const b = groups.of('checkout', VARIANT_SEED);
    expect(groups.of('checkout', STRATEGY_SEED)).toBe(a);
    expect([a.id, b.id, groups.of('search', STRATEGY_SEED).id]).toEqual([0, 1, 2]);
    expect(groups.size).toBe(3);
  });
});
