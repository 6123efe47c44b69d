import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { outcomeReportSchema, StoreOutcomeSource } from '../../src/metrics/outcomes.js';
import { fieldsOf, totalsOf } from '../../src/metrics/outcome-fields.js';
import { addCohort, emptyCohort } from '../../src/metrics/outcome-math.js';
import { UNIT_BUCKETS } from '../../src/metrics/outcome-model.js';
import { OutcomeBatch, UNIT_BUCKET_COUNT } from '../../src/sdk/outcome-batch.js';
import { openEmbeddedStore, type Store } from '../../src/store/index.js';

/**
 * Outcomes per hashed user bucket: what the SDK helper counts, what the API accepts, and what the
 * store adds up across reports and time, so that checks can judge users rather than requests.
 */

describe('outcomes per hashed user bucket', () => {
  let store: Store;
  beforeEach(async () => {
    store = await openEmbeddedStore(mkdtempSync(path.join(os.tmpdir(), 'rc-units-')));
  });
  afterEach(() => store.close());

  it('the last bucket the helper counts in is one the controller accepts', () => {
    const batch = new OutcomeBatch();
    batch.add('checkout', 'control', { ok: true, unit: UNIT_BUCKET_COUNT - 1 });
    const [record] = batch.toRecords();
    expect(record!.units).toEqual({ [String(UNIT_BUCKETS - 1)]: { requests: 1, errors: 0 } });
    expect(outcomeReportSchema.safeParse({ appName: 'shop', records: [record] }).success).toBe(true);
  });

  it('the helper counts each observation into its bucket; observations without one count only in the totals', () => {
    const batch = new OutcomeBatch();
    batch.add('checkout', 'treatment', { ok: true, unit: 3 });
    batch.add('checkout', 'treatment', { ok: false, unit: 3 });
    batch.add('checkout', 'treatment', { ok: true, unit: 60 });
    batch.add('checkout', 'treatment', { ok: false });
    batch.add('checkout', 'treatment', { ok: true, unit: 64 }); // out of range: counted, not bucketed
    const [record] = batch.toRecords();
    expect(record).toMatchObject({ requests: 5, errors: 2, units: { '3': { requests: 2, errors: 1 }, '60': { requests: 1, errors: 0 } } });
    expect(outcomeReportSchema.safeParse({ appName: 'shop', records: [record] }).success).toBe(true);
  });

  it.each([
    [{ '64': { requests: 1, errors: 0 } }, 'records.0.units'],
    [{ '07': { requests: 1, errors: 0 } }, 'records.0.units'],
    [{ '5': { requests: 1, errors: 2 } }, 'records.0.units.5.errors'],
    [{ '5': { requests: 8, errors: 0 }, '6': { requests: 8, errors: 0 } }, 'records.0.units'],
  ])('refuses units %j, naming %s', (units, where) => {
    const parsed = outcomeReportSchema.safeParse({ appName: 'shop', records: [{ flag: 'f', cohort: 'treatment', requests: 10, errors: 0, units }] });
    expect(parsed.success).toBe(false);
    const paths = parsed.error!.issues.map((i) => i.path.join('.'));
    expect(paths.some((p) => p.startsWith(where))).toBe(true);
  });

  it('reports from two application instances add up per bucket in the store, across time buckets', async () => {
    const outcomes = new StoreOutcomeSource(store, 1000);
    const report = (units: Record<string, { requests: number; errors: number }>, requests: number, errors: number) =>
      outcomeReportSchema.parse({ appName: 'shop', records: [{ flag: 'f', cohort: 'treatment', requests, errors, units }] });
    await outcomes.record('production', report({ '1': { requests: 4, errors: 1 }, '2': { requests: 1, errors: 0 } }, 5, 1), 10_000);
    await outcomes.record('production', report({ '1': { requests: 2, errors: 2 } }, 3, 2), 10_500);
    await outcomes.record('production', report({ '63': { requests: 7, errors: 0 } }, 7, 0), 12_100);
    const totals = await outcomes.sum('production', 'f', 0, 20_000);
    expect(totals.treatment).toMatchObject({ requests: 15, errors: 3 });
    expect(totals.treatment.units!.requests.slice(0, 3)).toEqual([0, 6, 1]);
    expect(totals.treatment.units!.errors.slice(0, 3)).toEqual([0, 3, 0]);
    expect(totals.treatment.units!.requests[63]).toBe(7);
    // Control reported nothing per user: it is judged by requests.
    expect(totals.control.units).toBeUndefined();
    // Fields and totals are each other's inverse, units included; cohorts add bucket by bucket.
    expect(totalsOf(fieldsOf(totals))).toEqual(totals);
    expect(addCohort(totals.treatment, totals.treatment).units!.requests[1]).toBe(12);
    expect(addCohort(totals.treatment, emptyCohort()).units!.requests[63]).toBe(7);
  });
});
