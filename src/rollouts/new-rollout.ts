import type { Policy } from '../policies/policy-schema.js';
import { ownedStrategyId } from './flag-actions.js';
import type { Person, Rollout } from './rollout-model.js';
import { notStarted, scheduledToStartAt, worded } from './verdict-wording.js';

/**
 * A rollout as it is created: pending (or scheduled), at 0 %, before `decide` enters its first step. Pure, so the
 * service and the simulation start rollouts the same way.
 */
export function newRollout(input: {
  id: string;
  flag: string;
  environment: string;
  policy: string;
  plan: Policy;
  startedBy: Person;
  at: Date;
  release?: Rollout['release'];
  /** A time after `at`: the rollout is created `scheduled` and starts then. */
  startAt?: string;
  notBefore?: Rollout['notBefore'];
}): Rollout {
  const at = input.at.toISOString();
  return {
    id: input.id,
    flag: input.flag,
    ...(input.release ? { release: input.release } : {}),
    ...(input.startAt ? { startAt: input.startAt } : {}),
    ...(input.notBefore && Object.keys(input.notBefore).length > 0 ? { notBefore: input.notBefore } : {}),
    environment: input.environment,
    policy: input.policy,
    plan: input.plan,
    strategyId: ownedStrategyId(input.id),
    state: input.startAt ? 'scheduled' : 'pending',
    stepIndex: 0,
    percentage: 0,
    stepStartedAt: at,
    startedBy: input.startedBy,
    createdAt: at,
    updatedAt: at,
    stepVerdict: { kind: 'waiting', ...worded(input.startAt ? scheduledToStartAt(input.startAt) : notStarted()) },
    gates: [],
    rollbackChecks: [],
    breachingSince: input.plan.rollback.map(() => null),
    checks: { failed: 0, consecutiveFailed: 0, inconclusive: 0, providerErrors: 0 },
    approvals: [],
    history: [],
  };
}
