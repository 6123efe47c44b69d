import { emptyTotals } from '../metrics/outcome-math.js';
import type { Policy } from '../policies/policy-schema.js';
import { decide } from '../rollouts/decide.js';
import { newRollout } from '../rollouts/new-rollout.js';
import type { Person, Rollout } from '../rollouts/rollout-model.js';
import { coinFlipTraffic } from './coin-flip-traffic.js';
import { requestLevelJudge, type Judge, type TrafficSource } from './judges.js';
import type { Random } from './random.js';
import type { Scenario } from './scenarios.js';

const STARTER: Person = { id: 'sim-editor', name: 'editor', role: 'editor' };
const APPROVER: Person = { id: 'sim-release-manager', name: 'release manager', role: 'release-manager' };

/** Monday 7 January 2030, 09:00 UTC: when the coin-flip scenarios' rollouts start. */
export const DEFAULT_START = Date.UTC(2030, 0, 7, 9, 0, 0);

export type Ending = 'completed' | 'rolled_back' | 'paused' | 'unfinished';

export interface RolloutRun {
  ending: Ending;
  /** Simulated ms from start to the end (or to the horizon). */
  durationMs: number;
  /** Highest percentage the flag was served at. */
  maxPercentage: number;
  /** Percentage when the run ended (rolled back or paused at this step). */
  endedAtPercentage: number;
  reason: string;
  analyses: number;
}

export interface RunOptions {
  /** The release manager approves this long after a step starts waiting (simulated ms). */
  approvalDelayMs: number;
  /** Stop a run that has not finished after this long (simulated ms). */
  horizonMs: number;
  /** Sees the rollout after every decision (a test compares its history with a live rollout's). */
  onDecided?: (rollout: Rollout) => void;
}

/**
 * Takes one flag through a policy with the real decision core at a compressed clock: every
 * analysis interval the source draws that interval's traffic at the percentage being served, the
 * judge turns it into what `decide` considers, and `decide` moves the rollout on. A release
 * manager approves each step that waits for approval (the first one, the Go/No-Go, at 0 %, too)
 * `approvalDelayMs` after it starts waiting.
 */
export function runRollout(
  policy: Policy,
  judge: Judge,
  source: TrafficSource,
  options: RunOptions,
  t0: number = DEFAULT_START,
  flag = 'simulated',
): RolloutRun {
  const interval = policy.analysisInterval;
  let rollout: Rollout = newRollout({ id: 'sim', flag, environment: 'sim', policy: policy.name, plan: policy, startedBy: STARTER, at: new Date(t0) });
  let maxPercentage = 0;
  let analyses = 0;
  let waitingSince: number | undefined;

  const apply = (next: Rollout) => {
    rollout = next;
    maxPercentage = Math.max(maxPercentage, next.percentage);
    options.onDecided?.(next);
  };
  const started = decide(rollout, { kind: 'analysis', measurements: { step: emptyTotals(), recent: emptyTotals() } }, new Date(t0));
  if (started.kind === 'decided') apply(started.next);

  for (let now = t0 + interval; now - t0 <= options.horizonMs; now += interval) {
    const traffic = source.measure(now, rollout);
    analyses++;
    const decision = decide(rollout, judge.analyse(policy, rollout, traffic), new Date(now));
    if (decision.kind !== 'decided') break;
    apply(decision.next);
    if (rollout.state === 'awaiting_approval') {
      waitingSince ??= now;
      if (now - waitingSince >= options.approvalDelayMs) {
        const approved = decide(rollout, { kind: 'approve', by: APPROVER }, new Date(now));
        if (approved.kind === 'decided') apply(approved.next);
        waitingSince = undefined;
      }
    } else waitingSince = undefined;
    if (rollout.state === 'completed' || rollout.state === 'rolled_back' || rollout.state === 'paused') {
      return {
        ending: rollout.state,
        durationMs: now - t0,
        maxPercentage,
        endedAtPercentage: rollout.percentage,
        reason: rollout.history.at(-1)?.reason ?? '',
        analyses,
      };
    }
  }
  return {
    ending: 'unfinished',
    durationMs: options.horizonMs,
    maxPercentage,
    endedAtPercentage: rollout.percentage,
    reason: rollout.stepVerdict.kind === 'healthy' ? 'healthy' : rollout.stepVerdict.reason,
    analyses,
  };
}

/** One release of a coin-flip scenario (scenarios.ts), judged request by request as today. */
export function simulateRollout(policy: Policy, scenario: Scenario, random: Random, options: RunOptions): RolloutRun {
  return runRollout(policy, requestLevelJudge, coinFlipTraffic(scenario, random, policy.analysisInterval), options);
}
