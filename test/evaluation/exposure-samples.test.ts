import { describe, expect, it } from 'vitest';
import type { Evaluation } from '../../src/evaluation/evaluation.js';
import { ExposureBatcher } from '../../src/evaluation/exposure-batcher.js';
import { createLogger } from '../../src/logger.js';
import { BottomK, hashValue } from '../../src/metrics/bottom-k.js';
import { USER_SAMPLE_BUCKET_MS, USER_SAMPLE_SIZE, userSampleKey } from '../../src/metrics/user-sample.js';
import { userSampleHash } from '../../src/rollouts/unit-bucket.js';
import type { SampleAdd, Store } from '../../src/store/port.js';

/**
 * The users of server-side evaluations are kept per 10-second bucket across flushes, and each flush
 * sends only what entered a sample since the last one: what the store ends up keeping (the k
 * smallest of all it was sent) must be exactly the bottom-k of every user offered.
 */

const evaluation = (flag: string, enabled: boolean): Evaluation => ({
  flag,
  enabled,
  variant: { name: 'disabled', enabled: false, feature_enabled: enabled, featureEnabled: enabled },
  impressionData: false,
  reason: enabled ? 'SPLIT' : 'DEFAULT',
  cohort: enabled ? 'treatment' : 'control',
});

/** A store that keeps what addToSamples was sent, per sample, and nothing else. */
function samplesStore() {
  const sent = new Map<string, string[][]>();
  const store = {
    incrementCounters: async () => {},
    addToSamples: async (adds: SampleAdd[]) => {
      for (const add of adds) sent.set(add.key, [...(sent.get(add.key) ?? []), add.members]);
    },
  } as unknown as Store;
  /** What the store keeps of everything sent to one sample: the k smallest distinct members. */
  const keeps = (key: string) => [...new Set((sent.get(key) ?? []).flat())].sort().slice(0, USER_SAMPLE_SIZE);
  return { store, sent, keeps };
}

describe('users of server-side evaluations', () => {
  it('each entering user is sent once, and the store keeps the bottom-k of every user offered', async () => {
    const { store, sent, keeps } = samplesStore();
    let now = 5 * USER_SAMPLE_BUCKET_MS;
    const batcher = new ExposureBatcher(store, () => now, createLogger('silent'), 60_000);
    const reference = new BottomK(USER_SAMPLE_SIZE);
    const flags = ['flag'] as const;
    for (let round = 0; round < 6; round++) {
      for (let i = 0; i < 1_500; i++) {
        const hash = userSampleHash(`r${round}-u${i}`);
        // The same user twice (and by both counting paths): kept once.
        batcher.count('prod', [evaluation('flag', true)], () => hashValue(hash));
        batcher.countAll('prod', flags, [evaluation('flag', true)], () => hashValue(hash));
        reference.add(hash);
      }
      now += 1;
      await batcher.flush();
    }
    const key = userSampleKey('prod', 'flag', 'treatment', 5 * USER_SAMPLE_BUCKET_MS);
    expect([...sent.keys()]).toEqual([key]);
    const flushes = sent.get(key)!;
    expect(flushes).toHaveLength(6);
    for (const members of flushes) expect(new Set(members).size).toBe(members.length);
    expect(flushes.slice(1).every((members) => members.length < 1_500)).toBe(true); // never the whole sample again
    expect(keeps(key)).toEqual(reference.values());
    await batcher.close();
  });

  it('keeps cohorts, flags and environments apart, and starts afresh in the next bucket', async () => {
    const { store, keeps } = samplesStore();
    let now = 7 * USER_SAMPLE_BUCKET_MS;
    const batcher = new ExposureBatcher(store, () => now, createLogger('silent'), 60_000);
    batcher.count('prod', [evaluation('a', true), evaluation('b', false)], (flag) => hashValue(flag === 'a' ? 'aaaaaaaaaaaa' : 'bbbbbbbbbbbb'));
    batcher.count('dev', [evaluation('a', false)], () => hashValue('cccccccccccc'));
    now += USER_SAMPLE_BUCKET_MS;
    // The same user in the next bucket is new there (the bucket before is written, then forgotten).
    batcher.count('prod', [evaluation('a', true)], () => hashValue('aaaaaaaaaaaa'));
    await batcher.close();
    const at = 7 * USER_SAMPLE_BUCKET_MS;
    expect(keeps(userSampleKey('prod', 'a', 'treatment', at))).toEqual(['aaaaaaaaaaaa']);
    expect(keeps(userSampleKey('prod', 'b', 'control', at))).toEqual(['bbbbbbbbbbbb']);
    expect(keeps(userSampleKey('dev', 'a', 'control', at))).toEqual(['cccccccccccc']);
    expect(keeps(userSampleKey('prod', 'a', 'treatment', now))).toEqual(['aaaaaaaaaaaa']);
  });
});
