import { describe, expect, it } from 'vitest';
import { rolloutStatus, statusLine, type RolloutStatus } from '../../src/rollouts/rollout-status.js';
import type { Rollout } from '../../src/rollouts/rollout-model.js';
import type { KillSwitch } from '../../src/flags/schema.js';
import { emptyTotals } from '../../src/metrics/outcome-math.js';
import { decide } from '../../src/rollouts/decide.js';
import { T0, at, bob, expectDecided, MINUTE, onStep, policy, rollout } from './decide-fixtures.js';
import { rolledBackRollout } from '../reports/report-fixtures.js';

/**
 * The one source of where a rollout stands: what it serves (with the flag's kill switch), what it
 * waits for, how it ended and what a person may do next. One row per situation a screen shows.
 */

const KILL: KillSwitch = { reason: 'P0 incident', actor: 'Bob', at: at(MINUTE).toISOString() };
const goNoGo = (): Rollout =>
  expectDecided(decide(rollout({ state: 'pending', percentage: 0 }), { kind: 'analysis', measurements: { step: emptyTotals(), recent: emptyTotals() } }, T0))
    .next;

interface Row {
  name: string;
  rollout: Rollout;
  kill?: KillSwitch;
  expect: {
    served: Pick<RolloutStatus['served'], 'percentage' | 'killed' | 'text'>;
    started: boolean;
    awaitingStep: number | null;
    /** Kinds of the unmet conditions, in order. */
    unmet: string[];
    nextSteps: string[];
    line: RegExp;
  };
}

const rows: Row[] = [
  {
    name: 'a running step serves its percentage and waits for time, samples and gates',
    rollout: rollout(),
    expect: {
      served: { percentage: 1, killed: false, text: 'serving 1%' },
      started: true,
      awaitingStep: null,
      unmet: ['time', 'samples', 'gates', 'approval'],
      nextSteps: [],
      line: /^running, serving 1%; waiting for the step's minimum time/,
    },
  },
  {
    name: 'the Go/No-Go: nothing served, the 1% step awaits approval',
    rollout: goNoGo(),
    expect: {
      served: { percentage: 0, killed: false, text: 'serving nobody (0%)' },
      started: false,
      awaitingStep: 1,
      unmet: ['approval'],
      nextSteps: [],
      line: /^awaiting approval, serving nobody \(0%\); waiting for approval for 1%: 0 of 1 \(release-manager\)\.$/,
    },
  },
  {
    name: 'a running rollout whose flag was killed by hand: served disabled, waiting for a person',
    rollout: onStep(1),
    kill: KILL,
    expect: {
      served: { percentage: 0, killed: true, text: 'served disabled (kill switch: P0 incident)' },
      started: true,
      awaitingStep: null,
      unmet: ['flag-killed', 'time', 'samples', 'gates', 'approval'],
      nextSteps: [],
      line: /served disabled \(kill switch: P0 incident\); waiting for the flag is killed here/,
    },
  },
  {
    name: 'rolled back, kill switch on: served disabled; start again from 0 % or restore with a warning',
    rollout: rolledBackRollout(),
    kill: KILL,
    expect: {
      served: { percentage: 0, killed: true, text: 'served disabled (kill switch: P0 incident)' },
      started: true,
      awaitingStep: null,
      unmet: [],
      nextSteps: ['new-rollout', 'restore-flag'],
      line: /^Rolled back at 1%: checkout-v2 is served disabled \(kill switch: P0 incident\) in production\. Cause: error_rate\(treatment\) > 0\.05 for 5m: 8% over 2,000 requests \(threshold 5%\)\.$/,
    },
  },
  {
    name: 'rolled back, then restored by hand: it serves its last percentage again, unwatched',
    rollout: rolledBackRollout(),
    expect: {
      served: { percentage: 1, killed: false, text: 'serving 1%' },
      started: true,
      awaitingStep: null,
      unmet: [],
      nextSteps: ['new-rollout'],
      line: /^Rolled back at 1%: checkout-v2 is serving 1% in production/,
    },
  },
  {
    name: 'completed, but the flag killed since: served disabled, not "100 %"',
    rollout: onStep(3, { state: 'completed' }),
    kill: KILL,
    expect: {
      served: { percentage: 0, killed: true, text: 'served disabled (kill switch: P0 incident)' },
      started: true,
      awaitingStep: null,
      unmet: [],
      nextSteps: ['new-rollout', 'restore-flag'],
      line: /^Completed: checkout-v2 reached 100% in production; now served disabled/,
    },
  },
  {
    name: 'completed and live: serving 100 %',
    rollout: onStep(3, { state: 'completed' }),
    expect: {
      served: { percentage: 100, killed: false, text: 'serving 100%' },
      started: true,
      awaitingStep: null,
      unmet: [],
      nextSteps: ['new-rollout'],
      line: /^Completed: checkout-v2 reached 100% in production; now serving 100%\.$/,
    },
  },
  {
    name: 'aborted: its strategy is back at 0 %',
    rollout: onStep(1, { state: 'aborted' }),
    expect: {
      served: { percentage: 0, killed: false, text: 'serving nobody (0%)' },
      started: true,
      awaitingStep: null,
      unmet: [],
      nextSteps: ['new-rollout'],
      line: /^Aborted: /,
    },
  },
  {
    name: 'paused: waits for a person only',
    rollout: onStep(1, { state: 'paused', pausedFrom: 'running', pauseReason: 'rejected by Bob' }),
    expect: {
      served: { percentage: 10, killed: false, text: 'serving 10%' },
      started: true,
      awaitingStep: null,
      unmet: ['person'],
      nextSteps: [],
      line: /^paused, serving 10%; waiting for a person to resume \(rejected by Bob\)\.$/,
    },
  },
  {
    name: 'awaiting approval for 50 % with one of two given: names who gave it',
    rollout: onStep(1, {
      state: 'awaiting_approval',
      stepVerdict: { kind: 'healthy' },
      plan: policy({ stepDefaults: { approval: { required: 2 } } }),
      approvals: [{ by: bob, at: T0.toISOString(), step: 2 }],
    }),
    expect: {
      served: { percentage: 10, killed: false, text: 'serving 10%' },
      started: true,
      awaitingStep: 50,
      unmet: ['time', 'samples', 'gates', 'approval'],
      nextSteps: [],
      line: /approval for 50%: 1 of 2 \(release-manager\), given by Bob/,
    },
  },
];

describe('rolloutStatus: one row per situation', () => {
  it.each(rows)('$name', (row) => {
    const status = rolloutStatus(row.rollout, row.kill, at(2 * MINUTE));
    expect(status.served).toMatchObject(row.expect.served);
    expect({ started: status.started, awaitingStep: status.awaitingStep }).toEqual({ started: row.expect.started, awaitingStep: row.expect.awaitingStep });
    expect(status.waitingFor.filter((c) => !c.met).map((c) => c.kind)).toEqual(row.expect.unmet);
    expect(status.nextSteps.map((s) => s.kind)).toEqual(row.expect.nextSteps);
    expect(statusLine(row.rollout, status)).toMatch(row.expect.line);
  });

  it('a rollback names its cause with value, threshold and samples, and the restore warns that nothing watches', () => {
    const status = rolloutStatus(rolledBackRollout(), KILL, at(20 * MINUTE));
    expect(status.ended).toMatchObject({
      state: 'rolled_back',
      by: 'controller',
      cause: { kind: 'rollback-rule', value: 0.08, threshold: 0.05, samples: 2000 },
    });
    expect(status.nextSteps[1]!.warning).toBe('it would serve 1% again at once, and no rollout would watch it or roll it back');
  });
});

describe('rolloutStatus: how the step’s traffic is judged', () => {
  const traffic = { minExposures: 10, sampleRatio: { pValue: 0.001 } };
  const analysed = (measurements: Record<string, unknown>) =>
    expectDecided(
      decide(
        rollout({ plan: policy({ traffic }) }),
        { kind: 'analysis', measurements: { step: emptyTotals(), recent: emptyTotals(), exposures: { on: 50, off: 50 }, ...measurements } },
        at(MINUTE),
      ),
    ).next;

  it('on users: how many, and since when', () => {
    const since = at(20_000).getTime();
    const r = analysed({
      users: { on: { count: 12, variance: 0 }, off: { count: 1188, variance: 0 } },
      trafficWindow: { kind: 'counting', since, instances: 1, gaveUp: 0 },
    });
    expect(rolloutStatus(r, undefined, at(MINUTE)).traffic).toEqual({
      kind: 'users',
      text: `sample ratio judged on 1,200 distinct users since ${new Date(since).toISOString()}`,
      since: new Date(since).toISOString(),
      textWording: expect.objectContaining({ template: 'sample ratio judged on {users}{since}' }),
    });
  });

  it('not judged without per-user counts: the gates condition leaves the check out, neither passing nor in the way', () => {
    const r = analysed({});
    const status = rolloutStatus(r, undefined, at(MINUTE));
    expect(status.traffic?.kind).toBe('not-judged');
    expect(status.traffic?.text).toMatch(/^sample ratio not judged: no application reported users/);
    const gates = status.waitingFor.find((c) => c.kind === 'gates');
    // The policy's two gates and the volume check are judged; the information is not counted.
    expect(gates).toMatchObject({ total: r.gates.length - 1 });
  });

  it('waiting while the SDKs fetch the step', () => {
    const r = analysed({ trafficWindow: { kind: 'waiting', fetched: 0, instances: 2, until: at(2 * MINUTE).getTime() } });
    expect(rolloutStatus(r, undefined, at(MINUTE)).traffic).toMatchObject({
      kind: 'waiting',
      text: expect.stringMatching(/^sample ratio waiting: counting starts once the SDKs have fetched the step: 0 of 2 SDK instances have/),
    });
  });
});
