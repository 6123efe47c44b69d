import os from 'node:os';
import type { Context } from 'unleash-client';

/**
 * A rich Unleash client-features payload (what Unleash's GET /api/client/features returns, spec 5.x,
 * segments separate) and a deterministic set of evaluation contexts to run it against.
 */

export interface FixtureConstraint {
  contextName: string;
  operator: string;
  value?: string;
  values: string[];
  inverted: boolean;
  caseInsensitive: boolean;
}
export interface FixturePayload {
  type: 'string' | 'json' | 'csv' | 'number';
  value: string;
}
export interface FixtureVariant {
  name: string;
  weight: number;
  weightType?: 'variable' | 'fix';
  stickiness?: string;
  payload?: FixturePayload;
  overrides?: Array<{ contextName: string; values: string[] }>;
}
export interface FixtureStrategy {
  name: string;
  id?: string;
  title?: string | null;
  sortOrder?: number;
  parameters: Record<string, string | number>;
  constraints: FixtureConstraint[];
  segments?: number[];
  variants?: Array<Omit<FixtureVariant, 'overrides'>>;
}
export interface FixtureFeature {
  name: string;
  type: string;
  description: string | null;
  project: string;
  enabled: boolean;
  stale: boolean;
  impressionData: boolean;
  strategies: FixtureStrategy[];
  variants: FixtureVariant[];
  dependencies?: Array<{ feature: string; enabled?: boolean; variants?: string[] }>;
}
export interface FixtureSegment {
  id: number;
  name: string;
  constraints: FixtureConstraint[];
}
export interface ClientPayload {
  version: number;
  features: FixtureFeature[];
  segments: FixtureSegment[];
}

export function c(
  contextName: string,
  operator: string,
  value: string | string[],
  opts: { inverted?: boolean; caseInsensitive?: boolean } = {},
): FixtureConstraint {
  const multi = Array.isArray(value);
  return {
    contextName,
    operator,
    ...(multi ? {} : { value }),
    values: multi ? value : [],
    inverted: opts.inverted ?? false,
    caseInsensitive: opts.caseInsensitive ?? false,
  };
}

export function s(name: string, parameters: Record<string, string | number> = {}, extra: Partial<FixtureStrategy> = {}): FixtureStrategy {
  return { name, parameters, constraints: [], ...extra };
}

export function feature(name: string, strategies: FixtureStrategy[], extra: Partial<FixtureFeature> = {}): FixtureFeature {
  return {
    name,
    type: 'release',
    description: null,
    project: 'default',
    enabled: true,
    stale: false,
    impressionData: false,
    strategies,
    variants: [],
    ...extra,
  };
}

/** [operator, context field, value(s)] — every operator the SDK's strategy.js knows, IN_CIDR included. */
const OPERATOR_CASES: Array<[string, string, string | string[]]> = [
  ['IN', 'plan', ['pro', 'enterprise']],
  ['NOT_IN', 'country', ['NO', 'SE']],
  ['STR_ENDS_WITH', 'email', ['@example.com', '@corp.io']],
  ['STR_STARTS_WITH', 'email', ['admin', 'test.']],
  ['STR_CONTAINS', 'email', ['7@', 'example']],
  ['NUM_EQ', 'age', '30'],
  ['NUM_GT', 'age', '30'],
  ['NUM_GTE', 'score', '2.5'],
  ['NUM_LT', 'age', '18'],
  ['NUM_LTE', 'score', '2.5'],
  ['DATE_AFTER', 'currentTime', '2025-06-01T00:00:00.000Z'],
  ['DATE_BEFORE', 'currentTime', '2026-01-01T00:00:00.000Z'],
  ['SEMVER_EQ', 'version', '2.0.0'],
  ['SEMVER_GT', 'version', '1.5.0'],
  ['SEMVER_LT', 'version', '2.0.0'],
  ['SEMVER_GTE', 'version', '2.0.0-beta.1'],
  ['SEMVER_LTE', 'version', '1.10.0'],
  ['REGEX', 'email', '^(user|admin)[0-9]*[02468]@'],
  ['IN_CIDR', 'remoteAddress', ['192.168.1.0/24', '10.0.0.0/8', '2001:db8::/32']],
];
const CASE_SENSITIVE_OPERATORS = new Set(['IN', 'STR_ENDS_WITH', 'STR_STARTS_WITH', 'STR_CONTAINS', 'REGEX']);
const upper = (v: string | string[]) => (Array.isArray(v) ? v.map((x) => x.toUpperCase()) : v.toUpperCase());

const HOSTNAME = (process.env.HOSTNAME || os.hostname() || 'undefined').toLowerCase();

const PAYLOAD_VARIANTS: FixtureVariant[] = [
  { name: 'str', weight: 250, weightType: 'variable', stickiness: 'default', payload: { type: 'string', value: 'hello' } },
  { name: 'json', weight: 250, weightType: 'variable', stickiness: 'default', payload: { type: 'json', value: '{"color":"blue","n":3}' } },
  { name: 'csv', weight: 250, weightType: 'variable', stickiness: 'default', payload: { type: 'csv', value: 'a,b,c' } },
  { name: 'num', weight: 250, weightType: 'variable', stickiness: 'default', payload: { type: 'number', value: '42' } },
];

export function buildFixture(): ClientPayload {
  const features: FixtureFeature[] = [
    // Built-in strategies.
    feature('st-default', [s('default')], { impressionData: true, description: 'always on' }),
    feature('st-no-strategies', []),
    feature('st-disabled', [s('default')], { enabled: false, variants: PAYLOAD_VARIANTS }),
    feature('st-user-with-id', [s('userWithId', { userIds: 'u1, u3,u5 ,u7,u42,nobody' })]),
    feature('st-flex-default', [s('flexibleRollout', { rollout: '50', stickiness: 'default', groupId: 'g-default' })]),
    feature('st-flex-userid', [s('flexibleRollout', { rollout: '30', stickiness: 'userId', groupId: 'g-user' })]),
    feature('st-flex-session', [s('flexibleRollout', { rollout: '70', stickiness: 'sessionId', groupId: 'g-session' })]),
    feature('st-flex-tenant', [s('flexibleRollout', { rollout: '40', stickiness: 'tenant', groupId: 'g-tenant' })]),
    feature('st-flex-no-group', [s('flexibleRollout', { rollout: '25', stickiness: 'userId' })]),
    feature('st-flex-random-0', [s('flexibleRollout', { rollout: '0', stickiness: 'random', groupId: 'r' })]),
    feature('st-flex-random-100', [s('flexibleRollout', { rollout: '100', stickiness: 'random', groupId: 'r' })]),
    feature('st-gradual-user', [s('gradualRolloutUserId', { percentage: '25', groupId: 'gu' })]),
    feature('st-gradual-session', [s('gradualRolloutSessionId', { percentage: '60', groupId: 'gs' })]),
    feature('st-gradual-random-0', [s('gradualRolloutRandom', { percentage: '0' })]),
    feature('st-gradual-random-100', [s('gradualRolloutRandom', { percentage: '100' })]),
    feature('st-remote-address', [s('remoteAddress', { IPs: '10.0.0.1, 192.168.1.0/24,2001:db8::1' })]),
    feature('st-hostname-match', [s('applicationHostname', { hostNames: `other-host,${HOSTNAME}` })]),
    feature('st-hostname-miss', [s('applicationHostname', { hostNames: 'not-this-host,nor-this-one' })]),
    feature('st-unknown-strategy', [s('myCustomStrategy', { foo: 'bar' })]),
    feature('st-multi', [
      s('userWithId', { userIds: 'u2,u4' }),
      s('flexibleRollout', { rollout: '10', stickiness: 'default', groupId: 'multi' }, { constraints: [c('plan', 'IN', ['free'])] }),
      s('remoteAddress', { IPs: '172.16.0.5' }),
    ]),
    // Constraints on the built-in context fields and several constraints in one strategy (all must hold).
    feature('ctx-user-in', [s('default', {}, { constraints: [c('userId', 'IN', ['u1', 'u10', 'u100', 'u200'])] })]),
    feature('ctx-app-name', [s('default', {}, { constraints: [c('appName', 'IN', ['web'])] })]),
    feature('ctx-environment', [s('default', {}, { constraints: [c('environment', 'NOT_IN', ['staging'])] })]),
    feature('ctx-and', [s('default', {}, { constraints: [c('plan', 'IN', ['free', 'pro']), c('age', 'NUM_GTE', '18'), c('version', 'SEMVER_LT', '3.0.0')] })]),
    feature('ctx-rollout-and-constraint', [
      s('flexibleRollout', { rollout: '50', stickiness: 'sessionId', groupId: 'rc' }, { constraints: [c('country', 'IN', ['NO', 'SE', 'DE'])] }),
    ]),
    // Segments.
    feature('seg-paying', [s('default', {}, { segments: [1] })]),
    feature('seg-two-and-constraint', [s('default', {}, { segments: [1, 2], constraints: [c('age', 'NUM_GT', '17')] })]),
    feature('seg-flex', [s('flexibleRollout', { rollout: '50', stickiness: 'userId', groupId: 'seg' }, { segments: [3] })]),
    feature('seg-everyone', [s('default', {}, { segments: [4] })]),
    feature('seg-nobody', [s('default', {}, { segments: [5] })]),
    feature('seg-either', [s('default', {}, { segments: [2] }), s('default', {}, { segments: [3] })]),
    // Feature variants.
    feature('var-payloads', [s('default')], { variants: PAYLOAD_VARIANTS }),
    feature('var-weights', [s('default')], {
      variants: [
        { name: 'fixed', weight: 100, weightType: 'fix', stickiness: 'default' },
        { name: 'a', weight: 450, weightType: 'variable', stickiness: 'default', payload: { type: 'string', value: 'A' } },
        { name: 'b', weight: 450, weightType: 'variable', stickiness: 'default' },
      ],
    }),
    feature('var-sticky-session', [s('default')], {
      variants: ['x', 'y', 'z'].map((name) => ({ name, weight: 333, weightType: 'variable' as const, stickiness: 'sessionId' })),
    }),
    feature('var-sticky-tenant', [s('default')], {
      variants: ['t1', 't2'].map((name) => ({ name, weight: 500, weightType: 'variable' as const, stickiness: 'tenant' })),
    }),
    feature('var-overrides', [s('default')], {
      variants: [
        { name: 'blue', weight: 500, stickiness: 'default', overrides: [{ contextName: 'userId', values: ['u1', 'u2', 'u3'] }] },
        {
          name: 'red',
          weight: 500,
          stickiness: 'default',
          overrides: [{ contextName: 'plan', values: ['enterprise'] }],
          payload: { type: 'json', value: '{"vip":true}' },
        },
        { name: 'never', weight: 0, stickiness: 'default', overrides: [{ contextName: 'country', values: ['BR'] }] },
      ],
    }),
    feature('var-zero-weight', [s('default')], { variants: [{ name: 'ghost', weight: 0, stickiness: 'default' }] }),
    feature('var-rollout', [s('flexibleRollout', { rollout: '50', stickiness: 'default', groupId: 'vr' })], { variants: PAYLOAD_VARIANTS }),
    // Strategy variants (they win over feature variants when their strategy matches).
    feature('svar-basic', [
      s(
        'flexibleRollout',
        { rollout: '100', stickiness: 'default', groupId: 'sv' },
        {
          variants: [
            { name: 'sv-a', weight: 500, weightType: 'variable', stickiness: 'default', payload: { type: 'string', value: 'strategy-a' } },
            { name: 'sv-b', weight: 500, weightType: 'variable', stickiness: 'default', payload: { type: 'csv', value: '1,2' } },
          ],
        },
      ),
    ]),
    feature(
      'svar-over-feature',
      [
        s(
          'default',
          {},
          {
            constraints: [c('plan', 'IN', ['pro'])],
            variants: [{ name: 'pro-variant', weight: 1000, stickiness: 'sessionId', payload: { type: 'number', value: '7' } }],
          },
        ),
        s('flexibleRollout', { rollout: '60', stickiness: 'sessionId', groupId: 'svf' }),
      ],
      { variants: PAYLOAD_VARIANTS },
    ),
    // Dependencies.
    feature('dep-parent-on', [s('default')]),
    feature('dep-parent-off', [s('default')], { enabled: false }),
    feature('dep-parent-rollout', [s('flexibleRollout', { rollout: '50', stickiness: 'sessionId', groupId: 'dp' })]),
    feature('dep-parent-variants', [s('default')], {
      variants: ['red', 'green'].map((name) => ({ name, weight: 500, weightType: 'variable' as const, stickiness: 'sessionId' })),
    }),
    feature('dep-child-of-on', [s('flexibleRollout', { rollout: '50', stickiness: 'userId', groupId: 'dc' })], {
      dependencies: [{ feature: 'dep-parent-on' }],
    }),
    feature('dep-child-of-rollout', [s('default')], { dependencies: [{ feature: 'dep-parent-rollout', enabled: true }] }),
    feature('dep-child-needs-parent-off', [s('default')], { dependencies: [{ feature: 'dep-parent-off', enabled: false }] }),
    feature('dep-child-needs-rollout-off', [s('default')], { dependencies: [{ feature: 'dep-parent-rollout', enabled: false }] }),
    feature('dep-child-of-disabled', [s('default')], { dependencies: [{ feature: 'dep-parent-off' }] }),
    feature('dep-child-variant', [s('default')], { variants: PAYLOAD_VARIANTS, dependencies: [{ feature: 'dep-parent-variants', variants: ['red'] }] }),
    feature('dep-child-two-parents', [s('default')], {
      dependencies: [{ feature: 'dep-parent-rollout' }, { feature: 'dep-parent-variants', variants: ['green'] }],
    }),
    feature('dep-grandchild', [s('default')], { dependencies: [{ feature: 'dep-child-of-rollout' }] }),
    feature('dep-missing-parent', [s('default')], { dependencies: [{ feature: 'no-such-parent' }] }),
    // Other flag-level fields.
    feature('misc-impression', [s('flexibleRollout', { rollout: '50', stickiness: 'default', groupId: 'imp' })], { impressionData: true }),
    feature('misc-other-project', [s('default', {}, { constraints: [c('plan', 'NOT_IN', ['free'])] })], {
      project: 'other',
      type: 'experiment',
      stale: true,
      description: 'in another project',
    }),
  ];
  for (const [op, field, value] of OPERATOR_CASES) {
    const name = `op-${op.toLowerCase().replaceAll('_', '-')}`;
    features.push(feature(name, [s('default', {}, { constraints: [c(field, op, value)] })]));
    features.push(feature(`${name}-inv`, [s('default', {}, { constraints: [c(field, op, value, { inverted: true })] })]));
    if (CASE_SENSITIVE_OPERATORS.has(op)) {
      features.push(feature(`${name}-ci`, [s('default', {}, { constraints: [c(field, op, upper(value), { caseInsensitive: true })] })]));
      features.push(feature(`${name}-ci-inv`, [s('default', {}, { constraints: [c(field, op, upper(value), { caseInsensitive: true, inverted: true })] })]));
    }
  }
  const segments: FixtureSegment[] = [
    { id: 1, name: 'paying', constraints: [c('plan', 'IN', ['pro', 'enterprise'])] },
    { id: 2, name: 'modern-clients', constraints: [c('version', 'SEMVER_GTE', '1.5.0')] },
    { id: 3, name: 'nordics-not-example', constraints: [c('country', 'IN', ['NO', 'SE']), c('email', 'STR_ENDS_WITH', ['@example.com'], { inverted: true })] },
    { id: 4, name: 'everyone', constraints: [] },
    { id: 5, name: 'nobody', constraints: [c('plan', 'IN', ['no-such-plan'])] },
  ];
  return { version: 2, features, segments };
}

/** Flags that must be on (or off) for every context: everything else must be mixed over the contexts. */
export const ALWAYS_ON = [
  'st-default',
  'st-no-strategies',
  'st-flex-random-100',
  'st-gradual-random-100',
  'st-hostname-match',
  'seg-everyone',
  'var-payloads',
  'var-weights',
  'var-sticky-session',
  'var-sticky-tenant',
  'var-overrides',
  'var-zero-weight',
  'svar-basic',
  'dep-parent-on',
  'dep-parent-variants',
  'dep-child-needs-parent-off',
];
export const ALWAYS_OFF = [
  'st-disabled',
  'st-flex-random-0',
  'st-gradual-random-0',
  'st-hostname-miss',
  'st-unknown-strategy',
  'seg-nobody',
  'dep-parent-off',
  'dep-child-of-disabled',
  'dep-grandchild',
  'dep-missing-parent',
];

/** A small deterministic PRNG, so every run evaluates the same contexts. */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const IPS = ['10.0.0.1', '10.1.2.3', '192.168.1.7', '192.168.2.7', '172.16.0.5', '127.0.0.1', '2001:db8::1', '2001:db8:1::5', '::1', 'fe80::1', 'not-an-ip'];
const VERSIONS = ['1.0.0', '1.2.3', '1.5.0', '1.10.0', '2.0.0', '2.0.0-beta.1', '2.0.0-beta.2', '2.0.1', '3.1.4', 'v2.0.0', 'not-a-version', '10.0.0'];
const AGES = ['17', '18', '30', '30.0', '45', '65', 'abc', '-1'];
const SCORES = ['0.5', '2.5', '2.50', '99.9', '1e2'];
const PLANS = ['free', 'pro', 'Pro', 'enterprise', 'ENTERPRISE'];
const COUNTRIES = ['NO', 'SE', 'DE', 'US', 'BR', 'no'];

export function generateContexts(count: number, seed = 20240601): Context[] {
  const rnd = mulberry32(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)]!;
  const contexts: Context[] = [];
  for (let i = 0; i < count; i++) {
    const emailUser = pick(['user', 'Admin', 'admin', 'test.', 'x']);
    const domain = pick(['example.com', 'Example.COM', 'corp.io', 'other.org']);
    // sessionId is always set, so "default" stickiness never falls back to a random number.
    const ctx: Context = { sessionId: `sess-${Math.floor(rnd() * 1e6)}` };
    if (rnd() < 0.75) ctx.userId = `u${i}`;
    if (rnd() < 0.9) ctx.remoteAddress = pick(IPS);
    if (rnd() < 0.4) ctx.appName = pick(['web', 'mobile']);
    if (rnd() < 0.4) ctx.environment = pick(['production', 'staging']);
    if (rnd() < 0.85) ctx.currentTime = new Date(Date.UTC(2024, 0, 1) + Math.floor(rnd() * 3 * 365 * 86_400_000));
    const properties: Record<string, string> = { tenant: `tenant-${i % 17}` };
    if (rnd() < 0.9) properties.email = `${emailUser}${i}@${domain}`;
    if (rnd() < 0.9) properties.version = pick(VERSIONS);
    if (rnd() < 0.9) properties.age = pick(AGES);
    if (rnd() < 0.9) properties.score = pick(SCORES);
    if (rnd() < 0.9) properties.plan = pick(PLANS);
    if (rnd() < 0.9) properties.country = pick(COUNTRIES);
    ctx.properties = properties;
    contexts.push(ctx);
  }
  return contexts;
}
