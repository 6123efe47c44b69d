import { describe, expect, it } from 'vitest';
import { addFields, fieldsOf, requestsIn, sumFields, totalsOf, totalsOfSum } from '../../src/metrics/outcome-fields.js';
import { addTotals } from '../../src/metrics/outcome-math.js';
import type { OutcomeTotals } from '../../src/metrics/outcome-model.js';

const a: OutcomeTotals = {
  treatment: { requests: 10, errors: 1, latencyBuckets: { '+10': 4, '+100': 0, '+Inf': 1 }, latencySumMs: 120.5 },
  control: { requests: 90, errors: 0, latencyBuckets: { '+10': 80 }, latencySumMs: 700 },
};
const b: OutcomeTotals = {
  treatment: { requests: 5, errors: 0, latencyBuckets: { '+10': 1, '+1000': 2 }, latencySumMs: 30 },
  control: { requests: 0, errors: 0, latencyBuckets: {}, latencySumMs: 0 },
};

describe('outcome fields', () => {
  it('turn into per-cohort totals and back unchanged, empty histogram buckets included', () => {
    expect(totalsOf(fieldsOf(a))).toEqual(a);
    expect(totalsOf(fieldsOf(b))).toEqual(b);
    expect(totalsOf({})).toEqual(totalsOf(fieldsOf(totalsOf({}))));
  });

  it('add up as the totals they stand for, leaving their sources as they were', () => {
    const fa = fieldsOf(a);
    const fb = fieldsOf(b);
    const copyA = { ...fa };
    const sum = sumFields(fa, fb, {});
    expect(fa).toEqual(copyA);
    expect(totalsOf(sum)).toEqual(addTotals(a, b));
    expect(requestsIn(sum, 'treatment')).toBe(15);
    expect(requestsIn(sum, 'control')).toBe(90);
    expect(addFields(fa, fb)).toBe(fa); // in place
    expect(totalsOf(fa)).toEqual(addTotals(a, b));
  });

  it('make the same totals whether summed first or added into the totals one by one, per-user counts and fractions included', () => {
    const units = (seed: number) => ({
      requests: Array.from({ length: 64 }, (_, k) => (k * seed) % 7),
      errors: Array.from({ length: 64 }, (_, k) => ((k * seed) % 7) >> 2),
    });
    const withUnits = (t: OutcomeTotals, seed: number): OutcomeTotals => ({
      treatment: { ...t.treatment, latencySumMs: t.treatment.latencySumMs + 0.1 * seed, units: units(seed) },
      control: { ...t.control, latencySumMs: t.control.latencySumMs + 0.7, units: units(seed + 1) },
    });
    const parts = [fieldsOf(withUnits(a, 1)), fieldsOf(withUnits(b, 2)), fieldsOf(withUnits(a, 3)), {}];
    expect(totalsOfSum(...parts)).toEqual(totalsOf(sumFields(...parts)));
    expect(totalsOfSum(...parts).treatment.latencySumMs).toBe(totalsOf(sumFields(...parts)).treatment.latencySumMs);
    expect(totalsOfSum(...parts).treatment.units!.requests[5]).toBe((5 % 7) + (10 % 7) + (15 % 7));
  });

  it('key histogram bounds with a sign, however the totals they came from spelled them', () => {
    const spelled = { ...a, treatment: { ...a.treatment, latencyBuckets: { '10': 1, '10.0': 2, '1e2': 3, '+Inf': 4 } } };
    expect(fieldsOf(spelled)).toMatchObject({ 'treatment\tle\t10': 3, 'treatment\tle\t100': 3, 'treatment\tle\t+Inf': 4 });
    expect(totalsOf(fieldsOf(spelled)).treatment.latencyBuckets).toEqual({ '+10': 3, '+100': 3, '+Inf': 4 });
  });

  it('ignore fields of other cohorts or kinds', () => {
    expect(totalsOf({ 'canary\trequests': 3, 'treatment\tbogus': 1, 'treatment\trequests': 2 })).toEqual(totalsOf({ 'treatment\trequests': 2 }));
  });
});
