import { changeWindowOpen } from '../policies/change-window.js';
import { stepPlans } from '../policies/policy-schema.js';
import { isFinal, type Rollout } from '../rollouts/rollout-model.js';

/**
 * Plain facts about a rollout that several readers state the same way (the go-live report, the
 * CLI's status table): what it is waiting for, how long it has run, what became of it.
 * Pure: the time is a parameter.
 */

export function stepPercentages(rollout: Pick<Rollout, 'plan'>): number[] {
  return stepPlans(rollout.plan).map((p) => p.percentage);
}

/** What keeps an active rollout where it is, in a few words; null once it is final. */
export function waitingFor(rollout: Rollout, now: Date): string | null {
  switch (rollout.state) {
    case 'completed':
    case 'rolled_back':
    case 'aborted':
      return null;
    case 'paused':
      return `a person to resume (${rollout.pauseReason ?? 'paused'})`;
    case 'pending': {
      const window = changeWindowOpen(rollout.plan.windows, now);
      return window.open ? 'the first analysis' : `the change window${window.reason ? ` (${window.reason})` : ''}`;
    }
    case 'awaiting_approval':
    case 'running': {
      if (rollout.stepVerdict.kind === 'failing') return `gates to pass: ${rollout.stepVerdict.reason}`;
      if (rollout.stepVerdict.kind === 'waiting') return rollout.stepVerdict.reason;
      const plans = stepPlans(rollout.plan);
      const next = plans[rollout.stepIndex + 1];
      if (!next) return 'the last analysis';
      const have = rollout.approvals.filter((a) => a.step === rollout.stepIndex + 1).length;
      if (have < next.approval.required) return `approval ${have} of ${next.approval.required} (${next.approval.roles.join(' or ')}) for ${next.percentage}%`;
      const window = changeWindowOpen(rollout.plan.windows, now);
      return window.open ? 'the next analysis' : `the change window${window.reason ? ` (${window.reason})` : ''}`;
    }
  }
}

/** When the rollout reached its final state, if it has. */
export function endedAt(rollout: Rollout): string | undefined {
  if (!isFinal(rollout.state)) return undefined;
  return rollout.history.findLast((t) => t.to === rollout.state)?.at ?? rollout.updatedAt;
}

/** "3d 4h", "2h 5m", "4m 10s", "850ms": two units are enough to read a duration at a glance. */
export function humanDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  const units: Array<[string, number]> = [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]];
  const parts: string[] = [];
  let rest = ms;
  for (const [unit, size] of units) {
    if (rest >= size || parts.length > 0) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
    if (parts.length === 2) break;
  }
  return parts.filter((p, i) => i === 0 || !p.startsWith('0')).join(' ');
}

/** One line on how the rollout ended, or where it stands. */
export function outcomeLine(rollout: Rollout, now: Date): string {
  const last = rollout.history.at(-1);
  switch (rollout.state) {
    case 'completed':
      return `Completed: ${rollout.flag} is on for ${rollout.percentage}% in ${rollout.environment}.`;
    case 'rolled_back':
      return `Rolled back: the kill switch was flipped and ${rollout.flag} is served disabled in ${rollout.environment} (${last?.reason ?? 'rollback rule breached'}).`;
    case 'aborted':
      return `Aborted: ${last?.reason ?? 'aborted'}; the strategy was returned to 0%.`;
    default:
      return `In progress: ${rollout.state.replace('_', ' ')} at step ${rollout.stepIndex + 1} (${rollout.percentage}%), waiting for ${waitingFor(rollout, now)}.`;
  }
}
