import { emptyTotals } from '../metrics/outcome-math.js';
import type { CohortTotals, OutcomeTotals } from '../metrics/outcome-model.js';
import type { Policy } from '../policies/policy-schema.js';
import { decide } from '../rollouts/decide.js';
import { newRollout } from '../rollouts/new-rollout.js';
import type { Person, Rollout } from '../rollouts/rollout-model.js';
import type { Random } from './random.js';
import { LATENCY_BOUNDS_MS, latencyBucketShares, type CohortBehaviour, type Scenario } from './scenarios.js';

const STARTER: Person = { id: 'sim-editor', name: 'editor', role: 'editor' };
const APPROVER: Person = { id: 'sim-release-manager', name: 'release manager', role: 'release-manager' };
const BUCKET_KEYS = [...LATENCY_BOUNDS_MS.map(String), '+Inf'];

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
}

/** One interval of traffic for one cohort: requests, errors and a latency histogram. */
function cohortInterval(random: Random, requests: number, behaviour: CohortBehaviour, shares: number[], errorFactor: number): CohortTotals {
  const errors = random.binomial(requests, Math.min(1, behaviour.errorRate * errorFactor));
  const counts = random.multinomial(requests, shares);
  const latencyBuckets: Record<string, number> = {};
  let latencySumMs = 0;
  counts.forEach((n, i) => {
    if (n > 0) latencyBuckets[BUCKET_KEYS[i]!] = n;
    latencySumMs += n * (LATENCY_BOUNDS_MS[i] ?? 5000);
  });
  return { requests, errors, latencyBuckets, latencySumMs };
}

function addCohortInto(target: CohortTotals, source: CohortTotals): void {
  target.requests += source.requests;
  target.errors += source.errors;
  target.latencySumMs += source.latencySumMs;
  for (const key in source.latencyBuckets) target.latencyBuckets[key] = (target.latencyBuckets[key] ?? 0) + source.latencyBuckets[key]!;
}

/**
 * Takes one flag through a policy with the real decision core at a compressed clock: every
 * analysis interval, traffic for that interval is drawn, split by the percentage being served,
 * and `decide` sees the step's outcomes so far, the last interval's, and the step's exposures.
 * A release manager approves each step that waits for approval after `approvalDelayMs`.
 */
export function simulateRollout(policy: Policy, scenario: Scenario, random: Random, options: RunOptions): RolloutRun {
  const t0 = Date.UTC(2030, 0, 7, 9, 0, 0);
  const interval = policy.analysisInterval;
  const shares = { treatment: latencyBucketShares(scenario.treatment), control: latencyBucketShares(scenario.control) };
  let rollout: Rollout = newRollout({
    id: 'sim',
    flag: 'simulated',
    environment: 'sim',
    policy: policy.name,
    plan: policy,
    startedBy: STARTER,
    at: new Date(t0),
  });
  let step: OutcomeTotals = emptyTotals();
  let stepStartedAt = rollout.stepStartedAt;
  let maxPercentage = 0;
  let analyses = 0;
  let waitingSince: number | undefined;

  const apply = (next: Rollout) => {
    if (next.stepStartedAt !== stepStartedAt) {
      step = emptyTotals();
      stepStartedAt = next.stepStartedAt;
    }
    rollout = next;
    maxPercentage = Math.max(maxPercentage, next.percentage);
  };
  const started = decide(rollout, { kind: 'analysis', measurements: { step, recent: emptyTotals() } }, new Date(t0));
  if (started.kind === 'decided') apply(started.next);

  for (let now = t0 + interval; now - t0 <= options.horizonMs; now += interval) {
    const factor = scenario.noise > 0 ? Math.exp(scenario.noise * random.normal() - (scenario.noise * scenario.noise) / 2) : 1;
    const requests = random.poisson(scenario.rps * (interval / 1000) * factor);
    const treated = random.binomial(requests, rollout.percentage / 100);
    const recent: OutcomeTotals = {
      treatment: cohortInterval(random, treated, scenario.treatment, shares.treatment, factor),
      control: cohortInterval(random, requests - treated, scenario.control, shares.control, factor),
    };
    addCohortInto(step.treatment, recent.treatment);
    addCohortInto(step.control, recent.control);
    analyses++;
    // Every evaluation is an exposure here: the SDK's metrics agree with its outcomes.
    const decision = decide(
      rollout,
      { kind: 'analysis', measurements: { step, recent, exposures: { on: step.treatment.requests, off: step.control.requests } } },
      new Date(now),
    );
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
