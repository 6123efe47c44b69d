import { FLAGS } from '../flags/collections.js';
import type { KillSwitch, StoredFlag } from '../flags/schema.js';
import type { Store } from '../store/port.js';
import type { Preflight } from './preflight.js';
import { rolloutFlags, type Rollout } from './rollout-model.js';
import { rolloutStatus, type RolloutStatus } from './rollout-status.js';
import { forEnvironment } from '../flags/per-environment.js';

/**
 * A rollout as people are shown it: the record, where it stands with what its flag serves now, and
 * the pre-flight its start was told (kept on the start transition; on the record itself in rollouts
 * started by earlier versions).
 */
export type RolloutView = Rollout & { status: RolloutStatus; preflight?: Preflight; name?: string; flags?: string[] };

function preflightOf(r: Rollout & { preflight?: Preflight }): Preflight | undefined {
  return r.preflight ?? r.history.find((t) => t.preflight)?.preflight;
}

/**
 * The kill switch of each rollout's flag in the rollout's environment (for a release, the first of
 * its flags that is killed: any one killed stops the release's measurements), read in one round trip.
 */
export async function killSwitchesOf(store: Store, rollouts: Rollout[]): Promise<Array<KillSwitch | undefined>> {
  const names = [...new Set(rollouts.flatMap(rolloutFlags))];
  const flags = new Map((await store.getMany<StoredFlag>(FLAGS, names)).map((d) => [d.id, d.value]));
  return rollouts.map((r) => {
    for (const name of rolloutFlags(r)) {
      const flag = flags.get(name);
      const kill = flag && forEnvironment(flag.killSwitches, r.environment);
      if (kill) return kill;
    }
    return undefined;
  });
}

export async function rolloutViews(store: Store, rollouts: Rollout[], now: Date): Promise<RolloutView[]> {
  const kills = await killSwitchesOf(store, rollouts);
  return rollouts.map((r, i) => {
    const preflight = preflightOf(r);
    const release = r.release ? { name: r.release.name, flags: r.release.flags } : {};
    return { ...r, ...release, status: rolloutStatus(r, kills[i], now), ...(preflight ? { preflight } : {}) };
  });
}
