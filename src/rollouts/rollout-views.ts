import { FLAGS } from '../flags/collections.js';
import type { KillSwitch, StoredFlag } from '../flags/schema.js';
import type { Store } from '../store/port.js';
import type { Rollout } from './rollout-model.js';
import { rolloutStatus, type RolloutStatus } from './rollout-status.js';

/** A rollout as people are shown it: the record, and where it stands with what its flag serves now. */
export type RolloutView = Rollout & { status: RolloutStatus };

/** The kill switch of each rollout's flag in the rollout's environment, read in one round trip. */
export async function killSwitchesOf(store: Store, rollouts: Rollout[]): Promise<Array<KillSwitch | undefined>> {
  const names = [...new Set(rollouts.map((r) => r.flag))];
  const flags = new Map((await store.getMany<StoredFlag>(FLAGS, names)).map((d) => [d.id, d.value]));
  return rollouts.map((r) => flags.get(r.flag)?.killSwitches[r.environment]);
}

export async function rolloutViews(store: Store, rollouts: Rollout[], now: Date): Promise<RolloutView[]> {
  const kills = await killSwitchesOf(store, rollouts);
  return rollouts.map((r, i) => ({ ...r, status: rolloutStatus(r, kills[i], now) }));
}
