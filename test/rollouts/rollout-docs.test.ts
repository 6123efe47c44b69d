import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openEmbeddedStore, type Store } from '../../src/store/index.js';
import { planId, ROLLOUT_HISTORIES, ROLLOUT_PLANS, RolloutDocs, type RolloutRecord } from '../../src/rollouts/rollout-docs.js';
import { ROLLOUTS, type Rollout, type Transition } from '../../src/rollouts/rollout-model.js';
import { policy, rollout } from '../unit/decide-fixtures.js';

/**
 * A rollout is stored as a record (rewritten by every analysis), a plan shared by every rollout
 * that follows it, and a history written only with a transition. These tests hold the pieces
 * together: what goes in comes back whole, and what an analysis does not change is not rewritten.
 */

const started = (at: string): Transition => ({ at, from: 'pending', to: 'running', stepIndex: 0, percentage: 1, reason: 'started', actor: 'alice' });

describe('rollout documents', () => {
  let store: Store;
  let docs: RolloutDocs;

  beforeEach(async () => {
    store = await openEmbeddedStore(mkdtempSync(path.join(os.tmpdir(), 'rc-rollout-docs-')));
    docs = new RolloutDocs(store);
  });
  afterEach(async () => {
    await store.close();
  });

  const create = async (r: Rollout) => {
    await store.commit({ puts: docs.puts(r, null, 0) });
    return (await docs.get(r.id))!;
  };

  it('stores a new rollout as a record, its plan once under its hash, and its history; reads it back whole', async () => {
    const a = rollout({ id: 'r-a', history: [started('2026-03-02T12:00:00.000Z')] });
    const b = rollout({ id: 'r-b', history: [started('2026-03-02T12:01:00.000Z')] });
    expect((await create(a)).value).toEqual(a);
    expect((await create(b)).value).toEqual(b);

    const record = (await store.get<RolloutRecord>(ROLLOUTS, 'r-a'))!.value;
    expect(record).not.toHaveProperty('plan');
    expect(record).not.toHaveProperty('history');
    expect(record).toMatchObject({ planId: planId(a.plan), historyLength: 1 });
    expect((await store.list(ROLLOUT_PLANS)).map((d) => d.id)).toEqual([planId(a.plan)]);
    expect((await store.get(ROLLOUT_HISTORIES, 'r-b'))!.value).toEqual(b.history);
    expect((await docs.list()).map((r) => r.id).sort()).toEqual(['r-a', 'r-b']);
  });

  it('an analysis that adds no transition rewrites the record only; one that does writes the history too', async () => {
    const a = rollout({ id: 'r-a', history: [started('2026-03-02T12:00:00.000Z')] });
    await create(a);
    const [forAnalysis] = await docs.forAnalysis(await docs.activeRecords());
    expect((forAnalysis!.value as Partial<Rollout>).history).toBeUndefined();
    expect(forAnalysis!.value.plan).toEqual(a.plan);

    const measured = { ...forAnalysis!.value, lastEvaluatedAt: '2026-03-02T12:00:30.000Z' };
    const routine = docs.recordPuts(measured, forAnalysis!.stored, forAnalysis!.version);
    expect(routine.map((p) => p.collection)).toEqual([ROLLOUTS]);
    await store.commit({ puts: routine });
    expect((await docs.get('r-a'))!.value).toEqual({ ...a, lastEvaluatedAt: '2026-03-02T12:00:30.000Z' });

    // A transition needs the history: a rollout read for analysis has none (its type says so) until
    // withHistory reads it; then the history is written with the record.
    const [again] = await docs.forAnalysis(await docs.activeRecords());
    const paused: Transition = { ...started('2026-03-02T12:01:00.000Z'), from: 'running', to: 'paused', reason: 'paused by alice' };
    const whole = (await docs.withHistory(again!))!;
    const next = { ...whole.value, state: 'paused', history: [...whole.value.history, paused] } as Rollout;
    const puts = docs.puts(next, whole.stored, whole.version);
    expect(puts.map((p) => p.collection)).toEqual([ROLLOUTS, ROLLOUT_HISTORIES]);
    await store.commit({ puts });
    expect((await docs.get('r-a'))!.value).toEqual({ ...next, lastEvaluatedAt: '2026-03-02T12:00:30.000Z' });
    // The analysis-time copy is stale now: its history is read again rather than trusted.
    expect(await docs.withHistory(again!)).toBeNull();
  });

  it('fetches only the records that changed since it last read or wrote them, and a finished one never again', async () => {
    const fetched: string[][] = [];
    const getMany = store.getMany.bind(store);
    store.getMany = async <T>(collection: string, ids: string[]) => {
      if (collection === ROLLOUTS) fetched.push([...ids]);
      return getMany<T>(collection, ids);
    };
    const history = [started('2026-03-02T12:00:00.000Z')];
    for (const r of [rollout({ id: 'r-a', history }), rollout({ id: 'r-b', history }), rollout({ id: 'r-done', state: 'completed', history })]) await create(r);

    const first = await docs.forAnalysis(await docs.activeRecords());
    expect(fetched).toEqual([['r-a', 'r-b', 'r-done']]);
    expect(first.map((d) => d.id)).toEqual(['r-a', 'r-b']); // the finished one is left out

    // This replica writes r-a; another replica writes r-b.
    const [a] = first;
    const puts = docs.recordPuts({ ...a!.value, lastEvaluatedAt: '2026-03-02T12:00:30.000Z' }, a!.stored, a!.version);
    docs.written(puts, (await store.commit({ puts })).versions);
    const other = new RolloutDocs(store);
    const [, b] = await other.forAnalysis(await other.activeRecords());
    await store.commit({ puts: other.recordPuts({ ...b!.value, lastEvaluatedAt: '2026-03-02T12:00:40.000Z' }, b!.stored, b!.version) });

    fetched.length = 0;
    const second = await docs.forAnalysis(await docs.activeRecords());
    expect(fetched).toEqual([['r-b']]); // r-a as written here, r-done known final: neither fetched
    expect(second.map((d) => [d.id, d.value.lastEvaluatedAt])).toEqual([
      ['r-a', '2026-03-02T12:00:30.000Z'],
      ['r-b', '2026-03-02T12:00:40.000Z'],
    ]);
    expect(second.map((d) => d.version)).toEqual([(await store.get(ROLLOUTS, 'r-a'))!.version, (await store.get(ROLLOUTS, 'r-b'))!.version]);

    // A replica taking the lead forgets what it kept: everything is read again.
    docs.forgetRecords();
    fetched.length = 0;
    expect((await docs.forAnalysis(await docs.activeRecords())).map((d) => d.id)).toEqual(['r-a', 'r-b']);
    expect(fetched).toEqual([['r-a', 'r-b', 'r-done']]);
  });

  it('reads a rollout stored whole (plan and history inline) and moves them out on its next write', async () => {
    const old = rollout({ id: 'r-old', plan: policy({ name: 'old-plan' }), history: [started('2026-03-02T12:00:00.000Z')] });
    await store.commit({ puts: [{ collection: ROLLOUTS, id: old.id, value: old, expectVersion: 0 }] });
    const [read] = await docs.forAnalysis(await docs.activeRecords());
    expect(read!.value).toEqual(old);
    // Step sums in their earlier shape are dropped on reading: the next analysis sums the step afresh.
    const oldSums = { ...old, id: 'r-old-sums', stepTotals: { totals: { treatment: {}, control: {} }, until: 1 } };
    await store.commit({ puts: [{ collection: ROLLOUTS, id: oldSums.id, value: oldSums, expectVersion: 0 }] });
    expect((await docs.get(oldSums.id))!.value.stepTotals).toBeUndefined();

    const whole = (await docs.withHistory(read!))!;
    const puts = docs.puts({ ...whole.value, lastEvaluatedAt: '2026-03-02T12:00:30.000Z' }, whole.stored, whole.version);
    expect(puts.map((p) => p.collection).sort()).toEqual([ROLLOUT_HISTORIES, ROLLOUT_PLANS, ROLLOUTS].sort());
    await store.commit({ puts });
    expect((await store.get<RolloutRecord>(ROLLOUTS, old.id))!.value).not.toHaveProperty('history');
    expect((await new RolloutDocs(store).get(old.id))!.value).toEqual({ ...old, lastEvaluatedAt: '2026-03-02T12:00:30.000Z' });
  });
});
