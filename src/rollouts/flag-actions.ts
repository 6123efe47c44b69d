import type { StoredFlag, Strategy } from '../flags/schema.js';
import { rolloutFlags, type Action, type Rollout } from './rollout-model.js';
import { forEnvironment } from '../flags/per-environment.js';
import { killReplaces } from '../flags/drill-kill.js';

/**
 * How a rollout changes flags, as pure functions over stored flags. The rollout owns exactly one
 * flexibleRollout strategy per flag it ramps (found by id; a release ramps several) and only ever changes its percentage: groupId and
 * stickiness stay fixed, so everyone who had the feature at 1% still has it at 10%, and the
 * strategy's targeting constraints are kept.
 */

export function ownedStrategyId(rolloutId: string): string {
  return `rollout:${rolloutId}`;
}

/** The stickiness and group a release gives every one of its flags, so they all reach the same users. */
export interface Cohort {
  stickiness: string;
  groupId: string;
}

/**
 * Takes ownership of the flag's first flexibleRollout strategy in the environment, or adds one at 0%.
 * `cohort` (a release) replaces the strategy's stickiness and group id; it is at 0 % then, so nobody changes side.
 */
export function claimStrategy(flag: StoredFlag, environment: string, strategyId: string, cohort?: Cohort): StoredFlag {
  const config = forEnvironment(flag.environments, environment) ?? { enabled: true, strategies: [], variants: [] };
  const strategies = [...config.strategies];
  const index = strategies.findIndex((s) => s.name === 'flexibleRollout' && !s.disabled);
  const existing = index >= 0 ? strategies[index]! : undefined;
  const owned: Strategy = {
    ...(existing ?? { name: 'flexibleRollout', constraints: [] }),
    id: strategyId,
    parameters: {
      ...existing?.parameters,
      rollout: '0',
      stickiness: cohort?.stickiness ?? existing?.parameters.stickiness ?? 'default',
      groupId: cohort?.groupId ?? existing?.parameters.groupId ?? flag.name,
    },
  };
  if (index >= 0) strategies[index] = owned;
  else strategies.push(owned);
  return { ...flag, environments: { ...flag.environments, [environment]: { ...config, enabled: true, strategies } } };
}

function setPercentage(flag: StoredFlag, environment: string, strategyId: string, percentage: number): StoredFlag {
  const claimed = forEnvironment(flag.environments, environment)?.strategies.some((s) => s.id === strategyId)
    ? flag
    : claimStrategy(flag, environment, strategyId);
  const config = forEnvironment(claimed.environments, environment)!;
  const strategies = config.strategies.map((s) => (s.id === strategyId ? { ...s, parameters: { ...s.parameters, rollout: String(percentage) } } : s));
  return { ...claimed, environments: { ...claimed.environments, [environment]: { ...config, strategies } } };
}

function kill(flag: StoredFlag, environment: string, reason: string, actor: string, at: string): StoredFlag {
  // A drill's kill gives way to the rollout's, so the drill's restore cannot undo a rollback.
  if (!killReplaces(forEnvironment(flag.killSwitches, environment), reason)) return flag;
  return { ...flag, killSwitches: { ...flag.killSwitches, [environment]: { reason, actor, at } } };
}

/** The flags a decision changes, after its actions; flags not named are untouched. */
export function applyActions(rollout: Rollout, actions: Action[], flags: ReadonlyMap<string, StoredFlag>, at: string): Map<string, StoredFlag> {
  const changed = new Map<string, StoredFlag>();
  const current = (name: string) => changed.get(name) ?? flags.get(name);
  for (const action of actions) {
    switch (action.kind) {
      case 'set-percentage':
        for (const name of rolloutFlags(rollout)) {
          const flag = current(name);
          if (flag) changed.set(name, setPercentage(flag, rollout.environment, rollout.strategyId, action.percentage));
        }
        break;
      case 'kill':
        for (const name of action.flags) {
          const flag = current(name);
          if (flag) changed.set(name, kill(flag, rollout.environment, action.reason, `rollout ${rollout.id}`, at));
        }
        break;
    }
  }
  return changed;
}
