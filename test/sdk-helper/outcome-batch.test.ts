import { describe, expect, expectTypeOf, it } from 'vitest';
import { latencyPercentile } from '../../src/metrics/outcome-math.js';
import { outcomeReportSchema, type OutcomeReport } from '../../src/metrics/outcomes.js';
import { NAME_PATTERN } from '../../src/flags/schema.js';
import { USER_SAMPLE_SIZE } from '../../src/metrics/user-sample.js';
import {
  checkLatencyBuckets,
  FLAG_NAME_PATTERN,
  MAX_RECORDS_PER_REPORT,
  MAX_USERS_PER_REPORT,
  OutcomeBatch,
  type OutcomeRecord,
  splitReports,
} from '../../src/sdk/outcome-batch.js';

describe('outcome batch', () => {
  it('adds up observations per flag and cohort into per-bucket (not cumulative) histograms', () => {
    const batch = new OutcomeBatch([10, 100]);
    for (const latencyMs of [0, 10, 10.5, 100, 101, 5000]) batch.add('checkout', 'treatment', { ok: true, latencyMs });
    batch.add('checkout', 'treatment', { ok: false, latencyMs: 3 });
    batch.add('checkout', 'control', { ok: false }); // no latency known
    expect(batch.toRecords()).toEqual([
      {
        flag: 'checkout',
        cohort: 'treatment',
        requests: 7,
        errors: 1,
        // A value equal to a bound is in that bound's bucket ("le"), like Prometheus.
        latencyMs: { buckets: { '10': 3, '100': 2, '+Inf': 2 }, sum: 0 + 10 + 10.5 + 100 + 101 + 5000 + 3 },
      },
      { flag: 'checkout', cohort: 'control', requests: 1, errors: 1 },
    ]);
  });

  it('sends every bound, empty ones too, so the controller interpolates percentiles within the right bucket', () => {
    const batch = new OutcomeBatch([10, 50, 100]);
    for (let i = 0; i < 10; i++) batch.add('f', 'treatment', { ok: true, latencyMs: 60 + i });
    const [record] = batch.toRecords();
    expect(record!.latencyMs!.buckets).toEqual({ '10': 0, '50': 0, '100': 10, '+Inf': 0 });
    const cohort = { requests: 10, errors: 0, latencyBuckets: record!.latencyMs!.buckets, latencySumMs: record!.latencyMs!.sum };
    expect(latencyPercentile(cohort, 0.5)).toBe(75); // halfway through (50, 100]
  });

  it('produces reports the controller accepts', () => {
    // Type-level: the helper's record and the route's schema describe the same shape both ways.
    expectTypeOf<OutcomeRecord>().toEqualTypeOf<OutcomeReport['records'][number]>();
    const batch = new OutcomeBatch();
    batch.add('a.b_c~d-1', 'treatment', { ok: true, latencyMs: 12 });
    batch.add('a.b_c~d-1', 'control', { ok: true, latencyMs: 20_000 });
    expect(outcomeReportSchema.safeParse({ appName: 'shop', records: batch.toRecords() }).success).toBe(true);
  });

  it('reports each cohort’s distinct users by sample hash, the smallest USER_SAMPLE_SIZE of them, and ignores what is not a hash', () => {
    const batch = new OutcomeBatch();
    const hash = (n: number) => n.toString(16).padStart(12, '0');
    for (let n = USER_SAMPLE_SIZE + 10; n >= 0; n--) batch.add('f', 'treatment', { ok: true, user: hash(n) });
    batch.add('f', 'treatment', { ok: true, user: hash(3) });
    batch.add('f', 'control', { ok: true, user: 'alice' });
    batch.add('f', 'control', { ok: true });
    const [treatment, control] = batch.toRecords();
    expect(treatment!.requests).toBe(USER_SAMPLE_SIZE + 12);
    expect(treatment!.users).toEqual(Array.from({ length: USER_SAMPLE_SIZE }, (_, n) => hash(n)));
    expect(control).toEqual({ flag: 'f', cohort: 'control', requests: 2, errors: 0 });
    expect(outcomeReportSchema.safeParse({ appName: 'shop', records: batch.toRecords() }).success).toBe(true);
  });

  it('splits records into reports the controller accepts: at most 1,000 records and 20,000 users each', () => {
    const users = (n: number) => Array.from({ length: n }, (_, i) => i.toString(16).padStart(12, '0'));
    const record = (flag: string, n: number): OutcomeRecord => ({ flag, cohort: 'treatment', requests: n, errors: 0, users: users(n) });
    const heavy = Array.from({ length: 45 }, (_, i) => record(`f${i}`, 1000));
    const reports = splitReports(heavy);
    expect(reports.map((r) => r.length)).toEqual([20, 20, 5]);
    for (const r of reports) expect(r.reduce((n, x) => n + x.users!.length, 0)).toBeLessThanOrEqual(MAX_USERS_PER_REPORT);
    const light = Array.from({ length: 2500 }, (_, i) => ({ flag: `g${i}`, cohort: 'control' as const, requests: 1, errors: 0 }));
    expect(splitReports(light).map((r) => r.length)).toEqual([MAX_RECORDS_PER_REPORT, MAX_RECORDS_PER_REPORT, 500]);
    expect(splitReports([])).toEqual([]);
  });

  it("checks flag names by the controller's own rule", () => {
    expect(FLAG_NAME_PATTERN.source).toBe(NAME_PATTERN.source);
    expect(FLAG_NAME_PATTERN.flags).toBe(NAME_PATTERN.flags);
  });

  it('ignores latencies that are not a finite number at or above 0, but counts the request', () => {
    const batch = new OutcomeBatch([10]);
    for (const latencyMs of [-1, Number.NaN, Infinity]) batch.add('f', 'control', { ok: true, latencyMs });
    expect(batch.toRecords()).toEqual([{ flag: 'f', cohort: 'control', requests: 3, errors: 0 }]);
  });

  it('refuses what the controller would refuse the whole report for, and caps the number of flags', () => {
    const batch = new OutcomeBatch([10], 2);
    expect(batch.add('bad name', 'treatment', { ok: true })).toBe(false);
    expect(batch.add('x', 'sideways' as 'treatment', { ok: true })).toBe(false);
    expect(batch.add('one', 'treatment', { ok: true })).toBe(true);
    expect(batch.add('two', 'treatment', { ok: true })).toBe(true);
    expect(batch.add('three', 'treatment', { ok: true })).toBe(false);
    expect(batch.add('one', 'treatment', { ok: true })).toBe(true); // known keys still count
    expect(batch.refused).toBe(3);
    expect(batch.toRecords().map((r) => [r.flag, r.requests])).toEqual([
      ['one', 2],
      ['two', 1],
    ]);
  });

  it.each([[[]], [[0, 10]], [[10, 10]], [[20, 10]], [[Number.NaN]], [Array.from({ length: 100 }, (_, i) => i + 1)]])(
    'refuses latency bounds %j at start-up',
    (bounds) => {
      expect(() => checkLatencyBuckets(bounds)).toThrow(TypeError);
    },
  );
});
