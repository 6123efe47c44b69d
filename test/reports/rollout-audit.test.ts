import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { openStore, type Store } from '../../src/store/index.js';
import { auditedCommit } from '../../src/audit/audited-commit.js';
import type { AuditInput } from '../../src/audit/chain.js';
import { auditEventsFor } from '../../src/reports/rollout-audit.js';
import { uniquePrefix } from '../support/controller.js';
import { at, MINUTE, rollout } from '../unit/decide-fixtures.js';

/**
 * The report finds its rollout's events by a binary search on time, then a forward scan: on real
 * Redis, with a long log of unrelated events before the rollout and others interleaved with it.
 */
describe('auditEventsFor', () => {
  let store: Store;
  const r = rollout({ id: 'r-audit', createdAt: at(100 * MINUTE).toISOString() });
  const actor = { type: 'token', id: 't', name: 'someone' } as const;
  const event = (action: string, target: AuditInput['target']): AuditInput => ({ actor, action, target, before: null, after: null });

  async function append(input: AuditInput, when: Date): Promise<void> {
    await auditedCommit(
      store,
      async () => ({ commit: {}, audit: input, result: undefined }),
      () => when,
    );
  }

  beforeAll(async () => {
    store = await openStore({ redisUrl: inject('redisUrl'), dataDir: '', prefix: uniquePrefix('report-audit') });
    // 300 events in the hour and a half before the rollout, some of them about its flag (an older rollout's).
    for (let i = 0; i < 300; i++) {
      await append(event('flag.put', { type: 'flag', id: i % 10 === 0 ? r.flag : 'other', environment: 'production' }), at(i * 18_000));
    }
    await append(event('rollout.start', { type: 'rollout', id: r.id, environment: 'production' }), at(100 * MINUTE));
    await append(event('flag.rollout', { type: 'flag', id: r.flag, environment: 'production' }), at(100 * MINUTE));
    await append(event('flag.put', { type: 'flag', id: 'other' }), at(101 * MINUTE));
    await append(event('flag.kill', { type: 'flag', id: r.flag, environment: 'staging' }), at(102 * MINUTE));
    await append(event('rollout.approve', { type: 'rollout', id: 'another-rollout', environment: 'production' }), at(103 * MINUTE));
    await append(event('rollout.approve', { type: 'rollout', id: r.id, environment: 'production' }), at(104 * MINUTE));
    await append(event('flag.kill', { type: 'flag', id: r.flag, environment: 'production' }), at(105 * MINUTE));
  });
  afterAll(() => store.close());

  it('returns the rollout’s own events and its flag’s in its environment, from its start on', async () => {
    const { events, truncated } = await auditEventsFor(store, r);
    expect(truncated).toBe(false);
    expect(events.map((e) => [e.seq, e.action])).toEqual([
      [301, 'rollout.start'],
      [302, 'flag.rollout'],
      [306, 'rollout.approve'],
      [307, 'flag.kill'],
    ]);
  });

  it('says so when it stops reading before the end of the log', async () => {
    // Nothing was written in the minute of slack before the start, so 4 events are 301–304.
    const { events, truncated } = await auditEventsFor(store, r, 4);
    expect(truncated).toBe(true);
    expect(events.map((e) => e.action)).toEqual(['rollout.start', 'flag.rollout']);
  });
});
