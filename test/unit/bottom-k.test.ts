import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BottomK, hashText, hashValue } from '../../src/metrics/bottom-k.js';

/**
 * BottomK on numbers (a heap and an open-addressing set in flat arrays) keeps exactly what the
 * definition says: the k smallest distinct hashes, whatever the order, repeats and collisions.
 */

/** The definition: every distinct hash, sorted, the k smallest. */
function smallest(values: number[], k: number): string[] {
  return [...new Set(values)]
    .sort((a, b) => a - b)
    .slice(0, k)
    .map(hashText);
}

// Hashes that share their low 32 bits (the set's slot) collide on purpose, so probing runs and the
// backward shift on removal are exercised; the rest spread over all 48 bits.
const colliding = fc.tuple(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 7 })).map(([high, low]) => high * 2 ** 32 + low);
const anyHash = fc.integer({ min: 0, max: 2 ** 48 - 1 });
const stream = fc.array(fc.oneof(colliding, anyHash), { maxLength: 3000 }).chain((values) =>
  // Repeats of earlier hashes, anywhere in the stream.
  fc.tuple(fc.constant(values), fc.array(fc.nat(), { maxLength: 500 })).map(([v, picks]) => (v.length ? [...v, ...picks.map((p) => v[p % v.length]!)] : v)),
);

describe('BottomK', () => {
  it('keeps exactly the k smallest distinct hashes, and says which offers entered', () => {
    fc.assert(
      fc.property(stream, fc.constantFrom(1, 2, 7, 16, 17, 100, 1024), (values, k) => {
        const kept = new BottomK(k);
        const entered = new Set<number>();
        for (const v of values) if (kept.addValue(v)) entered.add(v);
        const expected = smallest(values, k);
        expect(kept.values()).toEqual(expected);
        expect(kept.size).toBe(expected.length);
        // Every kept hash entered once, and membership answers for kept and dropped alike.
        for (const h of expected) expect(entered.has(hashValue(h)) && kept.has(h)).toBe(true);
        for (const v of values) expect(kept.hasValue(v)).toBe(expected.includes(hashText(v)));
      }),
      { numRuns: 300 },
    );
  });

  it('reads and writes hashes as 12 hex digits, in the same order as numbers', () => {
    expect(hashText(hashValue('0000000000ff'))).toBe('0000000000ff');
    expect(hashText(2 ** 48 - 1)).toBe('ffffffffffff');
    const kept = new BottomK(2);
    for (const h of ['ffffffffffff', '000000000001', 'a00000000000', '000000000001']) kept.add(h);
    expect(kept.values()).toEqual(['000000000001', 'a00000000000']);
  });

  it('refuses a size that keeps nothing', () => {
    expect(() => new BottomK(0)).toThrow(/positive integer/);
  });
});
