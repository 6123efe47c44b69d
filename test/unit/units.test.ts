import { describe, expect, it } from 'vitest';
import { counted, judgedOnText, metricText, percentOf, samplesText, shownVerdict, unitOf, verdictText } from '../../src/rollouts/units.js';

/** Every number people read about a rollout carries its unit; one row per kind of check value. */

describe('metricText: a value with its unit, for every kind of check', () => {
  it.each([
    ['error_rate', 0.002128, '0.21%'],
    ['error_rate', 0.05, '5%'],
    ['error_rate', 0, '0%'],
    ['error_rate', 0.0000123, '0.00123%'],
    ['latency_p99_ms', 480, '480 ms'],
    ['latency_p50_ms', 3.25, '3.3 ms'],
    ['latency_mean_ms', 148.5, '149 ms'],
    // The traffic checks: counts of evaluations, and the share of them that got the feature.
    ['exposures', 1_669_360, '1,669,360 evaluations'],
    ['exposures', 1, '1 evaluation'],
    ['sample_ratio', 0.0123, '1.23%'],
    ['sample_ratio', 0.1, '10%'],
  ] as const)('%s %d → %s', (metric, value, text) => {
    expect(metricText(metric, value)).toBe(text);
  });

  it('no value reads as "no data", never as a number', () => {
    expect(metricText('error_rate', null)).toBe('no data');
    expect(metricText('latency_p99_ms', undefined)).toBe('no data');
  });

  it('samples are requests for outcome checks and evaluations for traffic checks', () => {
    expect(samplesText('error_rate', 2000)).toBe('2,000 requests');
    expect(samplesText('latency_p99_ms', 1)).toBe('1 request');
    expect(samplesText('exposures', 250)).toBe('250 evaluations');
    expect(samplesText('sample_ratio', 250)).toBe('250 evaluations');
    // The sample-ratio check on users counts users.
    expect(samplesText('sample_ratio_users', 1)).toBe('1 user');
    expect(samplesText('sample_ratio_users', 20_000)).toBe('20,000 users');
    expect(metricText('sample_ratio_users', 0.0105)).toBe('1.05%');
  });

  it('a check shown for information only reads "not judged", whatever its verdict', () => {
    expect(shownVerdict({ verdict: 'pass', informational: true })).toBe('not-judged');
    expect(verdictText({ verdict: 'pass', informational: true })).toBe('not judged');
    expect(verdictText({ verdict: 'inconclusive' })).toBe('inconclusive');
    expect(shownVerdict({ verdict: 'fail' })).toBe('fail');
  });

  it('every unit the checks produce is one of the known kinds', () => {
    expect(['error_rate', 'latency_p95_ms', 'exposures', 'sample_ratio', 'checkout_errors'].map(unitOf)).toEqual([
      'fraction',
      'ms',
      'evaluations',
      'share',
      'value',
    ]);
    expect(percentOf(0.5)).toBe('50%');
    expect(counted(0, 'user')).toBe('0 users');
  });
});

describe('judgedOnText: what a verdict judged, users or requests', () => {
  it.each([
    { check: { test: { method: 'always-valid-users' } }, want: 'users (per-user counts)' },
    { check: { test: { method: 'always-valid' } }, want: 'requests (no per-user counts)' },
    { check: { test: { method: 'chi-squared' } }, want: 'evaluations' },
    { check: { test: { method: 'share-of-users' } }, want: 'users (distinct users seen)' },
    { check: { test: { method: 'share-of-evaluations' } }, want: 'evaluations' },
    { check: {}, want: 'the measured value' },
  ])('$want', ({ check, want }) => {
    expect(judgedOnText(check)).toBe(want);
  });
});
