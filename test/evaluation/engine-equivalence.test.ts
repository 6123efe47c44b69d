import { isDeepStrictEqual } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Context } from 'unleash-client';
import type { ClientFeature, ClientSegment } from '../../src/flags/client-feature.js';
import { CompiledEngine } from '../../src/evaluation/compiled/compiled-engine.js';
import type { EvaluationEngine } from '../../src/evaluation/flag-catalog.js';
import { SnapshotEngine } from '../../src/evaluation/unleash-engine.js';
import { buildFixture, generateContexts } from '../sdk/fixtures.js';
import { destroyAllSdks, startReferenceSdk, type TrackedSdk } from '../sdk/sdk-helpers.js';
import { asReferenceSees, expectedEvaluation } from './support.js';

/**
 * Both engines, the compiled one behind the frontend API and OFREP and the stock SDK's own client fed
 * from a snapshot: over the 82-flag fixture (every strategy, operator, segment, variant and
 * dependency case) and 300 contexts, each must answer exactly as a stock SDK bootstrapped with the
 * same payload, and give the same reasons.
 */

const fixture = buildFixture();
const contexts = generateContexts(300).map(asReferenceSees);
let reference: TrackedSdk;
const features = () => structuredClone(fixture.features) as unknown as ClientFeature[];
const segments = () => structuredClone(fixture.segments) as unknown as ClientSegment[];
const engines: Array<[string, () => EvaluationEngine]> = [
  ['the compiled engine', () => new CompiledEngine(features(), segments())],
  ['the snapshot engine', () => new SnapshotEngine(features(), segments())],
];

beforeAll(async () => {
  reference = await startReferenceSdk(fixture);
});
afterAll(() => destroyAllSdks());

describe.each(engines)('%s', (_name, build) => {
  const engine = build();

  it('gives the stock SDK’s answer and variant for every flag and context', () => {
    const mismatches: string[] = [];
    let checks = 0;
    for (const [i, context] of contexts.entries()) {
      for (const evaluation of engine.evaluateAll(context)) {
        checks++;
        const expected = expectedEvaluation(reference.sdk, evaluation.flag, context);
        const actual = { enabled: evaluation.enabled, variant: evaluation.variant };
        if (!isDeepStrictEqual(actual, expected)) mismatches.push(`${evaluation.flag} ctx#${i}: ${JSON.stringify(actual)} ≠ ${JSON.stringify(expected)}`);
        if (evaluation.cohort !== (expected.enabled ? 'treatment' : 'control')) mismatches.push(`${evaluation.flag} ctx#${i}: cohort ${evaluation.cohort}`);
      }
    }
    expect(checks).toBe(fixture.features.length * contexts.length);
    expect(mismatches.slice(0, 20)).toEqual([]);
  });

  it('lists the snapshot’s flags and knows which split traffic', () => {
    expect([...engine.flagNames]).toEqual(fixture.features.map((f) => f.name));
    expect(engine.has('st-default')).toBe(true);
    expect(engine.has('no-such-flag')).toBe(false);
    expect(engine.evaluate('no-such-flag', {})).toBeUndefined();
    const splitting = fixture.features.map((f) => f.name).filter((name) => engine.splitsTraffic(name));
    for (const name of ['st-flex-default', 'st-gradual-user', 'var-weights', 'var-payloads', 'svar-basic', 'dep-parent-rollout'])
      expect(splitting).toContain(name);
    // Random stickiness and 0 %/100 % are not sticky splits; targeting alone is not a split.
    for (const name of ['st-flex-random-0', 'st-flex-random-100', 'st-gradual-random-100', 'st-default', 'ctx-user-in', 'var-zero-weight'])
      expect(splitting).not.toContain(name);
  });
});

describe.each(engines)('reasons: %s', (_name, build) => {
  const engine = build();
  const reasonOf = (flag: string, context: Context) => engine.evaluate(flag, asReferenceSees(context))!;
  const cases: Array<[string, Context, string, boolean]> = [
    ['st-disabled', {}, 'DISABLED', false],
    ['st-default', {}, 'STATIC', true],
    ['st-no-strategies', {}, 'STATIC', true],
    ['st-flex-random-100', {}, 'STATIC', true],
    ['ctx-user-in', { userId: 'u1' }, 'TARGETING_MATCH', true],
    ['ctx-user-in', { userId: 'u2' }, 'DEFAULT', false],
    ['st-user-with-id', { userId: 'u3' }, 'TARGETING_MATCH', true],
    ['seg-paying', { properties: { plan: 'pro' } }, 'TARGETING_MATCH', true],
    ['seg-paying', { properties: { plan: 'free' } }, 'DEFAULT', false],
    ['var-weights', { userId: 'u1' }, 'SPLIT', true],
    ['var-overrides', { userId: 'u2' }, 'TARGETING_MATCH', true],
    ['var-zero-weight', { userId: 'u2' }, 'STATIC', true],
    ['dep-child-needs-parent-off', {}, 'TARGETING_MATCH', true],
    ['dep-child-of-disabled', {}, 'DEFAULT', false],
  ];
  it.each(cases)('%s for %j is %s', (flag, context, reason, enabled) => {
    const evaluation = reasonOf(flag, context);
    expect(evaluation.enabled).toBe(enabled);
    expect(evaluation.reason).toBe(reason);
  });

  it('a percentage rollout that lets a user in is a SPLIT; one that keeps them out is DEFAULT', () => {
    const outcomes = generateContexts(100).map((c) => reasonOf('st-flex-userid', c));
    expect(new Set(outcomes.filter((e) => e.enabled).map((e) => e.reason))).toEqual(new Set(['SPLIT']));
    expect(new Set(outcomes.filter((e) => !e.enabled).map((e) => e.reason))).toEqual(new Set(['DEFAULT']));
  });

  it('the strategy that matched decides: a user list before a rollout is TARGETING_MATCH, the rollout after it SPLIT', () => {
    expect(reasonOf('st-multi', { userId: 'u2' }).reason).toBe('TARGETING_MATCH');
    const viaRollout = generateContexts(300)
      .map((c) => ({ ...c, userId: `x${c.userId}`, properties: { ...c.properties, plan: 'free' }, remoteAddress: '10.0.0.1' }))
      .map((c) => reasonOf('st-multi', c))
      .filter((e) => e.enabled);
    expect(viaRollout.length).toBeGreaterThan(0);
    expect(new Set(viaRollout.map((e) => e.reason))).toEqual(new Set(['SPLIT']));
  });
});
