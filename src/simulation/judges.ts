import type { Cohort, OutcomeTotals, UnitCounts } from '../metrics/outcome-model.js';
import { sampledUsers } from '../metrics/user-sample.js';
import type { Policy } from '../policies/policy-schema.js';
import type { DecisionInput, Rollout } from '../rollouts/rollout-model.js';

/** Requests and errors per hashed user bucket for one cohort: the controller's own per-user counts. */
export type CohortBuckets = UnitCounts;

/** What the simulated applications reported over a window (one analysis interval, or the step so far). */
export interface WindowTraffic {
  /** Requests, errors and latency histograms per cohort: what `decide` takes today. */
  totals: OutcomeTotals;
  /** The same requests and errors per unit bucket; absent for traffic without users (the coin-flip scenarios). */
  buckets?: Record<Cohort, CohortBuckets>;
  /** Flag evaluations (one per request) that got the feature (on) or did not (off). */
  exposures: { on: number; off: number };
  /** Distinct users who made a request, on and off (expected counts); absent without users. */
  users?: { on: number; off: number };
}

/** The traffic an analysis sees: the step since it began and the last analysis interval. */
export interface MeasuredTraffic {
  step: WindowTraffic;
  recent: WindowTraffic;
}

/** Draws the traffic of the interval ending at `now`, at the rollout's current percentage. */
export interface TrafficSource {
  measure(now: number, rollout: Rollout): MeasuredTraffic;
}

/**
 * How measured traffic becomes what the decision core is asked to consider. Today's judge hands
 * `decide` request totals; a unit-level judge will read the per-bucket counts (and distinct users)
 * instead, and slots in beside it as another arm of the report.
 */
export interface Judge {
  name: string;
  description: string;
  analyse(policy: Policy, rollout: Rollout, traffic: MeasuredTraffic): DecisionInput;
}

/**
 * Today's judge: every request an independent trial (the step's totals, the last interval's, the
 * step's evaluations). With no users reported, the sample-ratio check shows the share of
 * evaluations for information and does not judge, as the controller does for stock SDKs.
 */
export const requestLevelJudge: Judge = {
  name: 'request-level',
  description: "today's decide: gates and rollback rules on request counts, each request an independent trial",
  analyse: (_policy, _rollout, traffic) => ({
    kind: 'analysis',
    measurements: { step: traffic.step.totals, recent: traffic.recent.totals, exposures: traffic.step.exposures },
  }),
};

/** Totals with the per-user bucket counts attached, as the SDK helper reports them. */
function withUnits(window: WindowTraffic): OutcomeTotals {
  if (!window.buckets) return window.totals;
  const cohort = (c: Cohort) => ({ ...window.totals[c], units: { requests: window.buckets![c].requests, errors: window.buckets![c].errors } });
  return { treatment: cohort('treatment'), control: cohort('control') };
}

/**
 * The user-level judge: outcomes counted per hashed user bucket (what the SDK helper reports), so
 * error-rate checks use the spread between buckets of users; the traffic check counts distinct
 * users on and off rather than evaluations, allowing for the error the controller's sample of users
 * would have at those counts (sampledUsers), as the controller does.
 */
export const userLevelJudge: Judge = {
  name: 'user-level',
  description: 'error rates judged on hashed user buckets (the SDK helper reports them); the sample-ratio check on distinct users',
  analyse: (_policy, _rollout, traffic) => {
    const users = traffic.step.users;
    return {
      kind: 'analysis',
      measurements: {
        step: withUnits(traffic.step),
        recent: withUnits(traffic.recent),
        exposures: traffic.step.exposures,
        ...(users ? { users: { on: sampledUsers(users.on), off: sampledUsers(users.off) } } : {}),
      },
    };
  },
};

/** One column of the report: a plan judged by a judge. */
export interface Arm {
  label: string;
  policy: Policy;
  judge: Judge;
  /** Run this arm on the first this many rollouts only (comparison arms of a long run); all when absent. */
  rollouts?: number;
}
