import { hostname } from 'node:os';
import type { ClientFeature, ClientSegment } from '../../../src/flags/client-feature.js';
import type { FlagSet } from './flag-sets.js';

/**
 * Flags written to sit on the edges of the stock SDK's rules, where a re-implementation would most
 * likely differ: operators it does not know, inverted constraints whose value cannot be parsed,
 * values that are empty or padded, pre-release versions, RE2-only syntax, malformed networks,
 * strategies it does not know, missing segments and parents, groupless rollouts, zero weights.
 */

type Raw = Record<string, any>;

const c = (contextName: string, operator: string, values: string[] | string, extra: Raw = {}): Raw =>
  Array.isArray(values) ? { contextName, operator, values, ...extra } : { contextName, operator, value: values, values: [], ...extra };

const flag = (name: string, strategies: Raw[], extra: Raw = {}): Raw => ({
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
});
const st = (name: string, parameters: Raw = {}, extra: Raw = {}): Raw => ({ name, parameters, constraints: [], ...extra });
const only = (...constraints: Raw[]) => [st('default', {}, { constraints })];
const payload = (value: string) => ({ type: 'string', value });

const constraintFlags: Raw[] = [
  flag('op.unknown', only(c('userId', 'NOT_A_VALID_OPERATOR', ['1']))),
  flag('op.unknown.inverted', only(c('userId', 'STR_MATCHES_SOMEHOW', ['1'], { inverted: true }))),
  flag('in.cleaned', only(c('plan', 'IN', ['', ' pro ', 'team']))),
  flag('not-in.inverted', only(c('plan', 'NOT_IN', ['free', ' '], { inverted: true }))),
  flag('in.empty-list', only(c('plan', 'NOT_IN', []))),
  flag('str.starts.ci', only(c('email', 'STR_STARTS_WITH', ['ADMIN', ' user'], { caseInsensitive: true }))),
  flag('str.ends', only(c('email', 'STR_ENDS_WITH', ['@example.com', '']))),
  flag('str.contains.spaces', only(c('email', 'STR_CONTAINS', ['   ']))),
  flag('str.contains.ci.inverted', only(c('email', 'STR_CONTAINS', ['Example'], { caseInsensitive: true, inverted: true }))),
  flag('num.empty', only(c('age', 'NUM_EQ', ''))),
  flag('num.nan.inverted', only(c('age', 'NUM_LT', 'abc', { inverted: true }))),
  flag('num.gte.float', only(c('age', 'NUM_GTE', '17.5'))),
  flag('num.lte.exp', only(c('age', 'NUM_LTE', '1e2'))),
  flag('semver.pre', only(c('version', 'SEMVER_GT', '2.0.0-beta.1'))),
  flag('semver.build', only(c('version', 'SEMVER_EQ', '1.0.0+build.5'))),
  flag('semver.invalid.inverted', only(c('version', 'SEMVER_LT', 'not.a.version', { inverted: true }))),
  flag('semver.lte.rc', only(c('version', 'SEMVER_LTE', '1.0.0-rc.1'))),
  flag('date.after', only(c('currentTime', 'DATE_AFTER', '2025-06-01T12:00:00.000Z'))),
  flag('date.before.offset', only(c('whatever', 'DATE_BEFORE', '2025-06-01T14:00:00+02:00'))),
  flag('date.invalid.inverted', only(c('currentTime', 'DATE_AFTER', 'yesterday', { inverted: true }))),
  flag('regex.invalid', only(c('email', 'REGEX', '(regex'))),
  flag('regex.invalid.inverted', only(c('email', 'REGEX', '(?<=x)y', { inverted: true }))),
  flag('regex.ci', only(c('email', 'REGEX', '^ADMIN\\d*@', { caseInsensitive: true }))),
  flag('regex.unicode', only(c('name', 'REGEX', '\\p{Greek}+'))),
  flag('cidr.mixed', only(c('remoteAddress', 'IN_CIDR', ['10.0.0.0/8', 'not-a-net', '2001:db8::/32', '192.168.1.7', '::1/128']))),
  flag('cidr.custom-field.inverted', only(c('ip', 'IN_CIDR', ['172.16.0.0/12'], { inverted: true }))),
];

const strategyFlags: Raw[] = [
  flag('strategy.unknown', [st('myCustomStrategy', { anything: 'x' })]),
  flag('strategy.unknown-then-default', [st('myCustomStrategy'), st('default', {}, { constraints: [c('plan', 'IN', ['pro'])] })]),
  flag('host.match', [st('applicationHostname', { hostNames: `other-host, ${hostname().toUpperCase()}` })]),
  flag('host.none', [st('applicationHostname', { hostNames: 'nowhere' })]),
  flag('address.list', [st('remoteAddress', { IPs: ' 10.1.2.3 ,192.168.0.0/16, bad-ip, 2001:db8::1, ::1' })]),
  flag('users.spaced', [st('userWithId', { userIds: ' 1, 2 ,3,user-4 ,  ' })]),
  flag('random.half', [st('gradualRolloutRandom', { percentage: '50' })]),
  flag('user.gradual', [st('gradualRolloutUserId', { percentage: '30', groupId: 'g-user' })]),
  flag('session.gradual.nogroup', [st('gradualRolloutSessionId', { percentage: '70' })]),
  flag('flex.random', [st('flexibleRollout', { rollout: '40', stickiness: 'random', groupId: 'flex.random' })]),
  flag('flex.custom', [st('flexibleRollout', { rollout: '55', stickiness: 'plan', groupId: 'flex.custom' })]),
  flag('flex.groupless', [st('flexibleRollout', { rollout: '45', stickiness: 'default' })]),
  flag('flex.nan', [st('flexibleRollout', { rollout: 'lots', stickiness: 'default', groupId: 'x' })]),
  flag('flex.fraction', [st('flexibleRollout', { rollout: '33.5', stickiness: 'sessionId', groupId: 'frac' })]),
  flag('flex.shared-group.a', [st('flexibleRollout', { rollout: '50', stickiness: 'userId', groupId: 'shared' })]),
  flag('flex.shared-group.b', [st('flexibleRollout', { rollout: '20', stickiness: 'userId', groupId: 'shared' })]),
  flag('no-strategies', []),
  flag('no-strategies.off', [], { enabled: false }),
  flag('Feature.UTF-8.😊_φriend_你好_🌍', [st('flexibleRollout', { rollout: '50', stickiness: 'default', groupId: 'Feature.UTF-8.😊_φriend_你好_🌍' })]),
];

const variantFlags: Raw[] = [
  flag('svar.groupless', [st('default', {}, { variants: [v('a', 500, { payload: payload('A') }), v('b', 500)] })]),
  flag('svar.stickiness-fallback', [
    st('flexibleRollout', { rollout: '100', stickiness: 'sessionId', groupId: 'sf' }, { variants: [v('x', 300, { stickiness: '' }), v('y', 700)] }),
  ]),
  flag('svar.zero-weights', [st('default', {}, { variants: [v('ghost', 0)] })], { variants: [v('flag-a', 1, { payload: payload('fa') }), v('flag-b', 3)] }),
  flag('svar.second-strategy', [st('userWithId', { userIds: '1' }, { variants: [v('vip', 100)] }), st('default', {}, { variants: [v('std', 100)] })]),
  flag('var.custom-stickiness', [st('default')], { variants: [v('p', 1, { stickiness: 'plan' }), v('q', 2, { stickiness: 'plan' })] }),
  flag('var.empty-stickiness', [st('default')], { variants: [v('e1', 50, { stickiness: '' }), v('e2', 50)] }),
  flag('var.overrides', [st('default')], {
    variants: [
      v('none', 0, { overrides: [{ contextName: 'plan', values: ['free'] }] }),
      v('by-user', 10, {
        overrides: [
          { contextName: 'userId', values: ['1', '2'] },
          { contextName: 'email', values: ['admin@example.com'] },
        ],
      }),
      v('rest', 990, { payload: { type: 'json', value: '{"a":[1,2]}' } }),
    ],
  }),
  flag('var.impressions', [st('default')], { impressionData: true, variants: [v('only', 1000, { payload: { type: 'number', value: '7' } })] }),
];

const dependencyFlags: Raw[] = [
  flag('dep.parent', [st('flexibleRollout', { rollout: '50', stickiness: 'default', groupId: 'dep.parent' })], { variants: [v('pa', 50), v('pb', 50)] }),
  flag('dep.parent.off', [st('default')], { enabled: false }),
  flag('dep.child', [st('default')], { dependencies: [{ feature: 'dep.parent' }] }),
  flag('dep.child.variant', [st('default')], { dependencies: [{ feature: 'dep.parent', variants: ['pb'] }] }),
  flag('dep.child.not', [st('default')], { dependencies: [{ feature: 'dep.parent', enabled: false }] }),
  flag('dep.child.of-off', [st('default')], { dependencies: [{ feature: 'dep.parent.off', enabled: false }] }),
  flag('dep.grandchild', [st('default')], { dependencies: [{ feature: 'dep.child' }] }),
  flag('dep.missing', [st('default')], { dependencies: [{ feature: 'no.such.flag' }] }),
  flag('dep.before-parent', [], { dependencies: [{ feature: 'dep.later-parent', variants: ['disabled'] }] }),
  flag('dep.later-parent', [st('default', {}, { constraints: [c('plan', 'IN', ['pro'])] })]),
];

const segmentFlags: Raw[] = [
  flag('seg.missing', [st('default', {}, { segments: [99] })]),
  flag('seg.empty-and-real', [st('default', {}, { segments: [1, 2] })]),
  flag('seg.shared.a', [st('flexibleRollout', { rollout: '60', stickiness: 'default', groupId: 'seg.shared' }, { segments: [2] })]),
  flag('seg.shared.b', [st('default', {}, { segments: [2, 3], constraints: [c('age', 'NUM_GT', '20')] })]),
];

function v(name: string, weight: number, extra: Raw = {}): Raw {
  return { name, weight, weightType: 'variable', stickiness: 'default', ...extra };
}

export function edgeCaseFlagSet(): FlagSet {
  const segments: Raw[] = [
    { id: 1, name: 'empty', constraints: [] },
    { id: 2, name: 'pro-or-modern', constraints: [c('plan', 'IN', ['pro', 'enterprise']), c('version', 'SEMVER_GTE', '1.5.0')] },
    { id: 3, name: 'unknown-op', constraints: [c('plan', 'NOT_A_VALID_OPERATOR', ['pro'], { inverted: true })] },
  ];
  return {
    name: 'edge cases',
    features: [...constraintFlags, ...strategyFlags, ...variantFlags, ...dependencyFlags, ...segmentFlags] as ClientFeature[],
    segments: segments as ClientSegment[],
    tests: [],
  };
}
