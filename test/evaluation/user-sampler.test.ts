import { describe, expect, it } from 'vitest';
import { UserSampler } from '../../src/evaluation/user-sampler.js';
import { hashValue } from '../../src/metrics/bottom-k.js';
import { BottomK, USER_SAMPLE_BUCKET_MS, USER_SAMPLE_SIZE, userSampleKey } from '../../src/metrics/user-sample.js';
import { userSampleHash } from '../../src/rollouts/unit-bucket.js';

/**
 * The users of server-side evaluations are kept per bucket across flushes, and each flush sends
 * only what entered a sample since the last one: what the store ends up keeping (the k smallest of
 * all it was sent) must be exactly the bottom-k of every user offered.
 */

/** What the store keeps of everything sent to one sample: the k smallest distinct members. */
function storeKeeps(sent: string[][]): string[] {
  return [...new Set(sent.flat())].sort().slice(0, USER_SAMPLE_SIZE);
}

describe('UserSampler', () => {
  it('sends each entering user once, and the store keeps the bottom-k of every user offered', () => {
    const sampler = new UserSampler();
    const reference = new BottomK(USER_SAMPLE_SIZE);
    const sent: string[][] = [];
    const at = 5 * USER_SAMPLE_BUCKET_MS;
    for (let round = 0; round < 6; round++) {
      const bucket = sampler.bucket('prod', at + round);
      for (let i = 0; i < 1_500; i++) {
        const hash = userSampleHash(`r${round}-u${i}`);
        bucket.add('flag', 'treatment', hashValue(hash));
        bucket.add('flag', 'treatment', hashValue(hash)); // the same user again: kept once
        reference.add(hash);
      }
      const adds = sampler.drain(at + round);
      expect(adds.map((a) => a.key)).toEqual([userSampleKey('prod', 'flag', 'treatment', at)]);
      const members = adds[0]!.members;
      expect(new Set(members).size).toBe(members.length);
      if (round > 0) expect(members.length).toBeLessThan(1_500); // not the whole sample again
      sent.push(members);
    }
    expect(storeKeeps(sent)).toEqual(reference.values());
    expect(sampler.drain(at + 10)).toEqual([]);
  });

  it('keeps cohorts and flags apart, and forgets a bucket once it is over and drained', () => {
    const sampler = new UserSampler();
    const at = 7 * USER_SAMPLE_BUCKET_MS;
    sampler.bucket('prod', at).add('a', 'treatment', hashValue('aaaaaaaaaaaa'));
    sampler.bucket('prod', at).add('a', 'control', hashValue('bbbbbbbbbbbb'));
    sampler.bucket('dev', at).add('a', 'control', hashValue('cccccccccccc'));
    const next = at + USER_SAMPLE_BUCKET_MS;
    expect(sampler.drain(next).map((a) => [a.key, a.members])).toEqual([
      [userSampleKey('prod', 'a', 'treatment', at), ['aaaaaaaaaaaa']],
      [userSampleKey('prod', 'a', 'control', at), ['bbbbbbbbbbbb']],
      [userSampleKey('dev', 'a', 'control', at), ['cccccccccccc']],
    ]);
    // The old bucket is gone: the same user in the new bucket is new there.
    sampler.bucket('prod', next).add('a', 'treatment', hashValue('aaaaaaaaaaaa'));
    expect(sampler.drain(next).map((a) => [a.key, a.members])).toEqual([[userSampleKey('prod', 'a', 'treatment', next), ['aaaaaaaaaaaa']]]);
  });
});
