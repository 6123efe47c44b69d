import type { Traffic } from '../policies/policy-schema.js';
import { result, round } from './checks.js';
import type { CheckResult, Measurements } from './rollout-model.js';
import type { TrafficWindow } from './traffic-window.js';
import { assignedShare } from './unit-bucket.js';
import { unitShareTest } from './user-share-test.js';
import { count, percentOf } from './units.js';
import type { Wording } from './reason-wording.js';
import {
  countingStarts,
  evaluationsSoFar,
  evaluationsWhileWaiting,
  noEvaluationsYet,
  notJudgedWithoutUsers,
  sampleRatioMismatch,
  sinceStepStart,
} from './verdict-wording.js';

/** The policy's traffic checks in words, as plans and reports list them. */
export { trafficRules } from '../policies/policy-words.js';

/**
 * The policy's traffic checks, part of the decision core (pure): the flag must be evaluated at all,
 * and (when asked) the share of users that got the feature must match the step's percentage. Neither
 * ever rolls back: too little traffic extends the step, a mismatch holds it and says why. Both count
 * from when the step's traffic began to count (traffic-window.ts); until then they wait.
 *
 * The sample-ratio check judges users, never evaluations: assignment is per user, and heavy users
 * make the share of evaluations drift from the step's percentage on perfectly healthy releases.
 * Where no application reported users (only stock SDKs, which report evaluations), the share of
 * evaluations is shown for information and the check says it did not judge.
 */

type TrafficInput = Pick<Measurements, 'exposures' | 'users' | 'trafficWindow'>;

export function evaluateTraffic(traffic: Traffic, m: TrafficInput, percentage: number): CheckResult[] {
  const exposures = m.exposures ?? { on: 0, off: 0 };
  const window: TrafficWindow = m.trafficWindow ?? { kind: 'counting', since: Number.NaN, instances: 0, gaveUp: 0 };
  const n = exposures.on + exposures.off;
  const checks: CheckResult[] = [];
  const volume = `evaluations >= ${traffic.minExposures}`;
  const enough = window.kind === 'counting' && n >= traffic.minExposures;
  checks.push(
    result(
      volume,
      'exposures',
      'all',
      traffic.minExposures,
      n,
      n,
      enough ? 'pass' : 'inconclusive',
      enough ? undefined : volumeReason(window, n, traffic.minExposures),
    ),
  );
  if (!traffic.sampleRatio) return checks;
  const pValue = traffic.sampleRatio.pValue;
  const expected = assignedShare(percentage);
  const served = `${Math.round(expected * 100)}%`;
  if (window.kind === 'waiting') {
    checks.push(
      result(`users in treatment = ${served} (p >= ${pValue})`, 'sample_ratio_users', 'all', expected, undefined, 0, 'inconclusive', waitingText(window)),
    );
    return checks;
  }
  const users = m.users;
  if (!users || users.on.count + users.off.count === 0) {
    const share = n > 0 ? exposures.on / n : undefined;
    const test: CheckResult['test'] =
      share === undefined
        ? undefined
        : { method: 'share-of-evaluations', confidence: 1 - pValue, estimate: round(share), lower: round(share), upper: round(share) };
    checks.push({
      ...result(
        `evaluations in treatment = ${served} (not judged: no per-user counts)`,
        'sample_ratio',
        'all',
        expected,
        share,
        n,
        'pass',
        notJudgedWithoutUsers(share === undefined ? undefined : { share: percentOf(share), n: count(n) }),
        test ? { test } : {},
      ),
      informational: true,
    });
    return checks;
  }
  const srm = unitShareTest(users, expected);
  const total = users.on.count + users.off.count;
  const estimated = users.on.variance > 0 || users.off.variance > 0;
  const shownP = srm.pValue < 1e-12 ? 0 : Number(srm.pValue.toPrecision(3));
  const test: CheckResult['test'] = {
    method: 'share-of-users',
    confidence: 1 - pValue,
    estimate: round(srm.observedShare),
    lower: round(srm.observedShare),
    upper: round(srm.observedShare),
    pValue: shownP,
  };
  const mismatch = srm.pValue < pValue;
  const reason = mismatch ? sampleRatioMismatch(percentOf(srm.observedShare), count(total), served, shownP, estimated) : undefined;
  checks.push(
    result(
      `users in treatment = ${served} (p >= ${pValue})`,
      'sample_ratio_users',
      'all',
      expected,
      srm.observedShare,
      Math.round(total),
      mismatch ? 'fail' : 'pass',
      reason,
      {
        test,
      },
    ),
  );
  return checks;
}

function clock(ms: number): string {
  return `${new Date(ms).toISOString().slice(11, 19)} UTC`;
}

function waitingText(w: Extract<TrafficWindow, { kind: 'waiting' }>): Wording {
  return countingStarts(w.fetched, w.instances, clock(w.until));
}

function volumeReason(w: TrafficWindow, n: number, needed: number): Wording {
  if (w.kind === 'waiting') return evaluationsWhileWaiting(count(n), waitingText(w));
  const since = Number.isNaN(w.since) ? sinceStepStart() : clock(w.since);
  if (n === 0) return noEvaluationsYet(since, count(needed));
  return evaluationsSoFar(count(n), since, count(needed));
}
