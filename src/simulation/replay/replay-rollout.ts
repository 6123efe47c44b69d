import { emptyTotals } from '../../metrics/outcome-math.js';
import { CounterOutcomeSource } from '../../metrics/outcomes.js';
import { stepPlans, type Policy } from '../../policies/policy-schema.js';
import { awaitedStepIndex } from '../../rollouts/approvals.js';
import { decide } from '../../rollouts/decide.js';
import { Measure } from '../../rollouts/measure.js';
import { newRollout } from '../../rollouts/new-rollout.js';
import { isDone, type DecisionInput, type Rollout } from '../../rollouts/rollout-model.js';
import type { RecordedCounters } from './recorded-counters.js';
import { commandInput, realTimeline, servedAt, type PersonAction, type RealTimeline } from './real-timeline.js';

/**
 * One stored rollout replayed under a policy: the rollout starts again when the real one started,
 * the clock steps at the policy's analysis interval, every analysis reads the recorded outcomes
 * as the leader's does (the same Measure over the same buckets, those that had ended by then), the
 * decision core decides, and people's commands are given again when they were given.
 *
 * The recorded outcomes are those of the users the flag really served. While the policy serves the
 * same percentage as the real rollout did, they are the outcomes it would have seen. Once it serves
 * another percentage (it advances sooner or later, or holds where the real one went on), they are
 * not: other users would have been in treatment, and with the user as the unit, scaling treatment's
 * counts would invent users nobody observed. The replay of that rollout then stops, and says where,
 * at which percentage each was, and why the policy was where it was. A difference shorter than an
 * analysis interval and a bucket is not a divergence (see replaySpan).
 */

export type ReplayEnding = 'completed' | 'rolled_back' | 'aborted' | 'paused' | 'active' | 'diverged';

export interface Divergence {
  /** When the two began to serve different percentages. */
  at: number;
  replayed: number;
  real: number;
}

export interface ReplayOutcome {
  /** The rollout as the policy would have left it: its history is what it would have done. */
  rollout: Rollout;
  ending: ReplayEnding;
  /** When the replay ended: its final transition, the start of a divergence, or the end of the recorded timeline. */
  endedAt: number;
  divergence?: Divergence;
  /** What the replay could not do as it was done (an approval the policy refuses). */
  notes: string[];
  timeline: RealTimeline;
}

export interface ReplayInput {
  real: Rollout;
  policy: Policy;
  /** The flag's recorded counters (outcomes, and exposures when the policy checks traffic). */
  counters: RecordedCounters;
  /** OUTCOME_BUCKET_MS of the controller that recorded them. */
  outcomeBucketMs: number;
  now: number;
}

/** What a rollout serves: nobody once killed or aborted, its percentage otherwise. */
function served(r: Rollout): number {
  return r.state === 'rolled_back' || r.state === 'aborted' ? 0 : r.percentage;
}

const START: DecisionInput = { kind: 'analysis', measurements: { step: emptyTotals(), recent: emptyTotals() } };

/**
 * The span a replay covers. `horizon`: the end of the real rollout (its last transition; the end of
 * its watch, or now, while active); after a real completion the flag went on serving everyone, so a
 * replay that completed too may watch that traffic for its own watchAfterCompletion. `tolerance`: a
 * difference in what is served shorter than this is not a divergence — the two clocks tick on grids
 * of their own, and the replay reads a bucket only once it has ended, up to a bucket after the
 * controller had read part of it. `until`: the replay reads on to here, so that what the controller
 * saw just before the end is seen by the replay too.
 */
export function replaySpan(
  real: Rollout,
  policy: Policy,
  outcomeBucketMs: number,
  now: number,
): { from: number; horizon: number; tolerance: number; until: number } {
  const timeline = realTimeline(real, now);
  const horizon = Math.min(now, timeline.end + (real.state === 'completed' ? policy.watchAfterCompletion : 0));
  const tolerance = Math.max(policy.analysisInterval, real.plan.analysisInterval) + outcomeBucketMs;
  return { from: timeline.start, horizon, tolerance, until: Math.min(now, horizon + tolerance) };
}

export async function replayRollout({ real, policy, counters, outcomeBucketMs, now }: ReplayInput): Promise<ReplayOutcome> {
  const timeline = realTimeline(real, now);
  const { horizon, tolerance, until } = replaySpan(real, policy, outcomeBucketMs, now);
  let clock = timeline.start;
  const measure = new Measure({ store: counters, outcomes: new CounterOutcomeSource(counters, outcomeBucketMs), now: () => new Date(clock) });
  let r = newRollout({
    id: real.id,
    flag: real.flag,
    environment: real.environment,
    policy: policy.name,
    plan: policy,
    startedBy: real.startedBy,
    at: new Date(clock),
  });
  let changedAt = clock;
  const notes: string[] = [];
  const standing: Array<Extract<PersonAction, { kind: 'approve' }>> = [];

  const apply = (input: DecisionInput, at: number) => {
    const decision = decide(r, input, new Date(at));
    if (decision.kind === 'decided') {
      if (served(decision.next) !== served(r)) changedAt = at;
      r = decision.next;
    }
    return decision;
  };
  // An approval is given again once the replayed rollout awaits its percentage (at once, when it already does).
  const approveStanding = (at: number) => {
    for (;;) {
      const awaited = awaitedStepIndex(r);
      const percentage = awaited === undefined ? undefined : stepPlans(r.plan)[awaited]!.percentage;
      const i = standing.findIndex((a) => a.percentage === percentage);
      if (i < 0) return;
      const [approval] = standing.splice(i, 1);
      const decision = apply(commandInput(approval!), at);
      if (decision.kind === 'refused')
        notes.push(
          `${approval!.by.name}'s approval of ${percentage}% (${new Date(approval!.at).toISOString()}) does not count under this policy: ${decision.message}`,
        );
    }
  };
  const finish = (ending: ReplayEnding, endedAt: number, divergence?: Divergence): ReplayOutcome => ({
    rollout: r,
    ending,
    endedAt,
    ...(divergence ? { divergence } : {}),
    notes,
    timeline,
  });
  const check = (at: number): ReplayOutcome | undefined => {
    if (isDone(r)) return finish(r.state as ReplayEnding, Date.parse(r.history.at(-1)?.at ?? r.updatedAt));
    const really = servedAt(timeline, at);
    if (served(r) === really.percentage) return undefined;
    const since = Math.max(changedAt, really.since);
    return at - since >= tolerance ? finish('diverged', since, { at: since, replayed: served(r), real: really.percentage }) : undefined;
  };

  const actions = [...timeline.actions];
  const giveCommands = (due: (at: number) => boolean): ReplayOutcome | undefined => {
    while (actions.length > 0 && actions[0]!.at <= until && due(actions[0]!.at)) {
      const action = actions.shift()!;
      clock = action.at;
      if (action.kind === 'approve') standing.push(action);
      else apply(commandInput(action), clock);
      approveStanding(clock);
      const end = check(clock);
      if (end) return end;
    }
    return undefined;
  };
  const analyse = async (t: number): Promise<ReplayOutcome | undefined> => {
    clock = t;
    // Only the buckets that had ended by the analysis: the one in progress also holds what came later.
    counters.readUntil = t;
    const [input] = await measure.many([r]);
    apply(input!, t);
    approveStanding(t);
    return check(t);
  };

  apply(START, clock);
  for (let t = timeline.start + policy.analysisInterval; ; t += policy.analysisInterval) {
    // Commands given before this analysis; one given at the very moment of an analysis follows it.
    const end = giveCommands((at) => at < t) ?? (t > until ? undefined : await analyse(t)) ?? giveCommands((at) => at <= t);
    if (end) return end;
    if (t > until) break;
  }
  // The real rollout ended (or was killed) while the policy would still be serving something else.
  return check(until) ?? finish(r.state === 'paused' ? 'paused' : 'active', horizon);
}
