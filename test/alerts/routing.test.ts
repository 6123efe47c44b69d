import { describe, expect, it } from 'vitest';
import type { IncomingAlert } from '../../src/alerts/alert-model.js';
import { describeAlert, labelsFingerprint, noteOf, NOTE_LIMITS } from '../../src/alerts/alert-model.js';
import { alertmanagerPayloadSchema, genericAlertSchema } from '../../src/alerts/alert-schemas.js';
import { fromAlertmanager } from '../../src/alerts/incoming.js';
import { matches, parseMatcher, route, routingRuleSchema, type RoutingRule } from '../../src/alerts/routing-rules.js';
import { AM_FIRING } from './alertmanager-payloads.js';

const alert = (labels: Record<string, string>): IncomingAlert => ({
  source: 'alertmanager',
  fingerprint: 'f',
  identified: true,
  status: 'firing',
  startsAt: '2026-01-17T06:02:11.739Z',
  labels,
  annotations: {},
});
const rule = (r: Record<string, unknown>): RoutingRule => routingRuleSchema.parse(r);

describe('Alertmanager payload (issue 16)', () => {
  it('takes the documented webhook payload as Alertmanager sends it, extra fields included', () => {
    const parsed = alertmanagerPayloadSchema.parse({ ...AM_FIRING, orgId: 1, alerts: [{ ...AM_FIRING.alerts[0], silenceURL: 'http://x' }] });
    const [a] = fromAlertmanager(parsed);
    expect(a).toMatchObject({ source: 'alertmanager', fingerprint: '5a8e3c1f0b2d4e6f', status: 'firing', labels: { flag: 'checkout-alerted' } });
    // Nanoseconds and an offset, as Go writes them: the same instant to the millisecond.
    expect(a!.startsAt).toBe('2026-01-17T06:02:11.739Z');
  });

  it('names the field that is wrong, and bounds what it reads', () => {
    const bad = alertmanagerPayloadSchema.safeParse({ ...AM_FIRING, alerts: [{ ...AM_FIRING.alerts[0], status: 'burning' }] });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues[0]!.path).toEqual(['alerts', 0, 'status']);
    const noTime = alertmanagerPayloadSchema.safeParse({ ...AM_FIRING, alerts: [{ ...AM_FIRING.alerts[0], startsAt: 'yesterday' }] });
    expect(noTime.error!.issues[0]!.path).toEqual(['alerts', 0, 'startsAt']);
    const many = alertmanagerPayloadSchema.safeParse({ ...AM_FIRING, alerts: Array.from({ length: 1001 }, () => AM_FIRING.alerts[0]) });
    expect(many.error!.issues[0]!.path).toEqual(['alerts']);
    const longLabel = alertmanagerPayloadSchema.safeParse({ ...AM_FIRING, alerts: [{ ...AM_FIRING.alerts[0], labels: { flag: 'x'.repeat(2001) } }] });
    expect(longLabel.error!.issues[0]!.path).toEqual(['alerts', 0, 'labels', 'flag']);
  });

  it('gives an alert sent without a fingerprint one made of its labels, whatever their order', () => {
    const { fingerprint: _f, ...old } = AM_FIRING.alerts[0]!;
    const [a] = fromAlertmanager(alertmanagerPayloadSchema.parse({ ...AM_FIRING, alerts: [old] }));
    expect(a!.fingerprint).toBe(labelsFingerprint({ ...old.labels }));
    expect(labelsFingerprint({ a: '1', b: '2' })).toBe(labelsFingerprint({ b: '2', a: '1' }));
    expect(labelsFingerprint({ a: '1', b: '2' })).not.toBe(labelsFingerprint({ a: '1', b: '3' }));
  });

  it('keeps a bounded note of an alert for the history and the audit log', () => {
    const labels = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`l${String(i).padStart(2, '0')}`, 'v'.repeat(1000)]));
    const note = noteOf({ ...alert(labels), annotations: { summary: 's'.repeat(5000), description: 'short' }, generatorURL: 'http://g' });
    expect(Object.keys(note.labels)).toHaveLength(NOTE_LIMITS.labels);
    expect(Object.values(note.labels).every((v) => v.length <= NOTE_LIMITS.labelChars)).toBe(true);
    expect(note.summary!.length).toBeLessThanOrEqual(NOTE_LIMITS.textChars);
    expect(note).toMatchObject({ description: 'short', generatorURL: 'http://g', fingerprint: 'f', status: 'firing' });
    expect(describeAlert(alert({ alertname: 'HighLoad' }))).toBe('HighLoad (fingerprint f)');
  });
});

describe('generic alerts (issue 16)', () => {
  it('asks for exactly one of flag and release, naming the field', () => {
    const both = genericAlertSchema.safeParse({ flag: 'a', release: 'b', environment: 'production', action: 'pause', reason: 'r' });
    expect(both.error!.issues[0]).toMatchObject({ path: ['release'], message: 'exactly one of flag and release' });
    const neither = genericAlertSchema.safeParse({ environment: 'production', action: 'pause', reason: 'r' });
    expect(neither.error!.issues[0]!.path).toEqual(['flag']);
    expect(genericAlertSchema.safeParse({ flag: 'a', environment: 'production', action: 'stop', reason: 'r' }).error!.issues[0]!.path).toEqual(['action']);
  });
});

describe('routing rules (issue 16)', () => {
  it('reads matchers as Alertmanager writes them, regular expressions anchored (RE2)', () => {
    expect(parseMatcher('alertname="HighErrorRate"')).toEqual({ label: 'alertname', op: '=', value: 'HighErrorRate' });
    expect(parseMatcher(' service =~ checkout|cart ')).toEqual({ label: 'service', op: '=~', value: 'checkout|cart' });
    expect(parseMatcher('msg!="say \\"hi\\""')).toEqual({ label: 'msg', op: '!=', value: 'say "hi"' });
    const re = parseMatcher('service=~"checkout|cart"');
    expect(matches(re, { service: 'cart' })).toBe(true);
    expect(matches(re, { service: 'carts' })).toBe(false);
    expect(matches(parseMatcher('severity!="info"'), {})).toBe(true);
    expect(matches(parseMatcher('team!~"qa.*"'), { team: 'qa-east' })).toBe(false);
    expect(() => parseMatcher('service=~"(a"')).toThrow(/not an RE2 regular expression/);
    // Look-arounds are not RE2: refused rather than run with backtracking.
    expect(() => parseMatcher('service=~"(?=a)a"')).toThrow(/RE2/);
    expect(() => parseMatcher('no operator')).toThrow(/a matcher such as/);
  });

  it('refuses a rule naming nothing, or with a bad matcher, naming the field', () => {
    expect(routingRuleSchema.safeParse({ name: 'r', matchers: ['a="b"'] }).error!.issues[0]!.path).toEqual(['flags']);
    const bad = routingRuleSchema.safeParse({ name: 'r', matchers: ['a="b"', 'x=~"(("'], flags: ['f'] });
    expect(bad.error!.issues[0]!.path).toEqual(['matchers', 1]);
  });

  it('routes by the flag and release labels first, with the action label (default pause)', () => {
    const rules = [rule({ name: 'all', matchers: ['alertname=~".*"'], flags: ['other'], action: 'kill' })];
    expect(route(alert({ flag: 'f', environment: 'production' }), rules, ['production'])).toEqual({
      kind: 'directives',
      directives: [{ target: { kind: 'flag', name: 'f' }, environment: 'production', action: 'pause', via: 'labels' }],
    });
    const both = route(alert({ flag: 'f', release: 'r', environment: 'staging', action: 'rollback' }), [], ['staging']);
    expect(both.kind === 'directives' && both.directives.map((d) => [d.target.kind, d.action])).toEqual([
      ['flag', 'rollback'],
      ['release', 'rollback'],
    ]);
    expect(route(alert({ flag: 'f', environment: 'production', action: 'explode' }), [], ['production'])).toMatchObject({ kind: 'invalid' });
  });

  it("takes the token's only environment when the alert has no environment label, and refuses to guess among several", () => {
    const one = route(alert({ flag: 'f' }), [], ['staging']);
    expect(one.kind === 'directives' && one.directives[0]!.environment).toBe('staging');
    expect(route(alert({ flag: 'f' }), [], ['staging', 'production'])).toMatchObject({
      kind: 'invalid',
      reason: expect.stringMatching(/no environment label/),
    });
  });

  it('applies every matching rule, the strongest action per target, within the rule’s environments', () => {
    const rules = [
      rule({ name: 'errors', matchers: ['alertname="HighErrorRate"', 'service=~"checkout|cart"'], flags: ['checkout-v2', 'cart-v2'] }),
      rule({ name: 'p0', matchers: ['severity="P0"'], flags: ['checkout-v2'], releases: ['supplier-module'], action: 'kill' }),
      rule({ name: 'staging-only', matchers: ['alertname="HighErrorRate"'], environments: ['staging'], flags: ['staging-flag'] }),
    ];
    const routed = route(alert({ alertname: 'HighErrorRate', service: 'cart', severity: 'P0', environment: 'production' }), rules, ['production']);
    expect(routed.kind === 'directives' && routed.directives.map((d) => `${d.target.kind}:${d.target.name}:${d.action}:${d.via}`).sort()).toEqual([
      'flag:cart-v2:pause:rule errors',
      'flag:checkout-v2:kill:rule p0',
      'release:supplier-module:kill:rule p0',
    ]);
    expect(route(alert({ alertname: 'HighErrorRate', service: 'search', environment: 'production' }), rules, ['production'])).toMatchObject({
      kind: 'unrouted',
    });
  });
});
