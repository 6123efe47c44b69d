import { say, type Wording, wording } from './reason-wording.js';
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
  /** `text`'s wording (the machinery of reason-wording.ts), to say it in another language. */
  textWording?: Wording;
  since?: string;
}

/** The sample-ratio check of the last analysis, in words: what it judged the step on. */
export function trafficOf(r: Rollout): { traffic?: TrafficJudgement } {
  const check = isFinal(r.state) ? undefined : r.gates.find((g) => g.metric === 'sample_ratio' || g.metric === 'sample_ratio_users');
  if (!check) return {};
  const since = r.trafficSettledAt ? { since: r.trafficSettledAt } : {};
  const judgement = (kind: TrafficJudgement['kind'], w: Wording, when = since) => ({ traffic: { kind, text: say(w), textWording: w, ...when } });
  if (check.informational)
    return judgement(
      'not-judged',
      wording('sample ratio not judged: no application reported users (stock SDKs report evaluations only); the share of evaluations is shown for information'),
    );
  if (check.metric === 'sample_ratio')
    return judgement('evaluations', wording('sample ratio judged on evaluations (an analysis from before users were counted)'));
  // Users not counted yet (no value): the step's traffic does not count until the SDKs have fetched it.
  if (check.value === null)
    return judgement(
      'waiting',
      wording('sample ratio waiting: {reason}', { reason: check.reasonWording ?? check.reason ?? wording('counting has not started') }),
      {},
    );
  return judgement(
    'users',
    wording('sample ratio judged on {users}{since}', {
      users: { units: counted(check.samples, 'distinct user') },
      since: r.trafficSettledAt ? wording(' since {at}', { at: r.trafficSettledAt }) : '',
    }),
  );
}
