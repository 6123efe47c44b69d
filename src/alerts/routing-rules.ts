import { RE2JS } from 're2js';
import { z } from 'zod';
import { environmentNameSchema, flagNameSchema } from '../flags/schema.js';
import '../validation/schema-errors.js';
import { ALERT_ACTIONS, ACTION_STRENGTH, type AlertAction, type AlertTarget, type Directive, type IncomingAlert } from './alert-model.js';

/**
 * Routing rules: which alerts act on which flags and releases, for alerts that do not name their
 * target in a `flag` or `release` label. Matchers are written as in Alertmanager's own routes
 * (`alertname="HighErrorRate"`, `service=~"checkout|cart"`, `severity!="info"`, `team!~"qa.*"`);
 * a regular expression matches the whole value. Every matcher of a rule must hold. Expressions are
 * RE2, as in Alertmanager (re2js): matching takes time linear in the value, whatever the expression.
 */

export const ALERT_ROUTES = 'alert-routes';

export const ROUTING_LIMITS = { rules: 100, matchers: 20, targets: 50, matcherChars: 500 } as const;

export interface Matcher {
  label: string;
  op: '=' | '!=' | '=~' | '!~';
  value: string;
}

const MATCHER = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$/s;

/** Parses `label op value`, the value bare or in double quotes (with \" and \\ inside). Throws with what is wrong. */
export function parseMatcher(text: string): Matcher {
  const m = MATCHER.exec(text);
  if (!m) throw new Error('a matcher such as alertname="HighErrorRate" or service=~"checkout|cart" (label, then = != =~ or !~, then a value)');
  const [, label, op, raw] = m as unknown as [string, string, Matcher['op'], string];
  let value = raw;
  if (raw.startsWith('"')) {
    if (raw.length < 2 || !raw.endsWith('"')) throw new Error('a quoted value must end with a quote');
    try {
      value = JSON.parse(raw) as string;
    } catch {
      throw new Error('a quoted value may escape only \\" and \\\\');
    }
  }
  if (op === '=~' || op === '!~') anchored(value); // throws on a bad expression
  return { label, op, value };
}

/** A matcher's expression matches the whole value, as in Alertmanager. */
function anchored(source: string): RE2JS {
  try {
    return RE2JS.compile(`^(?:${source})$`);
  } catch (err) {
    throw new Error(`not an RE2 regular expression: ${(err as Error).message.slice(0, 200)}`);
  }
}

export function matches(matcher: Matcher, labels: Record<string, string>): boolean {
  // A label that is absent reads as empty, so `severity!="info"` holds for an alert without one.
  const value = Object.hasOwn(labels, matcher.label) ? labels[matcher.label]! : '';
  switch (matcher.op) {
    case '=':
      return value === matcher.value;
    case '!=':
      return value !== matcher.value;
    case '=~':
      return anchored(matcher.value).matches(value);
    case '!~':
      return !anchored(matcher.value).matches(value);
  }
}

const matcherSchema = z
  .string()
  .min(1)
  .max(ROUTING_LIMITS.matcherChars)
  .superRefine((text, ctx) => {
    try {
      parseMatcher(text);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
    }
  });

export const routingRuleSchema = z
  .object({
    name: flagNameSchema,
    description: z.string().max(1000).optional(),
    matchers: z.array(matcherSchema).min(1).max(ROUTING_LIMITS.matchers),
    /** Only alerts of these environments (by default, any the alert token may name). */
    environments: z.array(environmentNameSchema).min(1).max(ROUTING_LIMITS.targets).optional(),
    flags: z.array(flagNameSchema).max(ROUTING_LIMITS.targets).default([]),
    releases: z.array(flagNameSchema).max(ROUTING_LIMITS.targets).default([]),
    action: z.enum(ALERT_ACTIONS).default('pause'),
  })
  .strict()
  .refine((r) => r.flags.length + r.releases.length > 0, { message: 'a rule names at least one flag or release', path: ['flags'] })
  .meta({ id: 'AlertRoute' });
export type RoutingRule = z.output<typeof routingRuleSchema>;

/** What an alert asks, or why it asks nothing that can be done. */
export type Routing = { kind: 'directives'; directives: Directive[] } | { kind: 'invalid'; reason: string } | { kind: 'unrouted'; reason: string };

/**
 * What one alert asks of whom. Its `flag` and `release` labels name targets directly (with its
 * `action` label, default pause); without either, every routing rule that matches contributes its
 * targets with its action. The environment is the alert's `environment` label, or the token's
 * only environment. A target named twice gets the strongest action asked (kill > rollback > pause).
 */
export function route(alert: IncomingAlert, rules: readonly RoutingRule[], tokenEnvironments: readonly string[]): Routing {
  const environment = alert.labels.environment ?? (tokenEnvironments.length === 1 ? tokenEnvironments[0] : undefined);
  if (!environment) return { kind: 'invalid', reason: 'no environment label, and the token is bound to more than one environment' };
  const named: AlertTarget[] = [
    ...(alert.labels.flag !== undefined ? [{ kind: 'flag' as const, name: alert.labels.flag }] : []),
    ...(alert.labels.release !== undefined ? [{ kind: 'release' as const, name: alert.labels.release }] : []),
  ];
  if (named.length > 0) {
    const action = alert.labels.action ?? 'pause';
    if (!(ALERT_ACTIONS as readonly string[]).includes(action))
      return { kind: 'invalid', reason: `the action label is "${action.slice(0, 60)}", not one of ${ALERT_ACTIONS.join(', ')}` };
    return { kind: 'directives', directives: named.map((target) => ({ target, environment, action: action as AlertAction, via: 'labels' })) };
  }
  const byTarget = new Map<string, Directive>();
  for (const rule of rules) {
    if (rule.environments && !rule.environments.includes(environment)) continue;
    if (!rule.matchers.every((m) => matches(parseMatcher(m), alert.labels))) continue;
    const targets: AlertTarget[] = [
      ...rule.flags.map((name) => ({ kind: 'flag' as const, name })),
      ...rule.releases.map((name) => ({ kind: 'release' as const, name })),
    ];
    for (const target of targets) {
      const key = `${target.kind}\u0000${target.name}`;
      const before = byTarget.get(key);
      if (!before || ACTION_STRENGTH[rule.action] > ACTION_STRENGTH[before.action])
        byTarget.set(key, { target, environment, action: rule.action, via: `rule ${rule.name}` });
    }
  }
  if (byTarget.size === 0) return { kind: 'unrouted', reason: 'no flag or release label, and no routing rule matches' };
  return { kind: 'directives', directives: [...byTarget.values()] };
}
