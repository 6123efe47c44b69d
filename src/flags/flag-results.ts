import type { Actor } from '../audit/chain.js';
import type { StoredFlag } from './schema.js';
import type { OwnershipConflict } from './rollout-ownership.js';

/** What FlagService answers and tells about kill switches and flag files. */

export interface KillResult {
  flag: string;
  environment: string;
  killed: boolean;
  changed: boolean;
  killSwitch?: StoredFlag['killSwitches'][string];
}

/** A kill switch that changed, told after its commit landed (notifications). */
export interface KillSwitchChange {
  flag: string;
  environment: string;
  killed: boolean;
  reason: string;
  actor: Actor;
  at: string;
}
export type KillSwitchListener = (change: KillSwitchChange) => void;

/** A flag of a file that was not applied because it would undo what a rollout set. */
export interface RefusedFlag {
  flag: string;
  conflicts: OwnershipConflict[];
}
