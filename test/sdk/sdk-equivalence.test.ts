import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestController, type TestController } from '../support/controller.js';
import { ALWAYS_OFF, ALWAYS_ON, buildFixture, generateContexts, type FixtureFeature } from './fixtures.js';
import { SDK_MODES, clientGet, compareSdks, destroyAllSdks, destroySdk, startLiveSdk, startReferenceSdk, type TrackedSdk } from './sdk-helpers.js';
import { OPERATORS } from '../../src/flags/operators.js';

/**
 * Equivalence: a rich Unleash payload imported into the controller and served to a stock SDK (in
 * each of its fetch modes) must evaluate exactly as the same payload does when a stock SDK loads it
 * directly. The reference never talks to the server: it is bootstrapped with {features, segments}.
 */

const fixture = buildFixture();
const flagNames = fixture.features.map((f) => f.name);
const contexts = generateContexts(300);

let t: TestController;
let secret: string;
let reference: TrackedSdk;

beforeAll(async () => {
  t = await startTestController();
  secret = await t.token({ kind: 'client', environment: 'production' });
  const imported = await t.api('POST', '/api/admin/environments/production/import', fixture);
  expect(imported.status, JSON.stringify(imported.body)).toBe(200);
  expect(imported.body).toEqual({ imported: fixture.features.length });
  reference = await startReferenceSdk(fixture);
});

afterAll(async () => {
  destroyAllSdks();
  await t?.stop();
});

describe('the fixture and contexts are not vacuous', () => {
  it('covers every flag, with mixed results wherever a flag can be mixed', () => {
    expect(
      reference.sdk
        .getFeatureToggleDefinitions()
        .map((f) => f.name)
        .sort(),
    ).toEqual([...flagNames].sort());
    // Comparing the reference with itself gives the per-flag statistics (and proves it is deterministic).
    const stats = compareSdks(reference.sdk, reference.sdk, flagNames, contexts);
    expect(stats.mismatches).toEqual([]);
    for (const flag of flagNames) {
      const on = stats.enabled.get(flag)!;
      if (ALWAYS_ON.includes(flag)) expect(on, flag).toBe(contexts.length);
      else if (ALWAYS_OFF.includes(flag)) expect(on, flag).toBe(0);
      else {
        expect(on, `${flag} enabled for some contexts`).toBeGreaterThan(0);
        expect(on, `${flag} disabled for some contexts`).toBeLessThan(contexts.length);
      }
    }
    for (const flag of [
      'var-payloads',
      'var-weights',
      'var-sticky-session',
      'var-sticky-tenant',
      'var-overrides',
      'var-rollout',
      'svar-basic',
      'svar-over-feature',
      'dep-parent-variants',
      'dep-child-variant',
    ]) {
      expect(stats.variants.get(flag)!.size, `${flag} yields several variants`).toBeGreaterThanOrEqual(2);
    }
    // An override wins even for a weight-0 variant ("never" is only reachable through its override).
    expect([...stats.variants.get('var-overrides')!].sort()).toEqual(['blue', 'never', 'red']);
    expect([...stats.variants.get('var-zero-weight')!]).toEqual(['disabled']);
    expect(stats.variants.get('svar-over-feature')!.has('pro-variant')).toBe(true);
    const enabledTotal = [...stats.enabled.values()].reduce((a, b) => a + b, 0);
    expect(enabledTotal).toBeGreaterThan(flagNames.length * contexts.length * 0.2);
    expect(enabledTotal).toBeLessThan(flagNames.length * contexts.length * 0.8);
  });

  it('every constraint operator appears, plain and inverted, and the string ones case-insensitively', () => {
    const constraints = fixture.features.flatMap((f) => f.strategies.flatMap((s) => s.constraints));
    const operators = new Set(constraints.map((c) => c.operator));
    // Every operator the server knows (one list: src/flags/operators.ts), so a new one needs a fixture.
    expect([...operators].sort()).toEqual([...OPERATORS].sort());
    expect(new Set(constraints.filter((c) => c.inverted).map((c) => c.operator)).size).toBe(OPERATORS.length);
    expect(constraints.some((c) => c.caseInsensitive && c.operator === 'REGEX')).toBe(true);
  });
});

describe('the served payload', () => {
  it('is the imported payload, field for field (spec 5 SDKs get segments separately)', async () => {
    const res = await clientGet(t, secret, '/api/client/features', { 'Unleash-Client-Spec': '5.2.0' });
    expect(res.status).toBe(200);
    const byName = new Map<string, FixtureFeature>(res.body.features.map((f: FixtureFeature) => [f.name, f]));
    for (const expected of fixture.features) expect(byName.get(expected.name), expected.name).toEqual(expected);
    expect(res.body.features).toHaveLength(fixture.features.length);
    expect(res.body.segments).toEqual(fixture.segments);
  });
});

describe.each(SDK_MODES)('a stock SDK in %s mode', (mode) => {
  it('gives the same isEnabled and getVariant as the reference, for every flag and context', async () => {
    const live = await startLiveSdk(t, secret, mode, { refreshInterval: 60_000 });
    try {
      expect(
        live.sdk
          .getFeatureToggleDefinitions()
          .map((f) => f.name)
          .sort(),
      ).toEqual([...flagNames].sort());
      const result = compareSdks(live.sdk, reference.sdk, flagNames, contexts);
      expect(result.checks).toBe(flagNames.length * contexts.length * 2);
      expect(result.mismatches.slice(0, 20)).toEqual([]);
      expect(live.errors).toEqual([]);
    } finally {
      destroySdk(live.sdk);
    }
  });
});

describe('old-spec SDKs (no Unleash-Client-Spec header, or one before 4.2.0)', () => {
  it('get segment constraints inlined into the strategies, and evaluate the same', async () => {
    const old = await clientGet(t, secret, '/api/client/features');
    expect(old.status).toBe(200);
    expect(old.body.segments).toBeUndefined();
    const strategies = old.body.features.flatMap((f: FixtureFeature) => f.strategies);
    expect(strategies.filter((s: { segments?: unknown }) => s.segments !== undefined)).toEqual([]);

    const seg = (id: number) => fixture.segments.find((s) => s.id === id)!.constraints;
    const served = (name: string) => old.body.features.find((f: FixtureFeature) => f.name === name) as FixtureFeature;
    const original = (name: string) => fixture.features.find((f) => f.name === name)!;
    expect(served('seg-two-and-constraint').strategies[0]!.constraints).toEqual([
      ...seg(1),
      ...seg(2),
      ...original('seg-two-and-constraint').strategies[0]!.constraints,
    ]);
    expect(served('seg-either').strategies.map((s) => s.constraints)).toEqual([seg(2), seg(3)]);
    expect(served('seg-everyone').strategies[0]!.constraints).toEqual([]);
    // Flags without segments are served unchanged.
    expect(served('op-regex-ci')).toEqual(original('op-regex-ci'));

    const oldReference = await startReferenceSdk({ features: old.body.features });
    const result = compareSdks(oldReference.sdk, reference.sdk, flagNames, contexts);
    expect(result.mismatches.slice(0, 20)).toEqual([]);
    expect(result.enabled.get('seg-paying')).toBeGreaterThan(0);
    destroySdk(oldReference.sdk);
  });

  it('the spec header decides: before 4.2.0 inlined, from 4.2.0 separate', async () => {
    for (const [spec, separate] of [
      ['3.0.0', false],
      ['4.1.9', false],
      ['4.2.0', true],
      ['4.3.1', true],
      ['5.2.0', true],
    ] as const) {
      const res = await clientGet(t, secret, '/api/client/features', { 'Unleash-Client-Spec': spec });
      expect(res.status).toBe(200);
      expect(Array.isArray(res.body.segments), spec).toBe(separate);
      const strategy = res.body.features.find((f: FixtureFeature) => f.name === 'seg-paying').strategies[0];
      expect(strategy.segments, spec).toEqual(separate ? [1] : undefined);
      expect(strategy.constraints, spec).toEqual(separate ? [] : fixture.segments[0]!.constraints);
    }
  });

  it('a single flag (GET /api/client/features/{name}) follows the same rule', async () => {
    const inlined = await clientGet(t, secret, '/api/client/features/seg-paying');
    expect(inlined.status).toBe(200);
    expect(inlined.body.strategies[0].segments).toBeUndefined();
    expect(inlined.body.strategies[0].constraints).toEqual(fixture.segments[0]!.constraints);
    const separate = await clientGet(t, secret, '/api/client/features/seg-paying', { 'Unleash-Client-Spec': '5.2.0' });
    expect(separate.body).toEqual(fixture.features.find((f) => f.name === 'seg-paying'));
  });
});
