import type { RolloutState } from '../rollouts/rollout-model.js';
import type { FlagDefinition, FlagEnvironment, StoredFlag, Strategy } from './schema.js';
import { forEnvironment } from './per-environment.js';

/**
 * A rollout owns one flexibleRollout strategy of its flag, found by the id `rollout:<rolloutId>`
 * (src/rollouts/flag-actions.ts), and that id stays on the flag after the rollout completes. A flag
 * definition written by a person (an admin API PUT, a flag file) knows nothing of it: a file has no
 * strategy ids, and an old file still says the percentage it had before the rollout. Replacing the
 * definition blindly would quietly set a completed rollout's 100% back to 0%.
 *
 * So every definition is reconciled with the stored flag first (pure, shared by the server and
 * `rolloutctl apply`, so the plan shows exactly what the server will decide):
 *  - the stored owned strategy is matched in the new definition by its id, else by position: the
 *    k-th enabled flexibleRollout, k being the owned one's place among the stored ones (a rollout
 *    claims the first, see claimStrategy), so a file written before the rollout matches it;
 *  - when the new definition serves another percentage there (another `rollout`, the environment
 *    disabled, or the strategy gone) while the rollout is running or completed, that is a conflict,
 *    refused unless forced;
 *  - otherwise the match gets the owned id, so the rollout keeps owning it (and a file that matches
 *    what is served plans "unchanged").
 */

const OWNED_PREFIX = 'rollout:';

/** What the reconciliation needs to know of the rollout behind an owned strategy. */
export interface OwningRollout {
  id: string;
  state: RolloutState;
}

export interface OwnershipConflict {
  flag: string;
  environment: string;
  rolloutId: string;
  rolloutState: RolloutState;
  /** What the rollout's strategy serves now. */
  rolloutPercentage: number;
  /** What the new definition would serve there: null when it drops the strategy. */
  newPercentage: number | null;
  /** percentage: another `rollout` value; disabled: the environment is turned off; dropped: no matching strategy. */
  change: 'percentage' | 'disabled' | 'dropped';
}

export interface Reconciled<D extends FlagDefinition> {
  /** The definition to store: matched strategies carry their owner's id. */
  definition: D;
  /** Changes that would undo what a rollout set (empty when forced: see `forcedOver`). */
  conflicts: OwnershipConflict[];
  /** With force: the conflicts that were overridden, for the audit reason. */
  forcedOver: OwnershipConflict[];
}

/** A rolled-back rollout has its kill switch; an aborted one returned to 0%: neither guards a percentage any more. */
export function guardsPercentage(state: RolloutState): boolean {
  return state !== 'rolled_back' && state !== 'aborted';
}

const isFinal = (state: RolloutState) => state === 'completed' || !guardsPercentage(state);

/** The ids of rollouts that own a strategy of `flag`, per environment. */
export function ownedStrategies(flag: Pick<StoredFlag, 'environments'>): Array<{ environment: string; rolloutId: string }> {
  return Object.entries(flag.environments).flatMap(([environment, config]) =>
    config.strategies.flatMap((s) => (s.id?.startsWith(OWNED_PREFIX) ? [{ environment, rolloutId: s.id.slice(OWNED_PREFIX.length) }] : [])),
  );
}

/** An owned strategy's id is bookkeeping of the controller: files leave it out (reconcile puts it back). */
export function isOwnedStrategyId(id: string | undefined): boolean {
  return id?.startsWith(OWNED_PREFIX) ?? false;
}

const rolloutCandidate = (disabled: boolean) => (s: Strategy) => s.name === 'flexibleRollout' && !!s.disabled === disabled;

function matchIndex(stored: FlagEnvironment, owned: Strategy, next: FlagEnvironment): number {
  const byId = next.strategies.findIndex((s) => s.id === owned.id);
  if (byId >= 0) return byId;
  const candidate = rolloutCandidate(!!owned.disabled);
  const k = stored.strategies.filter(candidate).indexOf(owned);
  let seen = -1;
  return next.strategies.findIndex((s) => candidate(s) && ++seen === k);
}

/** The percentage a strategy serves in an environment (0 when either is switched off). */
function served(config: FlagEnvironment, strategy: Strategy): number {
  return config.enabled && !strategy.disabled ? Number(strategy.parameters.rollout) : 0;
}

/**
 * Reconciles `definition` with what `existing` holds, as described above. `rolloutOf` answers for
 * the rollouts named by owned strategy ids (undefined for one that no longer exists: nothing to guard).
 */
export function reconcileWithRollouts<D extends FlagDefinition>(
  existing: StoredFlag | undefined,
  definition: D,
  rolloutOf: (id: string) => OwningRollout | undefined,
  force: boolean,
): Reconciled<D> {
  const conflicts: OwnershipConflict[] = [];
  if (!existing) return { definition, conflicts, forcedOver: [] };
  const environments = { ...definition.environments };
  for (const { environment, rolloutId } of ownedStrategies(existing)) {
    const stored = existing.environments[environment]!;
    const owned = stored.strategies.find((s) => s.id === `${OWNED_PREFIX}${rolloutId}`)!;
    const next = forEnvironment(environments, environment);
    const index = next ? matchIndex(stored, owned, next) : -1;
    const match = index >= 0 ? next!.strategies[index]! : undefined;
    const before = served(stored, owned);
    const after = match ? served(next!, match) : null;
    const rollout = rolloutOf(rolloutId);
    if (after !== before && rollout && guardsPercentage(rollout.state)) {
      const change = after === null ? 'dropped' : next!.enabled ? 'percentage' : 'disabled';
      conflicts.push({ flag: definition.name, environment, rolloutId, rolloutState: rollout.state, rolloutPercentage: before, newPercentage: after, change });
    }
    // Kept when nothing changes, and by a rollout still under way (it goes on ramping this strategy);
    // a change forced past a finished rollout hands the percentage back to whoever wrote it.
    const keep = after === before || (rollout !== undefined && !isFinal(rollout.state));
    if (match && keep && match.id !== owned.id) {
      const strategies = [...next!.strategies];
      strategies[index] = { ...match, id: owned.id };
      environments[environment] = { ...next!, strategies };
    }
  }
  const reconciled = { ...definition, environments };
  return force ? { definition: reconciled, conflicts: [], forcedOver: conflicts } : { definition: reconciled, conflicts, forcedOver: [] };
}

/**
 * One line per conflict, e.g. "flag checkout in production: the file serves 0%, rollout 1b2c…
 * (completed) set 100%". `subject` names what would make the change ("the file", "the change").
 */
export function describeConflict(c: OwnershipConflict, subject: string): string {
  const what =
    c.change === 'dropped'
      ? `${subject} drops the strategy`
      : c.change === 'disabled'
        ? `${subject} disables the environment (serves 0%)`
        : `${subject} serves ${c.newPercentage}%`;
  return `flag ${c.flag} in ${c.environment}: ${what}, rollout ${c.rolloutId} (${c.rolloutState}) set ${c.rolloutPercentage}%`;
}

/** For the audit reason of a forced write: "forced over rollout X at 100% in production". */
export function forcedReason(reason: string | undefined, forcedOver: OwnershipConflict[]): string | undefined {
  if (forcedOver.length === 0) return reason;
  const forced = `forced over ${forcedOver.map((c) => `rollout ${c.rolloutId} at ${c.rolloutPercentage}% in ${c.environment}`).join(', ')}`;
  return reason ? `${reason} (${forced})` : forced;
}
