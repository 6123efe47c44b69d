import { isFinal, type Rollout } from './rollout-model.js';
import { counted } from './units.js';

/** Part of where a rollout stands (rollout-status.ts): what its traffic checks judged the step on, for the screens. Pure. */

/**
 * How the sample-ratio check judges the current step: on distinct users, not at all (no application
 * reported users: the share of evaluations is shown for information), or not yet (counting waits
 * for the SDKs to fetch the step). `since`: when the step's traffic began to count.
 */
export interface TrafficJudgement {
  kind: 'users' | 'not-judged' | 'waiting' | 'evaluations';
  text: string;
  since?: string;
}

/** The sample-ratio check of the last analysis, in words: what it judged the step on. */
export function trafficOf(r: Rollout): { traffic?: TrafficJudgement } {
  const check = isFinal(r.state) ? undefined : r.gates.find((g) => g.metric === 'sample_ratio' || g.metric === 'sample_ratio_users');
  if (!check) return {};
  const since = r.trafficSettledAt ? { since: r.trafficSettledAt } : {};
  if (check.informational)
    return {
      traffic: {
        kind: 'not-judged',
        text: 'sample ratio not judged: no application reported users (stock SDKs report evaluations only); the share of evaluations is shown for information',
        ...since,
      },
    };
  if (check.metric === 'sample_ratio')
    return { traffic: { kind: 'evaluations', text: 'sample ratio judged on evaluations (an analysis from before users were counted)', ...since } };
  // Users not counted yet (no value): the step's traffic does not count until the SDKs have fetched it.
  if (check.value === null) return { traffic: { kind: 'waiting', text: `sample ratio waiting: ${check.reason ?? 'counting has not started'}` } };
  const from = r.trafficSettledAt ? ` since ${r.trafficSettledAt}` : '';
  return { traffic: { kind: 'users', text: `sample ratio judged on ${counted(check.samples, 'distinct user')}${from}`, ...since } };
}
