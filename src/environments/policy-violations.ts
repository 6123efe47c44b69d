import { formatDuration } from '../policies/durations.js';
import { stepPlans, type Policy } from '../policies/policy-schema.js';
import type { Environment } from './environment-schema.js';

export interface PolicyViolation {
  /** The environment rule that is not met, as its path in the environment, e.g. rules.approval.required. */
  rule: string;
  /** For people: which step (by its percentage) or which part of the policy, what it asks and what the environment requires. */
  message: string;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * What a policy asks for less than an environment requires; empty when the policy may be used
 * there. Pure, so the rollout start and a table test judge the same way. Steps are checked with
 * their defaults filled in (stepPlans), so a step that overrides stepDefaults is judged on what
 * it really asks, the first step included: it is the one that first exposes users.
 */
export function policyViolations(policy: Policy, env: Environment): PolicyViolation[] {
  const rules = env.rules;
  if (!rules) return [];
  const violations: PolicyViolation[] = [];
  const steps = stepPlans(policy);

  if (rules.approval) {
    const { required, roles } = rules.approval;
    const from = roles ? ` from ${roles.join(' or ')}` : '';
    for (const step of steps) {
      if (step.approval.required < required) {
        violations.push({
          rule: 'rules.approval.required',
          message: `step ${step.percentage}%: asks for ${plural(step.approval.required, 'approval')}, ${env.name} requires at least ${required}${from}`,
        });
      }
      // Only a step that asks for approvals can let a wrong role approve it.
      const outside = roles && step.approval.required > 0 ? step.approval.roles.filter((r) => !(roles as string[]).includes(r)) : [];
      if (outside.length > 0) {
        violations.push({
          rule: 'rules.approval.roles',
          message: `step ${step.percentage}%: lets ${outside.join(', ')} approve, ${env.name} accepts approvals only from ${roles!.join(', ')}`,
        });
      }
    }
  }

  if (rules.minStepDuration !== undefined) {
    for (const step of steps) {
      if (step.minDurationMs < rules.minStepDuration) {
        violations.push({
          rule: 'rules.minStepDuration',
          message:
            `step ${step.percentage}%: lasts at least ${formatDuration(step.minDurationMs)}, ` +
            `${env.name} requires at least ${formatDuration(rules.minStepDuration)} per step`,
        });
      }
    }
  }

  if (rules.requireRollbackRules && policy.rollback.length === 0) {
    violations.push({ rule: 'rules.requireRollbackRules', message: `the policy has no rollback rules, ${env.name} requires at least one` });
  }
  if (rules.requireGates && policy.gates.length === 0) {
    violations.push({ rule: 'rules.requireGates', message: `the policy has no gates, ${env.name} requires at least one` });
  }
  return violations;
}
