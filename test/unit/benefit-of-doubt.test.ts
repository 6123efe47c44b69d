import { describe, expect, it } from 'vitest';
import type { CohortTotals, OutcomeTotals } from '../../src/metrics/outcome-model.js';
import { UNIT_BUCKETS } from '../../src/metrics/outcome-model.js';
import { decide } from '../../src/rollouts/decide.js';
import type { Rollout } from '../../src/rollouts/rollout-model.js';
import { typicalRate } from '../../src/rollouts/unit-statistics.js';
import { MINUTE, analysis, at, noApprovalPolicy, rollout, totals } from './decide-fixtures.js';

/**
 * The policy's benefit of the doubt (policy-schema.ts `benefitOfDoubt`, judge-step.ts): a confidence
 * gate over its line but not beyond doubt passes after `after` × the step's minimum duration and
 * samples, unless the typical user is more than `upTo` × over the line. The base plan's minimums
 * are 10 minutes and 1000 treatment samples, so the default (after 2) applies from 20 minutes and
 * 2000 samples.
 */

const COMPARE = { metric: 'error_rate', compare: 'control', maxRelativeIncrease: 0.2, confidence: 0.95 } as const;
const onComparison = (extra: Parameters<typeof noApprovalPolicy>[0] = {}): Rollout =>
  rollout({ plan: noApprovalPolicy({ gates: [COMPARE], rollback: [], ...extra }) });

/** Requests and errors spread over `buckets` hashed user buckets, the remainder in the first ones. */
function spread(requests: number, errors: number, buckets: number): CohortTotals['units'] {
  const units = { requests: new Array<number>(UNIT_BUCKETS).fill(0), errors: new Array<number>(UNIT_BUCKETS).fill(0) };
  for (let k = 0; k < buckets; k++) {
    units.requests[k] = Math.floor(requests / buckets) + (k < requests % buckets ? 1 : 0);
    units.errors[k] = Math.floor(errors / buckets) + (k < errors % buckets ? 1 : 0);
  }
  return units;
}

function withUnits(t: OutcomeTotals, units: { treatment: CohortTotals['units']; control: CohortTotals['units'] }): OutcomeTotals {
  return { treatment: { ...t.treatment, units: units.treatment }, control: { ...t.control, units: units.control } };
}

/** Treatment 2000 requests: one heavy, failing user's bucket (600 requests, 36 errors) and 15 ordinary ones at 0.3 %. */
function oneFailingHeavyUser(): OutcomeTotals {
  const units = spread(1400, 4, 15);
  units!.requests.splice(15, 1, 600);
  units!.errors.splice(15, 1, 36);
  const base = totals({ treatment: { requests: 2000, errors: 40 }, control: { requests: 20_000, errors: 100 } });
  return withUnits(base, { treatment: units, control: spread(20_000, 100, UNIT_BUCKETS) });
}

/** Treatment 2000 requests at 2.2 % in four buckets of users, three of them near 3 %: most users fail more. */
function broadRegression(): OutcomeTotals {
  const units = spread(2000, 0, 4);
  units!.errors.splice(0, 4, 0, 14, 15, 15);
  const base = totals({ treatment: { requests: 2000, errors: 44 }, control: { requests: 20_000, errors: 100 } });
  return withUnits(base, { treatment: units, control: spread(20_000, 100, UNIT_BUCKETS) });
}

const ORDINARY_EXCESS = totals({ treatment: { requests: 2000, errors: 26 }, control: { requests: 10_000, errors: 100 } });

describe('benefit of the doubt', () => {
  it.each([
    {
      name: '1.3 % vs 1 % at 15 minutes and 2000 samples: before 2x the minimum duration → still waiting',
      rollout: onComparison(),
      input: analysis(ORDINARY_EXCESS),
      now: at(15 * MINUTE),
      advanced: false,
      reason: /not yet beyond doubt/,
    },
    {
      name: '1.3 % vs 1 % at 25 minutes but 1500 samples: before 2x the minimum samples → still waiting',
      rollout: onComparison(),
      input: analysis(totals({ treatment: { requests: 1500, errors: 20 }, control: { requests: 10_000, errors: 100 } })),
      now: at(25 * MINUTE),
      advanced: false,
      reason: /not yet beyond doubt/,
    },
    {
      name: '1.3 % vs 1 % at 25 minutes and 2000 samples (1.08x the line, not beyond doubt) → passes on the benefit of the doubt',
      rollout: onComparison(),
      input: analysis(ORDINARY_EXCESS),
      now: at(25 * MINUTE),
      advanced: true,
    },
    {
      name: '1.9 % vs 1 % (1.6x the line, not beyond doubt at 2000 samples) → a gross excess keeps waiting',
      rollout: onComparison(),
      input: analysis(totals({ treatment: { requests: 2000, errors: 38 }, control: { requests: 10_000, errors: 100 } })),
      now: at(25 * MINUTE),
      advanced: false,
      reason: /not yet beyond doubt/,
    },
    {
      name: 'benefitOfDoubt: false → 1.3 % vs 1 % waits however long the step has run',
      rollout: onComparison({ benefitOfDoubt: false }),
      input: analysis(ORDINARY_EXCESS),
      now: at(50 * MINUTE),
      advanced: false,
      reason: /not yet beyond doubt/,
    },
    {
      name: 'upTo 3: 1.9 % vs 1 % is within 3x the line → passes',
      rollout: onComparison({ benefitOfDoubt: { after: 2, upTo: 3 } }),
      input: analysis(totals({ treatment: { requests: 2000, errors: 38 }, control: { requests: 10_000, errors: 100 } })),
      now: at(25 * MINUTE),
      advanced: true,
    },
    {
      name: 'per-user counts: 2 % in treatment carried by one heavy failing user → the typical user is fine → passes',
      rollout: onComparison(),
      input: analysis(oneFailingHeavyUser()),
      now: at(25 * MINUTE),
      advanced: true,
    },
    {
      name: 'per-user counts: 2.2 % from most treatment users → a regression most users feel → keeps waiting',
      rollout: onComparison(),
      input: analysis(broadRegression()),
      now: at(25 * MINUTE),
      advanced: false,
      reason: /not yet beyond doubt/,
    },
  ])('$name', ({ rollout: before, input, now, advanced, reason }) => {
    const decision = decide(before, input, now);
    expect(decision.kind).toBe('decided');
    if (decision.kind !== 'decided') return;
    const next = decision.next;
    if (advanced) {
      expect(next.stepIndex).toBe(1);
      const gate = next.history.at(-1)!.gates![0]!;
      expect(gate).toMatchObject({ verdict: 'pass', benefitOfDoubt: true, reason: /benefit of the doubt/ });
      expect(gate.doubtful).toBeUndefined();
    } else {
      expect(next.stepIndex).toBe(0);
      expect(next.stepVerdict).toMatchObject({ kind: 'waiting', reason });
      expect(next.gates[0]).toMatchObject({ verdict: 'inconclusive', doubtful: { excess: expect.any(Number) } });
    }
  });

  it('harm shown beyond doubt still fails at once, whatever the benefit of the doubt', () => {
    const big = totals({ treatment: { requests: 100_000, errors: 1400 }, control: { requests: 100_000, errors: 1000 } });
    const decision = decide(onComparison({ benefitOfDoubt: { after: 1, upTo: 100 } }), analysis(big), at(60 * MINUTE));
    expect(decision.kind === 'decided' && decision.next.stepVerdict.kind).toBe('failing');
  });
});

describe('typicalRate: the cohort without its worst eighth of user buckets', () => {
  it.each([
    { name: 'no requests → undefined', requests: [], errors: [], want: undefined },
    { name: 'one bucket → its own rate', requests: [100], errors: [5], want: 0.05 },
    { name: 'two buckets → the one with fewer errors', requests: [100, 100], errors: [9, 1], want: 0.01 },
    {
      name: 'sixteen buckets, two heavy failing ones → both left out',
      requests: [...new Array(14).fill(100), 1000, 1000],
      errors: [...new Array(14).fill(1), 200, 100],
      want: 14 / 1400,
    },
    { name: 'eight buckets, the same rate everywhere → that rate', requests: new Array(8).fill(50), errors: new Array(8).fill(1), want: 0.02 },
  ])('$name', ({ requests, errors, want }) => {
    const b = {
      requests: [...requests, ...new Array(UNIT_BUCKETS - requests.length).fill(0)],
      errors: [...errors, ...new Array(UNIT_BUCKETS - errors.length).fill(0)],
    };
    const got = typicalRate(b);
    if (want === undefined) expect(got).toBeUndefined();
    else expect(got).toBeCloseTo(want, 12);
  });
});
