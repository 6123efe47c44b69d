/**
 * A deterministic, realistic Unleash client payload (what Unleash's GET /api/client/features
 * returns), imported into the controller before the bench: flexibleRollout strategies with
 * constraints, segments, strategy and flag variants with payloads, a few dependencies, and one
 * plain flag that the kill-latency run kills and restores.
 */

import type { ClientPayload, FixtureConstraint, FixtureFeature, FixturePayload, FixtureStrategy, FixtureVariant } from '../test/sdk/fixtures.js';

export const KILL_FLAG = 'bench.kill-target';

// The payload types are the SDK tests' (a client features payload as an Unleash server sends it).
type Constraint = FixtureConstraint;
type Payload = FixturePayload;
type Variant = FixtureVariant;
type Strategy = FixtureStrategy;
export type { FixtureFeature };
export type Fixture = ClientPayload & { version: 2 };

/** mulberry32: a tiny seeded PRNG, so every run benches the same bytes. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const AREAS = ['checkout', 'search', 'billing', 'onboarding', 'profile', 'feed', 'notifications', 'payments', 'catalog', 'reporting'];
const WORDS = ['new', 'fast', 'v2', 'beta', 'redesign', 'async', 'cached', 'smart', 'bulk', 'inline', 'dark-mode', 'ml'];
const PROJECTS = ['default', 'web', 'mobile', 'platform'];
const TYPES = ['release', 'release', 'release', 'experiment', 'operational', 'kill-switch', 'permission'];
const APPS = ['web-frontend', 'mobile-ios', 'mobile-android', 'api-gateway', 'checkout-service', 'search-service', 'admin-portal', 'batch-jobs'];
const REGIONS = ['eu-west-1', 'eu-central-1', 'us-east-1', 'us-west-2', 'ap-southeast-1', 'ap-northeast-1'];

export function buildFixture(flagCount = 200, seed = 42): Fixture {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const some = <T>(xs: readonly T[], n: number): T[] => [...xs].sort(() => r() - 0.5).slice(0, n);
  const uuid = () => {
    const h = () =>
      Math.floor(r() * 0x10000)
        .toString(16)
        .padStart(4, '0');
    return `${h()}${h()}-${h()}-4${h().slice(1)}-a${h().slice(1)}-${h()}${h()}${h()}`;
  };

  const constraint = (): Constraint => {
    switch (int(0, 7)) {
      case 0:
        return { contextName: 'appName', operator: 'IN', values: some(APPS, int(1, 4)), inverted: false, caseInsensitive: false };
      case 1:
        return {
          contextName: 'userId',
          operator: 'IN',
          values: Array.from({ length: int(3, 15) }, () => String(int(1000, 999999))),
          inverted: false,
          caseInsensitive: false,
        };
      case 2:
        return { contextName: 'region', operator: r() < 0.7 ? 'IN' : 'NOT_IN', values: some(REGIONS, int(1, 3)), inverted: false, caseInsensitive: false };
      case 3:
        return {
          contextName: 'email',
          operator: 'STR_ENDS_WITH',
          values: ['@example.com', '@example.org'].slice(0, int(1, 2)),
          inverted: false,
          caseInsensitive: true,
        };
      case 4:
        return {
          contextName: 'appVersion',
          operator: pick(['SEMVER_GTE', 'SEMVER_LT']),
          value: `${int(1, 5)}.${int(0, 20)}.${int(0, 9)}`,
          values: [],
          inverted: false,
          caseInsensitive: false,
        };
      case 5:
        return {
          contextName: 'accountAgeDays',
          operator: pick(['NUM_GT', 'NUM_LTE']),
          value: String(int(1, 365)),
          values: [],
          inverted: false,
          caseInsensitive: false,
        };
      case 6:
        return {
          contextName: 'currentTime',
          operator: 'DATE_AFTER',
          value: `2025-0${int(1, 9)}-1${int(0, 9)}T09:00:00.000Z`,
          values: [],
          inverted: false,
          caseInsensitive: false,
        };
      default:
        return {
          contextName: 'plan',
          operator: 'IN',
          values: some(['free', 'pro', 'team', 'enterprise'], int(1, 3)),
          inverted: r() < 0.2,
          caseInsensitive: false,
        };
    }
  };

  const payload = (flag: string, variant: string): Payload => {
    switch (int(0, 3)) {
      case 0:
        return { type: 'string', value: `${variant}-${flag}` };
      case 1:
        return { type: 'number', value: String(int(1, 500)) };
      case 2:
        return { type: 'csv', value: some(REGIONS, 3).join(',') };
      default:
        return {
          type: 'json',
          value: JSON.stringify({
            variant,
            color: pick(['#1f6feb', '#d73a49', '#28a745', '#f66a0a']),
            copy: `Try the ${variant} ${flag.split('.')[0]} experience`,
            limits: { items: int(5, 100), ttlSeconds: int(30, 3600) },
            enabled: r() < 0.8,
          }),
        };
    }
  };

  const variants = (flag: string, n: number, withOverrides: boolean): Variant[] => {
    const names = ['control', 'treatment', 'blue', 'green', 'compact'].slice(0, n);
    let left = 1000;
    return names.map((name, i) => {
      const weight = i === n - 1 ? left : Math.floor(1000 / n);
      left -= weight;
      const v: Variant = { name, weight, weightType: 'variable', stickiness: 'default', payload: payload(flag, name) };
      if (withOverrides && i === 0) v.overrides = [{ contextName: 'userId', values: ['1', '2', '3'] }];
      return v;
    });
  };

  const segments = Array.from({ length: 20 }, (_, i) => ({
    id: i + 1,
    name: `segment-${pick(AREAS)}-${i + 1}`,
    constraints: Array.from({ length: int(1, 3) }, constraint),
  }));

  const features: FixtureFeature[] = [];
  for (let i = 0; i < flagCount - 1; i++) {
    const area = pick(AREAS);
    const name = `${area}.${pick(WORDS)}-${pick(WORDS)}-${i}`;
    const strategies: Strategy[] = [];
    const roll = r();
    const nStrategies = roll < 0.6 ? 1 : roll < 0.9 ? 2 : 3;
    for (let s = 0; s < nStrategies; s++) {
      const kind = r();
      const id = uuid();
      if (kind < 0.75) {
        const strategy: Strategy = {
          id,
          name: 'flexibleRollout',
          title: r() < 0.3 ? `${area} rollout ${s + 1}` : null,
          sortOrder: s,
          parameters: { rollout: String(pick([0, 5, 10, 25, 50, 75, 100])), stickiness: pick(['default', 'userId', 'sessionId']), groupId: name },
          constraints: Array.from({ length: int(0, 3) }, constraint),
        };
        if (r() < 0.35)
          strategy.segments = some(
            segments.map((sg) => sg.id),
            int(1, 2),
          );
        if (r() < 0.3) strategy.variants = variants(name, int(2, 3), false);
        strategies.push(strategy);
      } else if (kind < 0.85) {
        strategies.push({
          id,
          name: 'userWithId',
          sortOrder: s,
          parameters: { userIds: Array.from({ length: int(3, 15) }, () => int(1, 99999)).join(',') },
          constraints: [],
        });
      } else if (kind < 0.92) {
        strategies.push({ id, name: 'remoteAddress', sortOrder: s, parameters: { IPs: '10.0.0.0/8,192.168.1.1' }, constraints: [constraint()] });
      } else {
        strategies.push({ id, name: 'default', sortOrder: s, parameters: {}, constraints: Array.from({ length: int(0, 2) }, constraint) });
      }
    }
    const feature: FixtureFeature = {
      name,
      type: pick(TYPES),
      description: r() < 0.7 ? `Gates the ${pick(WORDS)} ${area} flow for ${pick(['internal users', 'beta customers', 'EU tenants', 'everyone'])}` : null,
      project: pick(PROJECTS),
      enabled: r() < 0.8,
      stale: r() < 0.05,
      impressionData: r() < 0.15,
      strategies,
      variants: r() < 0.3 ? variants(name, int(2, 4), r() < 0.3) : [],
    };
    if (i > 10 && r() < 0.05) feature.dependencies = [{ feature: features[int(0, features.length - 1)]!.name, enabled: true }];
    features.push(feature);
  }
  features.push({
    name: KILL_FLAG,
    type: 'kill-switch',
    description: 'Killed and restored by the kill-latency bench',
    project: 'default',
    enabled: true,
    stale: false,
    impressionData: false,
    strategies: [{ id: uuid(), name: 'default', sortOrder: 0, parameters: {}, constraints: [] }],
    variants: [],
  });
  return { version: 2, features, segments };
}
