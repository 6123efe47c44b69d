import { AppError } from '../errors/app-error.js';
import type { StoredFlag } from '../flags/schema.js';
import { forEnvironment } from '../flags/per-environment.js';
import { stepPlans, type Policy } from '../policies/policy-schema.js';
import type { Cohort } from './flag-actions.js';
import type { Preflight } from './preflight.js';

/**
 * The rules a rollout's start checks, as pure functions: what a person asked for (flags, schedule),
 * against the flags and the policy as they stand. The service reads and writes; these decide.
 */

export interface StartInput {
  flag: string;
  environment: string;
  policy: string;
  /** A release: several flags ramped as one (its name, and every flag, `flag` first). */
  release?: { name: string; flags: string[] };
  /** Start at this time rather than now (ISO 8601 with an offset): the rollout waits `scheduled`. */
  startAt?: string;
  /** Per step percentage, a time before which that step is not entered. */
  notBefore?: Record<string, string>;
  /** Clear the flag's kill switch in the environment as the rollout starts (needs `reason`). */
  restore?: boolean;
  /** Start even when the baseline already fails an absolute gate: recorded as a warning on the rollout and in the audit log. */
  force?: boolean;
  reason?: string;
}

/** How far ahead a rollout may be scheduled, and how far back a `startAt` still means "now" (a clock a little behind). */
export const MAX_SCHEDULE_AHEAD_DAYS = 366;
const PAST_TOLERANCE_MS = 60_000;

/**
 * The start time to keep: undefined to start now (absent, or at most a minute ago), else the time in
 * ISO form. Refused when it is further in the past or beyond the horizon, naming the field.
 */
export function scheduledStart(input: Pick<StartInput, 'startAt'>, now: Date): string | undefined {
  if (!input.startAt) return undefined;
  const at = Date.parse(input.startAt);
  if (at < now.getTime() - PAST_TOLERANCE_MS) {
    throw new AppError('invalid', 'start_in_past', `startAt ${input.startAt} is in the past (now ${now.toISOString()}): leave it out to start now`, {
      path: 'startAt',
    });
  }
  if (at > now.getTime() + MAX_SCHEDULE_AHEAD_DAYS * 86_400_000) {
    throw new AppError('invalid', 'start_too_far', `startAt ${input.startAt} is more than ${MAX_SCHEDULE_AHEAD_DAYS} days ahead`, { path: 'startAt' });
  }
  return at <= now.getTime() ? undefined : new Date(at).toISOString();
}

/** Every key of `notBefore` must be one of the plan's step percentages ("100"), kept as ISO times. */
export function notBeforeTimes(input: Pick<StartInput, 'notBefore'>, plan: Policy): Record<string, string> | undefined {
  if (!input.notBefore) return undefined;
  const steps = stepPlans(plan).map((s) => String(s.percentage));
  const out: Record<string, string> = {};
  for (const [key, at] of Object.entries(input.notBefore)) {
    if (!steps.includes(key)) {
      throw new AppError('invalid', 'not_a_step', `notBefore.${key}: the policy "${plan.name}" has no ${key}% step (its steps: ${steps.join(', ')})`, {
        path: `notBefore.${key}`,
      });
    }
    out[key] = new Date(Date.parse(at)).toISOString();
  }
  return out;
}

/**
 * A release's one cohort: every flag gets the same stickiness and the release's name as group id,
 * so the hash puts the same users in at every step. Flags that already choose different stickiness
 * cannot share a cohort: refused, naming each.
 */
export function releaseCohort(flags: StoredFlag[], environment: string, name: string): Cohort {
  const chosen = new Map<string, string>();
  for (const flag of flags) {
    const strategy = forEnvironment(flag.environments, environment)?.strategies.find((s) => s.name === 'flexibleRollout' && !s.disabled);
    const stickiness = strategy?.parameters.stickiness;
    if (stickiness && stickiness !== 'default') chosen.set(flag.name, stickiness);
  }
  const kinds = new Set(chosen.values());
  if (kinds.size > 1) {
    throw AppError.conflict(
      `the flags of release "${name}" use different stickiness in ${environment} (${[...chosen].map(([f, s]) => `${f}: ${s}`).join(', ')}): ` +
        'one cohort needs one; make them the same first',
    );
  }
  return { stickiness: [...kinds][0] ?? 'default', groupId: name };
}

/**
 * The baseline (traffic without the feature) already fails an absolute gate: the first step would
 * fail or hold on it whatever the feature does. Refused with the numbers, unless forced.
 */
export function baselineRefusal(input: StartInput, checked: Preflight): AppError {
  const what = input.release ? `release "${input.release.name}"` : `flag "${input.flag}"`;
  return new AppError(
    'conflict',
    'baseline_above_gate',
    `${what} in ${input.environment}: the baseline (its traffic without the feature) already fails the policy's gates, ` +
      `before anyone gets the feature: ${checked.violations.map((v) => v.text).join('; ')}. ` +
      'Fix the baseline or the policy first, or send "force": true to start anyway (recorded as a warning)',
    { violations: checked.violations, preflight: checked },
  );
}

/** The audit reason of a forced start: what was overridden, and the person's reason when given. */
export function forcedReason(warnings: string[], reason: string | undefined): string {
  return `started with force over a baseline that already fails the policy's gates: ${warnings.join('; ')}${reason ? `. Reason: ${reason}` : ''}`;
}

/**
 * A killed flag serves nothing, so a rollout on it would wait for samples that cannot come. It
 * starts only when the person says to restore the flag, with a reason the audit log keeps.
 */
export function restoreIfAsked(flag: StoredFlag, input: StartInput): StoredFlag {
  const kill = forEnvironment(flag.killSwitches, input.environment);
  if (!kill) return flag;
  if (!input.restore || !input.reason) {
    throw new AppError(
      'conflict',
      'flag_killed',
      `flag "${flag.name}" is killed in ${input.environment} (${kill.reason}, by ${kill.actor} at ${kill.at}): ` +
        'a rollout on it would serve nothing; to clear the kill switch as the rollout starts, send "restore": true with a "reason"',
      { killSwitch: kill },
    );
  }
  const { [input.environment]: _cleared, ...killSwitches } = flag.killSwitches;
  return { ...flag, killSwitches };
}

/**
 * A rollout switches its environment on. If it is off and holds other live strategies, those would
 * reach everyone they match the moment the rollout starts, at no percentage at all: refuse instead.
 */
export function assertSafeToEnable(flag: StoredFlag, environment: string): void {
  const config = forEnvironment(flag.environments, environment);
  if (!config || config.enabled) return;
  const live = config.strategies.filter((s) => !s.disabled);
  const claimed = live.find((s) => s.name === 'flexibleRollout'); // the one claimStrategy takes over
  const others = live.filter((s) => s !== claimed);
  if (others.length > 0) {
    throw AppError.conflict(
      `flag "${flag.name}" is off in ${environment} but has other strategies (${others.map((s) => s.name).join(', ')}) ` +
        'that would go live for everyone they match when the rollout switches it on: remove or disable them first',
    );
  }
}
