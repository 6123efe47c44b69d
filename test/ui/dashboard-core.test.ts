import { describe, expect, it } from 'vitest';
import { emptyCohort, emptyTotals } from '../../src/metrics/outcome-math.js';
import type { OutcomeTotals } from '../../src/metrics/outcome-model.js';
import type { AuditEvent } from '../../src/audit/chain.js';
import { matchesFilter } from '../../src/ui/recent-audit.js';
import { rolloutStatus, type Condition } from '../../src/rollouts/rollout-status.js';
import { buildSeries, readRolloutSeries, SeriesCache, seriesWindows } from '../../src/ui/rollout-series.js';
import type { OutcomeSource, WindowQuery } from '../../src/metrics/outcome-model.js';
import { fieldsOf } from '../../src/metrics/outcome-fields.js';
import { MINUTE, SHANGHAI_OFFICE_HOURS, SHANGHAI_TUESDAY_MORNING, T0, at, bob, iso, policy, rollout } from '../unit/decide-fixtures.js';

/** The dashboard's pure parts: what a rollout waits for, how its series is cut and computed, audit filtering. */

const byKind = (items: Condition[]) => Object.fromEntries(items.map((i) => [i.kind, i]));
const gate = (verdict: 'pass' | 'fail' | 'inconclusive', samples: number) => ({
  rule: 'error_rate(treatment) <= 0.01',
  metric: 'error_rate',
  cohort: 'treatment',
  threshold: 0.01,
  value: 0.005,
  samples,
  verdict,
});

/** Where a rollout stands when its flag is not killed. */
const progressOf = (r: Parameters<typeof rolloutStatus>[0], now: Date) => rolloutStatus(r, undefined, now);

describe('what a rollout waits for', () => {
  it('a step that just began waits for time, samples, gates, approval; the window is open', () => {
    const p = progressOf(rollout(), at(MINUTE));
    expect(p).toMatchObject({ steps: [1, 10, 50, 100], stepIndex: 0, active: true });
    const items = byKind(p.waitingFor);
    expect(items.time).toEqual({ kind: 'time', met: false, stepStartedAt: T0.toISOString(), minDurationMs: 10 * MINUTE });
    expect(items.samples).toEqual({ kind: 'samples', met: false, samples: 0, minSamples: 1000 });
    expect(items.gates).toEqual({ kind: 'gates', met: false, pass: 0, fail: 0, inconclusive: 0, total: 2, reason: 'step just started' });
    expect(items.approval).toEqual({ kind: 'approval', met: false, approvals: 0, required: 1, roles: ['release-manager'], forPercentage: 10, approvedBy: [] });
    expect(items.window).toEqual({ kind: 'window', met: true });
  });

  it("counts the policy's traffic checks among the gates: all passing is met", () => {
    const traffic = { ...gate('pass', 5000), rule: 'evaluations >= 100', metric: 'exposures', cohort: 'all' };
    const checked = rollout({
      state: 'awaiting_approval',
      gates: [traffic, { ...traffic, metric: 'sample_ratio' }, gate('pass', 1500), { ...gate('pass', 1500), rule: 'p99' }],
      stepVerdict: { kind: 'healthy' },
    });
    expect(byKind(progressOf(checked, at(20 * MINUTE)).waitingFor).gates).toEqual({ kind: 'gates', met: true, pass: 4, fail: 0, inconclusive: 0, total: 4 });
  });

  it('a healthy step awaiting approval waits only for the approval; one approval meets it', () => {
    const healthy = rollout({
      state: 'awaiting_approval',
      gates: [gate('pass', 1500), { ...gate('pass', 1500), rule: 'p99' }],
      stepVerdict: { kind: 'healthy' },
    });
    const unmet = progressOf(healthy, at(20 * MINUTE)).waitingFor.filter((i) => !i.met);
    expect(unmet.map((i) => i.kind)).toEqual(['approval']);
    const approved = { ...healthy, approvals: [{ by: bob, at: iso(21 * MINUTE), step: 1 }] };
    expect(progressOf(approved, at(22 * MINUTE)).waitingFor.every((i) => i.met)).toBe(true);
  });

  it('counts failing gates and the samples the gates saw', () => {
    const failing = rollout({ gates: [gate('fail', 1200), gate('inconclusive', 300)] });
    const items = byKind(progressOf(failing, at(20 * MINUTE)).waitingFor);
    expect(items.gates).toMatchObject({ met: false, pass: 0, fail: 1, inconclusive: 1 });
    expect(items.samples).toMatchObject({ met: true, samples: 1200 });
  });

  it('names a closed change window, and a paused rollout waits for a person', () => {
    const windowed = rollout({ plan: policy({ windows: SHANGHAI_OFFICE_HOURS }) });
    expect(byKind(progressOf(windowed, T0).waitingFor).window).toMatchObject({ met: false });
    expect(byKind(progressOf(windowed, SHANGHAI_TUESDAY_MORNING).waitingFor).window).toMatchObject({ met: true });
    const paused = rollout({ state: 'paused', pauseReason: 'rejected by Bob' });
    expect(progressOf(paused, T0).waitingFor).toEqual([{ kind: 'person', met: false, reason: 'rejected by Bob' }]);
  });

  it('the last step asks for no approval, and a finished rollout waits for nothing', () => {
    const last = progressOf(rollout({ stepIndex: 3, percentage: 100 }), T0);
    expect(last.waitingFor.map((i) => i.kind)).toEqual(['time', 'samples', 'gates']);
    const done = progressOf(rollout({ state: 'completed', stepIndex: 3 }), T0);
    expect(done).toMatchObject({ active: false, waitingFor: [] });
  });
});

describe('series windows', () => {
  it('one point per bucket while the rollout is short, aligned to buckets', () => {
    const w = seriesWindows(10_500, 60_000, 10_000);
    expect(w).toEqual([
      [10_000, 20_000],
      [20_000, 30_000],
      [30_000, 40_000],
      [40_000, 50_000],
      [50_000, 60_000],
    ]);
  });

  it('never more than the maximum number of points: buckets are grouped instead', () => {
    const w = seriesWindows(0, 2 * 24 * 3600_000, 10_000, 120);
    expect(w.length).toBeLessThanOrEqual(120);
    expect(w[0]![0]).toBe(0);
    expect(w.at(-1)![1]).toBeGreaterThanOrEqual(2 * 24 * 3600_000);
    const width = w[0]![1] - w[0]![0];
    expect(width % 10_000).toBe(0);
    expect(w.every(([a, b]) => b - a === width)).toBe(true);
  });

  it('a rollout younger than a bucket still has one point', () => {
    expect(seriesWindows(5, 6, 10_000)).toEqual([[0, 10_000]]);
  });
});

describe('series values', () => {
  const totals = (tReq: number, tErr: number, cReq: number, cErr: number, latency?: Record<string, number>): OutcomeTotals => ({
    treatment: { ...emptyCohort(), requests: tReq, errors: tErr, latencyBuckets: latency ?? {} },
    control: { ...emptyCohort(), requests: cReq, errors: cErr },
  });

  it('error rate and latency per cohort per point, null where there was no traffic; gates and rollback levels alongside', () => {
    const r = rollout({
      plan: policy({
        gates: [
          { metric: 'error_rate', cohort: 'treatment', max: 0.01 },
          { metric: 'error_rate', compare: 'control', maxRelativeIncrease: 0.5 },
        ],
      }),
    });
    const windows: Array<[number, number]> = [
      [0, 10],
      [10, 20],
    ];
    const s = buildSeries(r, windows, [totals(200, 4, 100, 1, { '100': 200 }), emptyTotals()], 20);
    expect(s.times).toEqual([0, 10]);
    expect(s.pointMs).toBe(10);
    expect(s.cohorts.treatment.requests).toEqual([200, 0]);
    expect(s.cohorts.treatment.metrics.error_rate).toEqual([0.02, null]);
    expect(s.cohorts.control.metrics.error_rate).toEqual([0.01, null]);
    expect(s.cohorts.treatment.metrics.latency_p99_ms).toEqual([99, null]);
    expect(s.gates).toEqual([
      { rule: 'error_rate(treatment) <= 0.01', metric: 'error_rate', cohort: 'treatment', max: 0.01 },
      { rule: 'error_rate(treatment) <= control x 1.5', metric: 'error_rate', cohort: 'treatment', maxRelativeIncrease: 0.5 },
    ]);
    expect(s.rollback).toEqual([{ metric: 'error_rate', cohort: 'treatment', above: 0.05 }]);
  });

  it('the percentage steps follow the history; a rollback serves nothing', () => {
    const r = rollout({
      state: 'rolled_back',
      history: [
        { at: iso(0), from: 'pending', to: 'running', stepIndex: 0, percentage: 1, reason: 'rollout started', actor: 'controller' },
        { at: iso(MINUTE), from: 'running', to: 'running', stepIndex: 1, percentage: 10, reason: 'advanced to 10%', actor: 'controller' },
        { at: iso(2 * MINUTE), from: 'running', to: 'rolled_back', stepIndex: 1, percentage: 10, reason: 'breach', actor: 'controller' },
      ],
    });
    const s = buildSeries(r, [[0, 10]], [emptyTotals()], 10);
    expect(s.percentage.map((p) => [p.percentage, p.state])).toEqual([
      [0, 'pending'],
      [1, 'running'],
      [10, 'running'],
      [0, 'rolled_back'],
    ]);
  });
});

describe('series reads', () => {
  /** Every window asked for holds 10 treatment requests; the source records which windows were read. */
  function countingSource(bucketMs: number): OutcomeSource & { reads: Array<[number, number]> } {
    const reads: Array<[number, number]> = [];
    const tenRequests = (): OutcomeTotals => ({ treatment: { ...emptyCohort(), requests: 10 }, control: emptyCohort() });
    return {
      bucketMs,
      reads,
      sum: async () => tenRequests(),
      sumWindowsMany: async (queries: WindowQuery[]) => queries.map((q) => q.windows.map((w) => (reads.push(w), fieldsOf(tenRequests())))),
    };
  }

  it('settled points are read once; each poll reads only the points that can still change', async () => {
    const source = countingSource(10_000);
    const cache = new SeriesCache();
    const r = rollout(); // started at T0
    const first = await readRolloutSeries(source, r, at(60_000), cache);
    expect(first.times).toHaveLength(6);
    expect(source.reads).toHaveLength(6);
    source.reads.length = 0;
    const second = await readRolloutSeries(source, r, at(65_000), cache);
    // [50s, 60s) ended less than a bucket ago, [60s, 70s) is still filling: only those two are read.
    expect(source.reads.map(([start]) => start - T0.getTime())).toEqual([50_000, 60_000]);
    expect(second.cohorts.treatment.requests).toEqual([10, 10, 10, 10, 10, 10, 10]);
    // Without a cache every point is read each time.
    source.reads.length = 0;
    await readRolloutSeries(source, r, at(65_000));
    expect(source.reads).toHaveLength(7);
  });

  it('an active rollout’s series is the same all through one point, so polls within it are 304s', async () => {
    const source = countingSource(10_000);
    const r = rollout();
    const early = await readRolloutSeries(source, r, at(61_000));
    expect(await readRolloutSeries(source, r, at(69_999))).toEqual(early);
    expect(early.to).toBe(at(70_000).getTime());
    expect((await readRolloutSeries(source, r, at(70_001))).to).toBe(at(80_000).getTime());
  });
});

describe('audit filter', () => {
  const event = {
    seq: 3,
    at: iso(0),
    actor: { type: 'token', id: 'tok-1', name: 'Rita Release' },
    action: 'rollout.approve',
    target: { type: 'rollout', id: 'r-42', environment: 'production' },
    before: null,
    after: null,
    prevHash: '',
    hash: '',
  } satisfies AuditEvent;

  it('matches parts of action, target (type, id, environment) and actor (name or id), in any case', () => {
    expect(matchesFilter(event, {})).toBe(true);
    expect(matchesFilter(event, { action: 'APPROVE' })).toBe(true);
    expect(matchesFilter(event, { target: 'rollout:r-42' })).toBe(true);
    expect(matchesFilter(event, { target: 'production' })).toBe(true);
    expect(matchesFilter(event, { actor: 'rita' })).toBe(true);
    expect(matchesFilter(event, { actor: 'tok-1', action: 'rollout' })).toBe(true);
    expect(matchesFilter(event, { action: 'kill' })).toBe(false);
    expect(matchesFilter(event, { target: 'flag:' })).toBe(false);
    expect(matchesFilter(event, { actor: 'erin' })).toBe(false);
  });
});
