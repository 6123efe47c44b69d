import { createRequire } from 'node:module';
import type * as SdkUtil from 'unleash-client/lib/strategy/util.js';
import { describe, expect, it } from 'vitest';
import { BottomK, distinctUsers, sampledUsers, USER_HASH_PATTERN, USER_SAMPLE_SIZE } from '../../src/metrics/user-sample.js';
import { assignedShare, userSampleHash } from '../../src/rollouts/unit-bucket.js';
import { seededRandom } from '../../src/simulation/random.js';
import { bottomOf } from '../../src/store/sample-merge.js';

const require = createRequire(import.meta.url);
const { normalizedStrategyValue } = require('unleash-client/lib/strategy/util.js') as typeof SdkUtil;

/** Brute force: every distinct hash, sorted, the k smallest. */
function smallest(hashes: string[], k: number): string[] {
  return [...new Set(hashes)].sort().slice(0, k);
}

describe('bottom-k samples', () => {
  it('BottomK keeps exactly the k smallest distinct hashes, whatever the order they come in', () => {
    const random = seededRandom(7);
    for (const k of [1, 3, 50]) {
      const hashes = Array.from({ length: 400 }, () =>
        Math.floor(random.next() * 2 ** 48)
          .toString(16)
          .padStart(12, '0'),
      );
      // Repeats: the same user seen again changes nothing.
      const stream = [...hashes, ...hashes.slice(0, 100)];
      const kept = new BottomK(k);
      for (const h of stream) kept.add(h);
      expect(kept.values()).toEqual(smallest(stream, k));
      expect(kept.size).toBe(k);
    }
  });

  it('merges exactly: the sample of a union is the sample of the parts’ samples, in any grouping, merged any number of times', () => {
    const random = seededRandom(11);
    const hash = () =>
      Math.floor(random.next() * 2 ** 48)
        .toString(16)
        .padStart(12, '0');
    const parts = Array.from({ length: 6 }, () => Array.from({ length: 300 }, hash));
    // One user on several instances: the same hash in several parts.
    parts[1]!.push(parts[0]![0]!);
    parts[4]!.push(parts[0]![0]!);
    const k = 64;
    const whole = smallest(parts.flat(), k);
    const perPart = parts.map((p) => bottomOf([p], k));
    expect(bottomOf(perPart, k)).toEqual(whole);
    // Merged in two halves, then the halves merged, then merged again with one part twice.
    const left = bottomOf(perPart.slice(0, 3), k);
    const right = bottomOf(perPart.slice(3), k);
    expect(bottomOf([left, right, perPart[2]!, left], k)).toEqual(whole);
  });

  it('refuses a size that keeps nothing', () => {
    expect(() => bottomOf([['a']], 0)).toThrow(/keep must be a positive integer/);
    expect(() => new BottomK(1.5)).toThrow(/positive integer/);
  });
});

describe('distinctUsers: counts from a sample', () => {
  it('is exact while fewer than k users were seen, with no variance', () => {
    const sample = ['000000000001', '000000000002', '00000000000a'];
    expect(distinctUsers(sample, 4)).toEqual({ count: 3, variance: 0 });
    expect(distinctUsers([], 4)).toEqual({ count: 0, variance: 0 });
  });

  it('estimates (k − 1) / u from the k-th smallest hash u, with a relative variance of 1 / (k − 2)', () => {
    // k-th smallest at a quarter of the hash space: about 4 × (k − 1) users.
    const k = 5;
    const sample = ['000000000001', '000000000002', '000000000003', '000000000004', '3fffffffffff'];
    const { count, variance } = distinctUsers(sample, k);
    expect(count).toBeCloseTo(16, 6);
    expect(variance).toBeCloseTo((16 * 16) / 3, 6);
  });

  it('estimates within its stated error: over many populations, 95 % of estimates lie within 2 standard errors', () => {
    const k = 256;
    for (const users of [300, 2_000, 8_000]) {
      let inside = 0;
      const runs = 120;
      for (let run = 0; run < runs; run++) {
        const kept = new BottomK(k);
        for (let i = 0; i < users; i++) kept.add(userSampleHash(`run${run}-u${i}`));
        const { count, variance } = distinctUsers(kept.values(), k);
        if (Math.abs(count - users) <= 2 * Math.sqrt(variance)) inside++;
      }
      expect(inside / runs).toBeGreaterThan(0.9);
    }
  });

  it('sampledUsers gives a count the variance a sample of it would have', () => {
    expect(sampledUsers(500)).toEqual({ count: 500, variance: 0 });
    expect(sampledUsers(10_000)).toEqual({ count: 10_000, variance: 10_000 ** 2 / (USER_SAMPLE_SIZE - 2) });
  });
});

describe('the sample hash and the share a percentage serves', () => {
  it('is 12 lowercase hex digits, the same for the same value, different for different values', () => {
    expect(userSampleHash('alice')).toMatch(USER_HASH_PATTERN);
    expect(userSampleHash('alice')).toBe(userSampleHash('alice'));
    expect(userSampleHash('alice')).not.toBe(userSampleHash('bob'));
  });

  it.each([
    [1, 0.01],
    [2.5, 0.02],
    [0.5, 0],
    [10, 0.1],
    [100, 1],
    [150, 1],
  ])('a %s %% step serves %s of users, as the SDK places them (position hash % 100 + 1 at most the percentage)', (percentage, share) => {
    expect(assignedShare(percentage)).toBe(share);
    // The SDK itself, over 20,000 users: the share it serves matches.
    let on = 0;
    const n = 20_000;
    for (let i = 0; i < n; i++) if (percentage > 0 && normalizedStrategyValue(`user-${i}`, 'flag') <= percentage) on++;
    expect(Math.abs(on / n - share)).toBeLessThan(0.006);
  });

  it('tells nothing of a user’s rollout position: the users with the smallest hashes are treated at the step’s share', () => {
    // 200,000 users, the 4,096 smallest hashes: at a 10 % step about 410 treated (binomial sd 19).
    const users = Array.from({ length: 200_000 }, (_, i) => `customer-${i}`);
    const kept = new BottomK(4096);
    const byHash = new Map<string, string>();
    for (const u of users) {
      const h = userSampleHash(u);
      byHash.set(h, u);
      kept.add(h);
    }
    for (const [percentage, groupId] of [
      [10, 'checkout'],
      [1, 'search'],
      [50, 'checkout'],
    ] as const) {
      const treated = kept.values().filter((h) => normalizedStrategyValue(byHash.get(h)!, groupId) <= percentage).length;
      const expected = 4096 * (percentage / 100);
      const sd = Math.sqrt(4096 * (percentage / 100) * (1 - percentage / 100));
      expect(Math.abs(treated - expected)).toBeLessThan(4 * sd);
    }
  });
});
