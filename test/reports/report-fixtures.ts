import { decide } from '../../src/rollouts/decide.js';
import type { DecisionInput, Person, Rollout } from '../../src/rollouts/rollout-model.js';
import type { AuditEvent } from '../../src/audit/chain.js';
import { alice, analysis, at, bob, BREACHING, carol, expectDecided, HEALTHY, MINUTE, rollout, T0 } from '../unit/decide-fixtures.js';

/**
 * Rollouts for the report tests, driven through the real decision core so their history carries
 * exactly what the controller records (gates, samples and approvals per transition).
 */

/** Applies each input at its time, as the controller would. */
export function drive(start: Rollout, steps: Array<[DecisionInput, Date]>): Rollout {
  return steps.reduce((r, [input, when]) => expectDecided(decide(r, input, when)).next, start);
}

/** Someone whose name is markup: every renderer must show it as text. */
export const MALLORY: Person = { id: 'u-mallory', name: '<img src=x onerror=alert(1)>', role: 'editor' };
export const HOSTILE_COMMENT = '<script>alert("x")</script> | **bold** [link](http://evil.example)';

const pending = (startedBy: Person) => rollout({ state: 'pending', percentage: 0, startedBy, stepVerdict: { kind: 'waiting', reason: 'not started' } });
const approve = (by: Person, comment?: string): DecisionInput => ({ kind: 'approve', by, comment });

/** The Go/No-Go given, then 1 → 10 → 50 → 100 %, each step healthy and approved by a release manager; the first widening's approval carries a hostile comment. */
export function completedRollout(): Rollout {
  const steps: Array<[DecisionInput, Date]> = [
    [analysis(HEALTHY), T0],
    [approve(carol, 'go'), T0],
  ];
  const approvers: Array<[Person, string | undefined]> = [
    [bob, HOSTILE_COMMENT],
    [carol, 'error rate flat'],
    [bob, undefined],
  ];
  let t = 0;
  for (const [by, comment] of approvers) {
    t += 11 * MINUTE;
    steps.push([analysis(HEALTHY), at(t)], [approve(by, comment), at(t + MINUTE)]);
    t += MINUTE;
  }
  steps.push([analysis(HEALTHY), at(t + 11 * MINUTE)]);
  return drive(pending(MALLORY), steps);
}

/** Breaches the 5 % rollback rule at step 1 and keeps breaching past its 5 minutes. */
export function rolledBackRollout(): Rollout {
  return drive(pending(alice), [
    [analysis(HEALTHY), T0],
    [approve(bob, 'go'), T0],
    [analysis(BREACHING), at(2 * MINUTE)],
    [analysis(BREACHING), at(8 * MINUTE)],
  ]);
}

export function auditEvent(seq: number, action: string, reason?: string): AuditEvent {
  return {
    seq,
    at: at(seq * 1000).toISOString(),
    actor: { type: 'token', id: 't-1', name: 'Bob' },
    action,
    target: { type: 'rollout', id: 'r-1', environment: 'production' },
    ...(reason ? { reason } : {}),
    before: null,
    after: null,
    prevHash: '0'.repeat(64),
    hash: `${seq}`.padStart(64, 'a'),
  };
}
