import { stepPlans } from '../policies/policy-schema.js';
import { type Rollout } from '../rollouts/rollout-model.js';

/**
 * Plain facts about a rollout that several readers state the same way (the go-live report, the
 * CLI's status table): its steps, how long it has run, when it ended. Where it stands and what it
 * waits for are src/rollouts/rollout-status.ts.
 * Pure: the time is a parameter.
 */

export function stepPercentages(rollout: Pick<Rollout, 'plan'>): number[] {
  return stepPlans(rollout.plan).map((p) => p.percentage);
}

/** "3d 4h", "2h 5m", "4m 10s", "850ms": two units are enough to read a duration at a glance. */
export function humanDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  const units: Array<[string, number]> = [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ];
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
