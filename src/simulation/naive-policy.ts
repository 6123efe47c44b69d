import { policySchema, type Policy } from '../policies/policy-schema.js';

/**
 * The comparison: the same steps, durations and approvals as the standard plan, judged the way
 * interval-based canary analysis judges them — plain thresholds on point estimates, and a
 * rollback once the last interval's error rate or latency has been over the line for three
 * analyses running (one minute at a 30 s interval, like a failure limit of three).
 */
export const NAIVE_POLICY: Policy = policySchema.parse({
  name: 'naive',
  description: 'plain thresholds every interval',
  steps: [1, 10, 50, 100],
  stepDefaults: { minDuration: '10m', minSamples: 1000, maxDuration: '24h', approval: { required: 1, roles: ['release-manager'] } },
  analysisInterval: '30s',
  gates: [
    { metric: 'error_rate', cohort: 'treatment', max: 0.01 },
    { metric: 'latency_p99_ms', cohort: 'treatment', max: 500 },
    { metric: 'error_rate', compare: 'control', maxRelativeIncrease: 0.2 },
  ],
  rollback: [
    { metric: 'error_rate', cohort: 'treatment', above: 0.01, for: '1m', minSamples: 10 },
    { metric: 'latency_p99_ms', cohort: 'treatment', above: 500, for: '1m', minSamples: 10 },
  ],
});
