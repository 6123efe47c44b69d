import { describe, expect, it } from 'vitest';
import { judgeStore, lossResolved } from '../../src/store-loss/loss-judge.js';
import type { LossReport, StoreIdentity, StoreLook } from '../../src/store-loss/store-marks.js';

/** The pure rule by which a replica tells that the store lost data, one row per way it shows. */
const memory = { storeId: 'X', feedSeq: 20 };
const identity = (value: StoreIdentity, version = 1) => ({ id: 'store-id', version, value });
const report: LossReport = {
  reason: 'the change feed went backwards from 20 to 0',
  detectedAt: '2026-01-01T00:00:00.000Z',
  detectedBy: 'other',
  lostFrom: { storeId: 'X', feedSeq: 20, auditSeq: 7 },
  found: { storeId: null, feedHead: 0, auditSeq: 0 },
};
const look = (over: Partial<StoreLook>): StoreLook => ({ feedHead: 20, auditSeq: 7, identity: identity({ id: 'X', createdAt: '' }), ...over });

describe('judgeStore', () => {
  it.each<[string, Partial<StoreLook>, string | RegExp]>([
    ['the same store, as far along', {}, 'intact'],
    ['the same store, further along', { feedHead: 25 }, 'intact'],
    [
      'another replica left its marker',
      { loss: { id: 'store-loss', version: 1, value: report } },
      /^a replica found that the store lost data: the change feed went backwards/,
    ],
    ['no identity (restarted empty, keys deleted)', { identity: undefined, feedHead: 0 }, /no longer holds its identity \(X\)/],
    [
      'another identity (restarted empty and written since)',
      { identity: identity({ id: 'Y', createdAt: '' }), feedHead: 30 },
      /not the one this replica loaded \(identity X, now Y\)/,
    ],
    ['the same identity, a shorter feed (an older copy)', { feedHead: 12 }, /the change feed went backwards from 20 to 12/],
    [
      'a new identity that supersedes ours (a person accepted the loss)',
      { identity: identity({ id: 'Z', createdAt: '', supersedes: ['Y', 'X'] }), feedHead: 2 },
      'accepted',
    ],
  ])('%s', (_case, over, expected) => {
    const verdict = judgeStore(memory, look(over));
    if (typeof expected === 'string') expect(verdict.kind).toBe(expected);
    else expect(verdict).toMatchObject({ kind: 'lost', reason: expect.stringMatching(expected) });
  });
});

describe('lossResolved', () => {
  it('only once the marker is gone and the identity names ours as superseded', () => {
    const accepted = identity({ id: 'Z', createdAt: '', supersedes: ['X'] });
    expect(lossResolved(memory, look({ loss: { id: 'store-loss', version: 1, value: report }, identity: accepted }))).toBe(false);
    expect(lossResolved(memory, look({ identity: identity({ id: 'Y', createdAt: '' }) }))).toBe(false);
    expect(lossResolved(memory, look({ identity: undefined }))).toBe(false);
    expect(lossResolved(memory, look({ identity: accepted }))).toBe(true);
  });
});
