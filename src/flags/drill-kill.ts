import type { KillSwitch } from './schema.js';

/**
 * A rollback drill (src/propagation/) flips a flag's kill switch for a minute and then lifts it.
 * Its kill is told apart by its reason, and gives way to any real one: a person, an alert or a
 * rollout that kills the flag during a drill replaces the drill's kill switch with its own (without
 * that, their kill would be a no-op on a killed flag, and the drill's restore would undo it). The
 * drill then finds a kill switch that is not its own, and leaves it.
 */
export const DRILL_REASON_PREFIX = 'drill: ';

export function isDrillKill(killSwitch: KillSwitch | undefined): boolean {
  return killSwitch !== undefined && killSwitch.reason.startsWith(DRILL_REASON_PREFIX);
}

/** Whether a kill for `reason` is written over the current kill switch: there is none, or it is a drill's and this kill is not. */
export function killReplaces(current: KillSwitch | undefined, reason: string): boolean {
  return current === undefined || (isDrillKill(current) && !reason.startsWith(DRILL_REASON_PREFIX));
}

export function sameKillSwitch(a: KillSwitch | undefined, b: KillSwitch | undefined): boolean {
  return a !== undefined && b !== undefined && a.reason === b.reason && a.actor === b.actor && a.at === b.at;
}
