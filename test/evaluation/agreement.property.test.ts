import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Context } from 'unleash-client';
import { startTestController, type TestController } from '../support/controller.js';
import type { ClientPayload, FixtureConstraint, FixtureFeature, FixtureSegment, FixtureStrategy, FixtureVariant } from '../sdk/fixtures.js';
import { APP_NAME, destroySdk, startReferenceSdk } from '../sdk/sdk-helpers.js';
import { expectedOfrep, expectedToggles, post, servedToggles, wireContext } from './support.js';

/**
 * Property: for generated flag sets (strategies, constraints with every operator, segments,
 * variants with payloads and overrides, dependencies) and generated contexts, the frontend API,
 * OFREP's bulk route and a stock SDK holding the same flags give the same answers.
 *
 * Every context carries a sessionId and a remoteAddress, and no stickiness is random, so every
 * answer is deterministic: any difference is a real disagreement, not a coin toss.
 */

const IPS = ['10.1.2.3', '192.168.1.5', '172.16.0.1', '2001:db8::7'];
const PLANS = ['free', 'pro', 'Pro', 'enterprise'];
const COUNTRIES = ['NO', 'SE', 'US'];
const EMAILS = ['user1@example.com', 'admin7@corp.io', 'User2@Example.COM', 'x@other.org'];
const VERSIONS = ['1.2.3', '2.0.0', '2.0.0-beta.1', '10.1.0', 'not-semver'];
const AGES = ['17', '18', '30', '45.5', 'abc'];
const DATES = ['2024-06-01T00:00:00.000Z', '2025-06-01T00:00:00.000Z', '2026-06-01T00:00:00.000Z', '2027-06-01T00:00:00.000Z'];

const some = <T>(pool: readonly T[]) => fc.uniqueArray(fc.constantFrom(...pool), { minLength: 1, maxLength: pool.length });
const flags = { inverted: fc.boolean(), caseInsensitive: fc.boolean() };
const multi = (contextName: string, operators: string[], pool: readonly string[]) =>
  fc.record({ contextName: fc.constant(contextName), operator: fc.constantFrom(...operators), values: some(pool), ...flags });
const single = (contextName: string, operators: string[], pool: readonly string[]) =>
  fc.record({
    contextName: fc.constant(contextName),
    operator: fc.constantFrom(...operators),
    value: fc.constantFrom(...pool),
    values: fc.constant([] as string[]),
    ...flags,
  });

const constraintArb: fc.Arbitrary<FixtureConstraint> = fc.oneof(
  multi('userId', ['IN', 'NOT_IN'], ['u1', 'u2', 'u3', 'u10']),
  multi('plan', ['IN', 'NOT_IN'], PLANS),
  multi('country', ['IN', 'NOT_IN'], COUNTRIES),
  multi('email', ['STR_ENDS_WITH', 'STR_STARTS_WITH', 'STR_CONTAINS'], ['@example.com', 'admin', 'user', '7@']),
  single('email', ['REGEX'], ['^user[0-9]+@', 'EXAMPLE', '^(admin|x)']),
  single('age', ['NUM_EQ', 'NUM_GT', 'NUM_GTE', 'NUM_LT', 'NUM_LTE'], ['18', '30', '45.5']),
  single('currentTime', ['DATE_AFTER', 'DATE_BEFORE'], DATES),
  single('version', ['SEMVER_EQ', 'SEMVER_GT', 'SEMVER_LT', 'SEMVER_GTE', 'SEMVER_LTE'], ['1.2.3', '2.0.0', '2.0.0-beta.1']),
  multi('remoteAddress', ['IN_CIDR'], ['10.0.0.0/8', '192.168.1.0/24', '2001:db8::/32']),
);

const payloadArb = fc.option(
  fc.oneof(
    fc.record({ type: fc.constant('string' as const), value: fc.constantFrom('a', 'b') }),
    fc.record({ type: fc.constant('number' as const), value: fc.constantFrom('1', '2.5') }),
    fc.record({ type: fc.constant('json' as const), value: fc.constantFrom('{"x":1}', '{"y":[1,2]}') }),
    fc.record({ type: fc.constant('csv' as const), value: fc.constant('a,b') }),
  ),
  { nil: undefined },
);
// Stickiness on fields every context has (or "default"), so no variant falls back to a random seed.
const variantArb = (name: string, withOverrides: boolean): fc.Arbitrary<FixtureVariant> =>
  fc
    .record({
      name: fc.constant(name),
      weight: fc.integer({ min: 0, max: 1000 }),
      weightType: fc.constant('variable' as const),
      stickiness: fc.constantFrom('default', 'sessionId'),
      payload: payloadArb,
      overrides: withOverrides ? fc.option(fc.constant([{ contextName: 'userId', values: ['u1', 'u2'] }]), { nil: undefined }) : fc.constant(undefined),
    })
    .map((v) => Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined)) as unknown as FixtureVariant);
const variantsArb = (withOverrides: boolean) =>
  fc.integer({ min: 0, max: 3 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => variantArb(`v${i}`, withOverrides))));

const percentage = fc.constantFrom('0', '10', '50', '90', '100');
const strategyArb = (segmentIds: number[]): fc.Arbitrary<FixtureStrategy> =>
  fc
    .record({
      kind: fc.oneof(
        fc.record({ name: fc.constant('default'), parameters: fc.constant({}) }),
        fc.record({
          name: fc.constant('flexibleRollout'),
          parameters: fc.record({ rollout: percentage, stickiness: fc.constantFrom('default', 'userId', 'sessionId'), groupId: fc.constantFrom('g1', 'g2') }),
        }),
        fc.record({ name: fc.constant('gradualRolloutUserId'), parameters: fc.record({ percentage, groupId: fc.constant('g3') }) }),
        fc.record({ name: fc.constant('userWithId'), parameters: fc.record({ userIds: fc.constantFrom('u1,u2', 'u3, u10') }) }),
        fc.record({ name: fc.constant('remoteAddress'), parameters: fc.record({ IPs: fc.constantFrom('10.1.2.3', '192.168.1.0/24, 172.16.0.1') }) }),
      ),
      constraints: fc.array(constraintArb, { maxLength: 2 }),
      segments: fc.subarray(segmentIds, { maxLength: Math.min(2, segmentIds.length) }),
      variants: fc.oneof({ weight: 3, arbitrary: fc.constant([]) }, { weight: 1, arbitrary: variantsArb(false) }),
    })
    .map(
      ({ kind, constraints, segments, variants }) =>
        ({
          name: kind.name,
          parameters: kind.parameters as Record<string, string>,
          constraints,
          ...(segments.length ? { segments: [...segments] } : {}),
          ...(variants.length ? { variants: [...variants] } : {}),
        }) as FixtureStrategy,
    );

type GeneratedSet = {
  features: Array<Omit<FixtureFeature, 'name'> & { dependsOn?: { index: number; enabled?: boolean; variants?: string[] } }>;
  segments: FixtureSegment[];
};

/** Up to six flags and two segments, with local names and segment ids (0, 1) that each run makes its own. */
function flagSetArb(): fc.Arbitrary<GeneratedSet> {
  return fc.integer({ min: 0, max: 2 }).chain((segmentCount) => {
    const ids = Array.from({ length: segmentCount }, (_, i) => i);
    const segments = fc.tuple(
      ...ids.map((id) => fc.record({ id: fc.constant(id), name: fc.constant(`s${id}`), constraints: fc.array(constraintArb, { maxLength: 2 }) })),
    );
    const feature = fc.record({
      enabled: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
      impressionData: fc.boolean(),
      strategies: fc.array(strategyArb(ids), { maxLength: 3 }),
      variants: variantsArb(true),
      dependsOn: fc.option(
        fc.record({ index: fc.nat(), enabled: fc.option(fc.boolean(), { nil: undefined }), variants: fc.option(fc.constant(['v0']), { nil: undefined }) }),
        { nil: undefined },
      ),
    });
    return fc.record({ segments, features: fc.array(feature, { minLength: 1, maxLength: 6 }) }).map(({ segments, features }) => ({
      segments,
      features: features.map(({ dependsOn, ...f }) => ({ ...f, type: 'release', description: null, project: 'default', stale: false, dependsOn })),
    })) as unknown as fc.Arbitrary<GeneratedSet>;
  });
}

/**
 * Names the flags and segments for one run (segments are global, so each run gets its own ids) and
 * turns "depends on an earlier flag" into a dependency, so there are no cycles.
 */
function namedPayload(run: number, set: GeneratedSet): ClientPayload {
  const name = (i: number) => `prop${run}-f${i}`;
  const segmentId = (local: number) => 1_000 + run * 10 + local;
  const features = set.features.map(({ dependsOn, ...f }, i) => {
    const strategies = f.strategies.map((s) => (s.segments ? { ...s, segments: s.segments.map(segmentId) } : s));
    const feature: FixtureFeature = { ...f, strategies, name: name(i) };
    if (dependsOn && i > 0) {
      feature.dependencies = [
        {
          feature: name(dependsOn.index % i),
          ...(dependsOn.enabled === undefined ? {} : { enabled: dependsOn.enabled }),
          ...(dependsOn.variants ? { variants: dependsOn.variants } : {}),
        },
      ];
    }
    return feature;
  });
  return { version: 2, features, segments: set.segments.map((s) => ({ ...s, id: segmentId(s.id), name: `seg-${segmentId(s.id)}` })) };
}

const contextArb: fc.Arbitrary<Context> = fc
  .record({
    userId: fc.option(fc.constantFrom('u1', 'u2', 'u3', 'u10', 'u77'), { nil: undefined }),
    sessionId: fc.integer({ min: 0, max: 10_000 }).map((n) => `s${n}`),
    remoteAddress: fc.constantFrom(...IPS),
    currentTime: fc.option(
      fc.constantFrom(...DATES).map((d) => new Date(Date.parse(d) + 86_400_000)),
      { nil: undefined },
    ),
    plan: fc.option(fc.constantFrom(...PLANS), { nil: undefined }),
    country: fc.option(fc.constantFrom(...COUNTRIES), { nil: undefined }),
    email: fc.option(fc.constantFrom(...EMAILS), { nil: undefined }),
    version: fc.option(fc.constantFrom(...VERSIONS), { nil: undefined }),
    age: fc.option(fc.constantFrom(...AGES), { nil: undefined }),
  })
  .map(({ userId, sessionId, remoteAddress, currentTime, ...props }) => {
    const properties = Object.fromEntries(Object.entries(props).filter(([, v]) => v !== undefined)) as Record<string, string>;
    return {
      appName: APP_NAME,
      environment: 'production',
      sessionId,
      remoteAddress,
      ...(userId ? { userId } : {}),
      ...(currentTime ? { currentTime } : {}),
      properties,
    };
  });

let t: TestController;
let run = 0;
/** What the runs covered, so that a vacuous generator (everything off, no variants) fails the test. */
const seen = { on: 0, off: 0, variants: new Set<string>(), reasons: new Set<string>(), dependencies: 0, segments: 0 };

beforeAll(async () => {
  t = await startTestController();
});
afterAll(async () => {
  await t?.stop();
});

it('the frontend API, OFREP and the stock SDK agree over generated flag sets and contexts', async () => {
  await fc.assert(
    fc.asyncProperty(flagSetArb(), fc.array(contextArb, { minLength: 1, maxLength: 4 }), async (set, contexts) => {
      const id = ++run;
      const payload = namedPayload(id, set);
      seen.dependencies += payload.features.filter((f) => f.dependencies).length;
      seen.segments += payload.segments.length;
      const env = `prop-${id}`;
      // Each run imports into a fresh environment, declared first (an import may only name a declared one).
      expect((await t.api('PUT', `/api/admin/environments/${env}`, {})).status).toBe(201);
      const imported = await t.api('POST', `/api/admin/environments/${env}/import`, payload);
      expect(imported.status, JSON.stringify(imported.body)).toBe(200);
      const [frontend, client] = await Promise.all([t.token({ kind: 'frontend', environment: env }), t.token({ kind: 'client', environment: env })]);
      const reference = await startReferenceSdk(payload);
      try {
        const names = payload.features.map((f) => f.name);
        for (const context of contexts) {
          const wire = wireContext(context);
          const served = await post(t, '/api/frontend', { context: wire }, frontend);
          expect(served.status).toBe(200);
          expect(servedToggles(served.body.toggles.filter((x: { name: string }) => names.includes(x.name)))).toEqual(
            expectedToggles(reference.sdk, names, context),
          );

          const { userId, properties, ...rest } = wire;
          const bulk = await post(
            t,
            '/ofrep/v1/evaluate/flags',
            { context: { ...rest, ...(userId ? { targetingKey: userId } : {}), ...(properties as object) } },
            client,
          );
          expect(bulk.status).toBe(200);
          for (const name of names) {
            const entry = bulk.body.flags.find((f: { key: string }) => f.key === name);
            const expected = expectedOfrep(reference.sdk, name, context);
            const actual = { value: entry.value, variant: entry.variant, cohort: entry.metadata?.cohort };
            if (expected.cohort === 'treatment') seen.on++;
            else seen.off++;
            seen.variants.add(typeof expected.value === 'boolean' ? expected.variant : `${expected.variant}:${typeof expected.value}`);
            seen.reasons.add(entry.reason);
            if (!isDeepStrictEqual(actual, expected)) expect({ name, ...actual }).toEqual({ name, ...expected });
          }
        }
      } finally {
        destroySdk(reference.sdk);
      }
    }),
    { numRuns: 40, endOnFailure: true },
  );
  expect(run).toBeGreaterThanOrEqual(40);
  expect(seen.on).toBeGreaterThan(20);
  expect(seen.off).toBeGreaterThan(20);
  expect(seen.dependencies).toBeGreaterThan(0);
  expect(seen.segments).toBeGreaterThan(0);
  for (const kind of ['v0:string', 'v0:number', 'v0:object', 'on', 'off']) expect([...seen.variants]).toContain(kind);
  expect([...seen.reasons].sort()).toEqual(['DEFAULT', 'DISABLED', 'SPLIT', 'STATIC', 'TARGETING_MATCH']);
}, 120_000);
