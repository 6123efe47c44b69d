import { describe, expect, it } from 'vitest';
import { deriveEvents } from '../../src/notifications/events.js';
import { decide } from '../../src/rollouts/decide.js';
import { isDone, isWatching, type DecisionInput, type Rollout } from '../../src/rollouts/rollout-model.js';
import { rolloutStatus, statusLine } from '../../src/rollouts/rollout-status.js';
import {
  analysis,
  at,
  bob,
  BREACHING,
  EXTRA_KILL,
  expectDecided,
  expectRefused,
  FLAG,
  HEALTHY,
  HOUR,
  iso,
  MINUTE,
  noApprovalPolicy,
  onStep,
} from './decide-fixtures.js';

/**
 * Watch after completion (`watchAfterCompletion: 2h`): the last step healthy, the rollout completes
 * (the API's state is `completed`) but its rollback rules keep watching until completion + 2h. A
 * breach in that time kills the flag (completed → rolled_back); after it, nothing is analysed again.
 */

const COMPLETED_AT = 15 * MINUTE;
const WATCH_END = COMPLETED_AT + 2 * HOUR;

/** At 100 %, healthy, completing at T0 + 15m under a plan that watches for 2h. */
function completedWatching(): Rollout {
  const last = onStep(3, { plan: noApprovalPolicy({ watchAfterCompletion: '2h' }) });
  return expectDecided(decide(last, analysis(HEALTHY), at(COMPLETED_AT))).next;
}

const decideOn = (r: Rollout, input: DecisionInput, ms: number) => expectDecided(decide(r, input, at(ms)));

describe('watch after completion', () => {
  it('the last step healthy: completed, watching until completion + 2h (said in the transition)', () => {
    const r = completedWatching();
    expect(r).toMatchObject({ state: 'completed', percentage: 100, watchUntil: iso(WATCH_END) });
    expect(r.history.at(-1)).toMatchObject({
      from: 'running',
      to: 'completed',
      reason: `last step healthy; rollback rules watch until ${iso(WATCH_END)} (2h)`,
    });
    expect(isWatching(r)).toBe(true);
    expect(isDone(r)).toBe(false);
  });

  it('without a watch (the default) a completed rollout is done at once, as before', () => {
    const r = expectDecided(decide(onStep(3, { plan: noApprovalPolicy() }), analysis(HEALTHY), at(COMPLETED_AT))).next;
    expect(r.state).toBe('completed');
    expect(r.watchUntil).toBeUndefined();
    expect(r.history.at(-1)!.reason).toBe('last step healthy');
    expect(isDone(r)).toBe(true);
  });

  it('healthy analyses while watching change nothing but the measurements', () => {
    const { next, actions } = decideOn(completedWatching(), analysis(HEALTHY), COMPLETED_AT + 30 * MINUTE);
    expect(actions).toEqual([]);
    expect(next).toMatchObject({ state: 'completed', watchUntil: iso(WATCH_END), lastEvaluatedAt: iso(COMPLETED_AT + 30 * MINUTE) });
    expect(next.history).toHaveLength(completedWatching().history.length);
  });

  it('a breach 1h after completion, sustained for the rule’s 5m, kills the flag: completed → rolled_back', () => {
    const first = decideOn(completedWatching(), analysis(BREACHING), COMPLETED_AT + HOUR);
    expect(first.actions).toEqual([]);
    expect(first.next).toMatchObject({ state: 'completed', breachingSince: [iso(COMPLETED_AT + HOUR)] });
    const { next, actions } = decideOn(first.next, analysis(BREACHING), COMPLETED_AT + HOUR + 5 * MINUTE);
    const reason = 'rollback rule error_rate(treatment) > 0.05 for 5m breached: error_rate 8% over 2,000 requests (during the 2h watch after completion)';
    expect(actions).toEqual([{ kind: 'kill', flags: [FLAG, EXTRA_KILL], reason }]);
    expect(next.state).toBe('rolled_back');
    expect(next.watchUntil).toBeUndefined();
    expect(isDone(next)).toBe(true);
    expect(next.history.at(-1)).toMatchObject({
      at: iso(COMPLETED_AT + HOUR + 5 * MINUTE),
      from: 'completed',
      to: 'rolled_back',
      stepIndex: 3,
      percentage: 100,
      actor: 'controller',
      reason,
      cause: { kind: 'rollback-rule', rule: 'error_rate(treatment) > 0.05 for 5m', value: 0.08 },
    });
    // Notified like any rollback, with the breach's values.
    expect(deriveEvents(first.next, next).map((e) => [e.type, e.rollout.state])).toEqual([['rollout.rolled_back', 'rolled_back']]);
  });

  it('at 100 % nothing is attributed: control as bad as treatment still kills during the watch', () => {
    const both = analysis(HEALTHY, { ...BREACHING, control: BREACHING.treatment });
    const watching = { ...completedWatching(), breachingSince: [iso(COMPLETED_AT + HOUR)] };
    expect(decideOn(watching, both, COMPLETED_AT + HOUR + 5 * MINUTE).next.state).toBe('rolled_back');
  });

  it('at the end of the watch: no more analysis and no kill, even breaching; the rollout is done for good', () => {
    const watching = { ...completedWatching(), breachingSince: [iso(COMPLETED_AT + HOUR)] };
    const { next, actions } = decideOn(watching, analysis(BREACHING), WATCH_END);
    expect(actions).toEqual([]);
    expect(next.state).toBe('completed');
    expect(next.watchUntil).toBeUndefined();
    expect(next.history).toEqual(watching.history);
    expect(isDone(next)).toBe(true);
    expectRefused(decide(next, analysis(BREACHING), at(WATCH_END + MINUTE)));
  });

  it('a provider error while watching counts and changes nothing else', () => {
    const { next, actions } = decideOn(completedWatching(), { kind: 'provider-error', error: 'down' }, COMPLETED_AT + MINUTE);
    expect(actions).toEqual([]);
    expect(next).toMatchObject({ state: 'completed', watchUntil: iso(WATCH_END), checks: { providerErrors: 1 } });
  });

  it.each<DecisionInput>([
    { kind: 'approve', by: bob },
    { kind: 'pause', by: bob },
    { kind: 'resume', by: bob },
    { kind: 'reject', by: bob },
    { kind: 'abort', by: bob },
  ])('a person’s $kind while watching is refused: the rollout is completed', (input) => {
    expect(expectRefused(decide(completedWatching(), input, at(COMPLETED_AT + MINUTE)))).toMatchObject({ errorId: 'rollout_finished' });
  });
});

describe('where a watched rollout stands (rollout-status)', () => {
  it('watching: "completed, watching until …", nothing to do next while it watches', () => {
    const r = completedWatching();
    const status = rolloutStatus(r, undefined, at(COMPLETED_AT + HOUR));
    expect(status).toMatchObject({ active: true, watchUntil: iso(WATCH_END), waitingFor: [], nextSteps: [], ended: { state: 'completed' } });
    expect(statusLine(r, status)).toBe(
      `Completed, watching until ${iso(WATCH_END)}: ${FLAG} reached 100% in production; ` +
        'now serving 100%, and a breached rollback rule still rolls it back.',
    );
  });

  it('the watch over with no breach: said so, and a new rollout may start', () => {
    const r = decideOn(completedWatching(), analysis(HEALTHY), WATCH_END).next;
    const status = rolloutStatus(r, undefined, at(WATCH_END));
    expect(status.watchUntil).toBeUndefined();
    expect(status.nextSteps.map((s) => s.kind)).toEqual(['new-rollout']);
    expect(statusLine(r, status)).toBe(
      `Completed: ${FLAG} reached 100% in production; now serving 100%. Its rollback rules watched for 2h after completion, with no breach.`,
    );
  });

  it('rolled back during the watch: says when it had completed, with the cause', () => {
    const watching = { ...completedWatching(), breachingSince: [iso(COMPLETED_AT + HOUR)] };
    const r = decideOn(watching, analysis(BREACHING), COMPLETED_AT + HOUR + 5 * MINUTE).next;
    const kill = { reason: r.history.at(-1)!.reason, actor: `rollout ${r.id}`, at: r.updatedAt };
    const status = rolloutStatus(r, kill, at(COMPLETED_AT + 2 * HOUR));
    expect(status.ended).toMatchObject({ state: 'rolled_back', completedAt: iso(COMPLETED_AT) });
    expect(statusLine(r, status)).toMatch(
      new RegExp(`^Rolled back at 100% during the watch after completion \\(completed ${iso(COMPLETED_AT)}\\): ${FLAG} is served disabled`),
    );
    expect(statusLine(r, status)).toContain('Cause: error_rate(treatment) > 0.05 for 5m: 8% over 2,000 requests');
  });
});
