import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { stepSegments } from '../../src/rollouts/rollout-loop.js';
import { iso, rollout, SECOND, T0 } from './decide-fixtures.js';

const BUCKET = 10 * SECOND;

/** Bucket starts a window [from, to) covers, as the outcome source reads them (every bucket whose start lies inside, from the bucket holding `from`). */
function buckets([from, to]: [number, number]): number[] {
  const out: number[] = [];
  for (let t = Math.floor(from / BUCKET) * BUCKET; t < to; t += BUCKET) out.push(t);
  return out;
}

describe('the windows one analysis reads (stepSegments)', () => {
  it('reads each bucket once, and the segments add up to the step since the last analysis and to the recent window', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 3_600_000 }), // step age at the analysis
        fc.option(fc.integer({ min: 0, max: 3_600_000 }), { nil: undefined }), // how long ago the previous analysis was (none: first of the step)
        fc.constantFrom(10_000, 30_000, 45_000, 60_000), // analysis interval
        (age, sinceLast, interval) => {
          const now = T0.getTime() + age;
          const lastAt = sinceLast === undefined ? undefined : Math.max(T0.getTime(), now - sinceLast);
          const plan = { ...rollout().plan, analysisInterval: interval };
          const r = rollout({
            plan,
            stepStartedAt: iso(0),
            ...(lastAt === undefined ? {} : { stepTotals: { fields: {}, until: Math.floor(lastAt / BUCKET) * BUCKET } }),
          });
          const { windows, until } = stepSegments(r, now, BUCKET);
          const [beforeStep, completedOlder, completedRecent, filling] = windows.map(buckets) as [number[], number[], number[], number[]];
          const all = [...beforeStep, ...completedOlder, ...completedRecent, ...filling];
          expect(new Set(all).size).toBe(all.length); // disjoint

          const from = r.stepTotals?.until ?? Math.floor(T0.getTime() / BUCKET) * BUCKET;
          // What the loop read before, window by window.
          expect([...completedOlder, ...completedRecent]).toEqual(buckets([from, Math.max(from, Math.floor(now / BUCKET) * BUCKET)]));
          expect(filling).toEqual(buckets([until, now + 1]));
          expect([...beforeStep, ...completedRecent, ...filling].sort((a, b) => a - b)).toEqual(buckets([now - interval, now + 1]));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('an analysis on time reads only the buckets since the last one', () => {
    const r = rollout({ stepStartedAt: iso(0), stepTotals: { fields: {}, until: T0.getTime() + 60 * SECOND } });
    const { windows } = stepSegments(r, T0.getTime() + 90 * SECOND, BUCKET);
    expect(windows.map(buckets).map((b) => b.length)).toEqual([0, 0, 3, 1]);
  });
});
