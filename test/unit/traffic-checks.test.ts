import { describe, expect, it } from 'vitest';
import type { Traffic } from '../../src/policies/policy-schema.js';
import { evaluateTraffic, trafficRules } from '../../src/rollouts/traffic-checks.js';
import type { TrafficWindow } from '../../src/rollouts/traffic-window.js';

const TRAFFIC: Traffic = { minExposures: 100, sampleRatio: { pValue: 0.001 } };
const SINCE = Date.parse('2026-03-02T10:00:05Z');
const COUNTING: TrafficWindow = { kind: 'counting', since: SINCE, instances: 2, gaveUp: 0 };
const WAITING: TrafficWindow = { kind: 'waiting', fetched: 1, instances: 3, until: Date.parse('2026-03-02T10:00:35Z') };
const exact = (count: number) => ({ count, variance: 0 });

describe('evaluateTraffic', () => {
  it('waits, and says for what, until the SDKs have fetched the step, showing the evaluations reported so far', () => {
    const [volume, ratio] = evaluateTraffic(TRAFFIC, { exposures: { on: 40, off: 400 }, trafficWindow: WAITING }, 10);
    expect(volume).toMatchObject({ metric: 'exposures', verdict: 'inconclusive', value: 440 });
    expect(volume!.reason).toBe(
      '440 evaluations reported since the step started; counting starts once the SDKs have fetched the step: 1 of 3 SDK instances have (at the latest 10:00:35 UTC)',
    );
    expect(ratio).toMatchObject({ metric: 'sample_ratio_users', verdict: 'inconclusive', value: null });
  });

  it('never says "evaluated 0 times": before the first report it says none has come since counting began', () => {
    const [volume] = evaluateTraffic(TRAFFIC, { exposures: { on: 0, off: 0 }, trafficWindow: COUNTING }, 10);
    expect(volume).toMatchObject({ verdict: 'inconclusive', value: 0 });
    expect(volume!.reason).toBe('no evaluations reported since 10:00:05 UTC yet, of the 100 needed (SDKs report every metrics interval, 60 s by default)');
    const [some] = evaluateTraffic(TRAFFIC, { exposures: { on: 5, off: 36 }, trafficWindow: COUNTING }, 10);
    expect(some!.reason).toBe('41 evaluations reported since 10:00:05 UTC, of the 100 needed');
  });

  it.each<[string, { on: number; off: number }, number, 'pass' | 'fail', RegExp | undefined]>([
    ['matching users at a 10 % step pass', { on: 104, off: 896 }, 10, 'pass', undefined],
    [
      '5 % of users treated at a 1 % step fail, with the reason',
      { on: 500, off: 9500 },
      1,
      'fail',
      /sample ratio mismatch: 5% of 10,000 users got the feature, the step serves 1%/,
    ],
    ['a 2.5 % step serves 2 %: 2 % of users is a match', { on: 200, off: 9800 }, 2.5, 'pass', undefined],
    ['5 users of 100 at 1 % is chance, not a mismatch (exact test)', { on: 5, off: 95 }, 1, 'pass', undefined],
  ])('judges users: %s', (_name, users, percentage, verdict, reason) => {
    const checks = evaluateTraffic(
      TRAFFIC,
      { exposures: { on: 10_000, off: 10_000 }, users: { on: exact(users.on), off: exact(users.off) }, trafficWindow: COUNTING },
      percentage,
    );
    const ratio = checks[1]!;
    expect(ratio).toMatchObject({ metric: 'sample_ratio_users', verdict, samples: users.on + users.off, test: { method: 'share-of-users' } });
    expect(ratio.informational).toBeUndefined();
    if (reason) expect(ratio.reason).toMatch(reason);
    else expect(ratio.reason).toBeUndefined();
  });

  it('says when user counts were estimated from a sample', () => {
    const [, ratio] = evaluateTraffic(
      TRAFFIC,
      {
        exposures: { on: 1, off: 1 },
        users: { on: { count: 5000, variance: 5000 ** 2 / 1022 }, off: { count: 95_000, variance: 95_000 ** 2 / 1022 } },
        trafficWindow: COUNTING,
      },
      1,
    );
    expect(ratio!.verdict).toBe('fail');
    expect(ratio!.reason).toMatch(/of about 100,000 users got the feature.*user counts estimated from a sample, with its error allowed for/);
  });

  it('without per-user counts, shows the share of evaluations for information and does not judge it: heavy users never hold the step', () => {
    // Half the evaluations got the feature at a 10 % step: a few treated users are heavy.
    const [volume, ratio] = evaluateTraffic(TRAFFIC, { exposures: { on: 5000, off: 5000 }, trafficWindow: COUNTING }, 10);
    expect(volume!.verdict).toBe('pass');
    expect(ratio).toMatchObject({
      metric: 'sample_ratio',
      verdict: 'pass',
      informational: true,
      value: 0.5,
      samples: 10_000,
      test: { method: 'share-of-evaluations' },
    });
    expect(ratio!.rule).toBe('evaluations in treatment = 10% (not judged: no per-user counts)');
    expect(ratio!.reason).toMatch(/^not judged: no application reported users.*\(50% of 10,000 evaluations got the feature\)$/);
  });

  it('without a sample-ratio check, only the volume', () => {
    expect(evaluateTraffic({ minExposures: 10 }, { exposures: { on: 1, off: 20 }, trafficWindow: COUNTING }, 10)).toHaveLength(1);
  });

  it('lists the rules in words', () => {
    expect(trafficRules(TRAFFIC)).toEqual([
      'the flag evaluated at least 100 times in the step (evaluations SDKs report, counted once the SDKs have fetched the step)',
      "the share of users that got the feature matches the step's percentage (sample-ratio check on distinct users, p >= 0.001); " +
        'judged where applications report users (the SDK helper, the frontend API, OFREP), shown for information on evaluations otherwise',
    ]);
  });
});
